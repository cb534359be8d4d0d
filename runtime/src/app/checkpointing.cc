#include "ringtrain/app/checkpointing.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "ringtrain/app/object_checkpoints.h"
#include "ringtrain/app/output.h"
#include "ringtrain/app/wiring.h"
#include "ringtrain/ckpt/async_writer.h"
#include "ringtrain/ckpt/store.h"
#include "ringtrain/common/hash.h"
#include "ringtrain/model/model.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/shard_checkpoint.h"

namespace ringtrain::app {

CheckpointOptions CheckpointOptionsFor(const job::TrainingJob& job) {
  CheckpointOptions options;
  if (!job.spec.checkpoint) return options;
  const job::CheckpointSpec& spec = *job.spec.checkpoint;
  options.directory = LocalDirectoryOf(spec.path);
  options.every_steps = spec.every_steps;
  options.every = std::chrono::seconds(spec.every_seconds);
  options.keep = spec.keep;
  return options;
}

void UseObjectStorage(CheckpointOptions* options, const job::TrainingJob& job,
                      const storage::StorageOptions& from_environment,
                      const std::string& staging_root) {
  if (!IsObjectLocation(options->directory)) return;
  options->storage =
      std::make_shared<storage::Storage>(StorageOptionsFor(job.spec.dataset, from_environment));
  options->staging = JoinLocation(staging_root, job.metadata.name);
}

namespace {
std::string ShardDirectory(const CheckpointOptions& options, const std::string& job, int index) {
  return JoinLocation(JoinLocation(options.directory, job), "ps-" + std::to_string(index));
}
}  // namespace

StatusOr<std::unique_ptr<ckpt::Store>> OpenShardStore(const CheckpointOptions& options,
                                                      const std::string& job, int server_index,
                                                      bool read_only) {
  const std::string directory = ShardDirectory(options, job, server_index);
  if (!IsObjectLocation(options.directory)) {
    if (read_only) return ckpt::Store::OpenReadOnly(directory);
    return ckpt::Store::Open({directory, options.keep, nullptr});
  }
  if (options.storage == nullptr || options.staging.empty()) {
    return FailedPrecondition("checkpoints in " + directory +
                              ": no object storage to reach them with (a bug: UseObjectStorage)");
  }
  auto objects = std::make_shared<StorageDirectory>(options.storage, directory);
  const std::string staging = JoinLocation(options.staging, "ps-" + std::to_string(server_index));
  if (read_only) return ckpt::Store::OpenReadOnly(staging, std::move(objects));
  return ckpt::Store::Open({staging, options.keep, std::move(objects)});
}

Status ValidateCheckpointOptions(const CheckpointOptions& o) {
  if (!o.enabled()) return Status::Ok();
  if (o.keep < 1) {
    return InvalidArgument("checkpoint keep: must be >= 1 (got " + std::to_string(o.keep) + ")");
  }
  if (o.every_steps < 0 || o.every.count() < 0) {
    return InvalidArgument("checkpoint period: must not be negative");
  }
  if (o.every_steps == 0 && o.every.count() == 0) {
    return InvalidArgument("checkpoint period: set every steps, every seconds, or both");
  }
  return Status::Ok();
}

uint64_t ModelFingerprint(const JobPlan& plan) {
  Hasher h;
  h.AddString("ringtrain-model-v1");
  h.AddString(model::ModelKindName(plan.model.kind));
  h.AddI64(plan.model.input_dim);
  h.AddI64(plan.model.num_classes);
  h.AddI64(static_cast<int64_t>(plan.model.hidden_layers.size()));
  for (int width : plan.model.hidden_layers) h.AddI64(width);
  if (plan.sparse_model.has_value()) {
    // Only for a sparse model: a dense model's fingerprint stays what older checkpoints hold.
    const model::SparseModelConfig& m = *plan.sparse_model;
    h.AddString(model::SparseModelKindName(m.kind));
    h.AddI64(m.embedding_size);
    h.AddI64(m.num_fields);
    h.AddI64(static_cast<int64_t>(m.hidden_layers.size()));
    for (int width : m.hidden_layers) h.AddI64(width);
  }
  return h.Finish();
}

ckpt::ShardIdentity ShardIdentityFor(const JobPlan& plan, const ps::ServerCore& core) {
  return ps::ShardIdentityOf(core.config(), ModelFingerprint(plan),
                             optim::OptimizerKindName(plan.optimizer.kind));
}

StatusOr<ckpt::ShardIdentity> ShardIdentityFor(const JobPlan& plan, int server_index) {
  RT_ASSIGN_OR_RETURN(ps::ServerCoreConfig config, ServerCoreConfigFor(plan, server_index));
  return ps::ShardIdentityOf(config, ModelFingerprint(plan),
                             optim::OptimizerKindName(plan.optimizer.kind));
}

std::string JobCheckpointDirectory(const CheckpointOptions& options, const std::string& job) {
  return JoinLocation(options.directory, job);
}

std::string ShardCheckpointDirectory(const CheckpointOptions& options, const JobPlan& plan,
                                     int server_index) {
  return ShardDirectory(options, plan.job_name, server_index);
}

StatusOr<std::optional<ps::RestoredCheckpoint>> RestoreShard(const CheckpointOptions& options,
                                                             const JobPlan& plan,
                                                             ps::ServerCore* core) {
  RT_ASSIGN_OR_RETURN(
      std::unique_ptr<ckpt::Store> store,
      OpenShardStore(options, plan.job_name, core->config().server_index, /*read_only=*/false));
  StatusOr<ps::RestoredCheckpoint> restored =
      ps::RestoreLatest(*store, ShardIdentityFor(plan, *core), core);
  if (restored.status().code() == StatusCode::kNotFound) {
    return std::optional<ps::RestoredCheckpoint>();
  }
  if (restored.status().code() == StatusCode::kFailedPrecondition ||
      restored.status().code() == StatusCode::kDataLoss) {
    return FailedPrecondition(
        restored.status().message() + " — these checkpoints cannot continue job \"" +
        plan.job_name + "\"; to train it from scratch, delete " +
        JobCheckpointDirectory(options, plan.job_name) +
        " (ringtrain run --fresh does) or point spec.checkpoint.path elsewhere");
  }
  if (!restored.ok()) return restored.status();
  return std::optional<ps::RestoredCheckpoint>(std::move(restored).value());
}

StatusOr<std::optional<FinishedJob>> FindFinishedJob(const CheckpointOptions& options,
                                                     const JobPlan& plan) {
  FinishedJob finished;
  finished.directory = JobCheckpointDirectory(options, plan.job_name);
  for (int i = 0; i < plan.num_ps; ++i) {
    StatusOr<std::unique_ptr<ckpt::Store>> store =
        OpenShardStore(options, plan.job_name, i, /*read_only=*/true);
    if (store.status().code() == StatusCode::kNotFound) return std::optional<FinishedJob>();
    RT_RETURN_IF_ERROR(store.status());
    RT_ASSIGN_OR_RETURN(std::vector<ckpt::CheckpointRef> refs, (*store)->List());
    if (refs.empty()) return std::optional<FinishedJob>();
    // The newest only: a damaged one is the restore's business (it falls back, and says so).
    StatusOr<ckpt::Manifest> m = (*store)->ReadManifest(refs.front());
    if (!m.ok() || !m->final || m->job != plan.job_name ||
        m->model_fingerprint != ModelFingerprint(plan)) {
      return std::optional<FinishedJob>();
    }
    finished.step = std::max(finished.step, m->step);
  }
  return std::optional<FinishedJob>(finished);
}

Status FinishedJobError(const FinishedJob& finished, const std::string& job) {
  return FailedPrecondition("job \"" + job +
                            "\" has already finished: its final checkpoints (step " +
                            std::to_string(finished.step) + ") are in " + finished.directory +
                            "; to train it again from scratch, delete them (ringtrain run --fresh "
                            "does) or point spec.checkpoint.path elsewhere");
}

Status RemoveJobCheckpoints(const CheckpointOptions& options, const std::string& job) {
  const std::string dir = JobCheckpointDirectory(options, job);
  if (IsObjectLocation(dir)) {
    if (options.storage == nullptr) {
      return FailedPrecondition("checkpoints in " + dir + ": no object storage to reach them with");
    }
    return DeleteObjectsBeneath(options.storage, dir)
        .WithContext("removing the checkpoints in " + dir);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return Unavailable("removing the checkpoints in " + dir + ": " + ec.message());
  return Status::Ok();
}

StatusOr<std::unique_ptr<ps::ServerCheckpointer>> MakeServerCheckpointer(
    const CheckpointOptions& options, const JobPlan& plan, const ps::ServerCore& core,
    CheckpointerHooks hooks) {
  RT_RETURN_IF_ERROR(ValidateCheckpointOptions(options));
  RT_ASSIGN_OR_RETURN(
      std::unique_ptr<ckpt::Store> store,
      OpenShardStore(options, plan.job_name, core.config().server_index, /*read_only=*/false));
  RT_ASSIGN_OR_RETURN(std::unique_ptr<ckpt::AsyncWriter> writer,
                      ckpt::AsyncWriter::Start(std::move(store), ShardIdentityFor(plan, core)));
  ps::CheckpointPolicy policy;
  policy.every_steps = options.every_steps;
  policy.every = std::chrono::duration_cast<std::chrono::milliseconds>(options.every);
  policy.log = std::move(hooks.log);
  policy.written = std::move(hooks.written);
  policy.restored = std::move(hooks.restored);
  return ps::ServerCheckpointer::Make(std::move(policy), std::move(writer));
}

ps::LastCheckpoint LastCheckpointOf(const ps::RestoredCheckpoint& restored) {
  ps::LastCheckpoint c;
  c.step = restored.manifest.step;
  c.unix_ms = restored.manifest.created_unix_ms;
  c.path = restored.ref.path;
  c.final = restored.manifest.final;
  return c;
}

proto::CheckpointInfo CheckpointInfoOf(const ps::LastCheckpoint& checkpoint) {
  proto::CheckpointInfo info;
  info.set_step(checkpoint.step);
  info.set_unix_ms(checkpoint.unix_ms);
  info.set_location(checkpoint.path);
  info.set_final(checkpoint.final);
  return info;
}

proto::StatusReply ServerStatusReply(const ps::ServerCheckpointer* checkpointer) {
  proto::StatusReply reply;
  if (checkpointer == nullptr) return reply;
  if (std::optional<ps::LastCheckpoint> last = checkpointer->last_checkpoint()) {
    *reply.mutable_checkpoint() = CheckpointInfoOf(*last);
  }
  return reply;
}

}  // namespace ringtrain::app
