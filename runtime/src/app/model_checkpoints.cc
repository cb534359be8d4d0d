#include "ringtrain/app/model_checkpoints.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <utility>

#include "ringtrain/app/checkpointing.h"

namespace ringtrain::app {

bool CheckpointedModel::final() const {
  return !shards.empty() &&
         std::all_of(shards.begin(), shards.end(), [](const ShardSource& s) { return s.final; });
}

int64_t CheckpointedModel::min_step() const {
  int64_t step = INT64_MAX;
  for (const ShardSource& s : shards) step = std::min(step, s.step);
  return shards.empty() ? 0 : step;
}

int64_t CheckpointedModel::max_step() const {
  int64_t step = 0;
  for (const ShardSource& s : shards) step = std::max(step, s.step);
  return step;
}

StatusOr<CheckpointedModel> LoadModelFromCheckpoints(JobPlan plan, const std::string& root) {
  CheckpointOptions where;
  where.directory = root;
  return LoadModelFromCheckpoints(std::move(plan), where);
}

StatusOr<CheckpointedModel> LoadModelFromCheckpoints(JobPlan plan, const CheckpointOptions& where) {
  CheckpointedModel model;
  model.params.assign(static_cast<size_t>(plan.table->total_size()), 0.0f);
  // Every partition must come from exactly one shard; the identities make it so, this proves it.
  std::vector<bool> filled(plan.table->partitions().size(), false);
  std::vector<uint64_t> keys;  // a sparse model's rows, in the order the shards give them
  std::vector<float> values;
  for (int server = 0; server < plan.num_ps; ++server) {
    ShardSource source;
    source.server = server;
    source.directory = ShardCheckpointDirectory(where, plan, server);
    const std::string who = "ps-" + std::to_string(server);
    RT_ASSIGN_OR_RETURN(ckpt::ShardIdentity expected, ShardIdentityFor(plan, server));
    StatusOr<std::unique_ptr<ckpt::Store>> store =
        OpenShardStore(where, plan.job_name, server, /*read_only=*/true);
    if (!store.ok()) return store.status().WithContext(who);
    StatusOr<ckpt::LoadedCheckpoint> loaded = (*store)->LoadLatest(expected);
    if (!loaded.ok()) return loaded.status().WithContext(who);
    for (const ckpt::PartitionSnapshot& p : loaded->state.partitions) {
      const ring::Partition& part = plan.table->partition(p.id);
      if (filled[p.id] || static_cast<int64_t>(p.params.size()) != part.size) {
        return Internal(who + ": " + loaded->ref.path + " repeats partition " +
                        std::to_string(p.id) + " or gives it the wrong size");
      }
      filled[p.id] = true;
      std::copy(p.params.begin(), p.params.end(),
                model.params.begin() + static_cast<std::ptrdiff_t>(part.offset));
    }
    if (loaded->state.sparse.has_value()) {
      // One table (kSparseTableName); each row is its value, then the optimizer's state.
      for (const ckpt::SparseTableSnapshot& t : loaded->state.sparse->tables) {
        const size_t dim = t.dim;
        const size_t width = dim * static_cast<size_t>(1 + expected.state_slots);
        for (size_t k = 0; k < t.keys.size(); ++k) {
          keys.push_back(t.keys[k]);
          values.insert(values.end(), t.rows.begin() + static_cast<std::ptrdiff_t>(k * width),
                        t.rows.begin() + static_cast<std::ptrdiff_t>(k * width + dim));
        }
      }
    }
    source.checkpoint = loaded->ref;
    source.step = loaded->manifest.step;
    source.final = loaded->manifest.final;
    source.skipped = std::move(loaded->skipped);
    model.shards.push_back(std::move(source));
  }
  for (size_t id = 0; id < filled.size(); ++id) {
    if (!filled[id]) {
      return Internal("no checkpoint holds partition " + std::to_string(id) +
                      " (the shards do not cover the model)");
    }
  }
  if (plan.sparse_model.has_value() && !plan.table->sparse().empty()) {
    // Ascending keys; a key on two servers would be a placement bug (each bucket has one owner).
    const size_t dim = static_cast<size_t>(plan.table->sparse().tables()[0].dim);
    std::vector<size_t> order(keys.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
    model.sparse_keys.reserve(keys.size());
    model.sparse_rows.reserve(values.size());
    for (size_t i : order) {
      if (!model.sparse_keys.empty() && model.sparse_keys.back() == keys[i]) {
        return Internal("two shards hold key " + std::to_string(keys[i]));
      }
      model.sparse_keys.push_back(keys[i]);
      model.sparse_rows.insert(model.sparse_rows.end(),
                               values.begin() + static_cast<std::ptrdiff_t>(i * dim),
                               values.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim));
    }
  }
  model.plan = std::move(plan);
  return model;
}

StatusOr<CheckpointedModel> LoadModelFromCheckpoints(const job::TrainingJob& job,
                                                     const std::string& root) {
  CheckpointOptions where;
  where.directory = root;
  return LoadModelFromCheckpoints(job, where);
}

StatusOr<CheckpointedModel> LoadModelFromCheckpoints(const job::TrainingJob& job,
                                                     const CheckpointOptions& where) {
  RT_ASSIGN_OR_RETURN(DatasetShape shape, ReadDatasetShape(job.spec));
  RT_ASSIGN_OR_RETURN(JobPlan plan, MakeJobPlan(job, shape));
  return LoadModelFromCheckpoints(std::move(plan), where);
}

}  // namespace ringtrain::app
