#include "model_commands.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <utility>

#include "ringtrain/app/model_checkpoints.h"
#include "ringtrain/app/object_checkpoints.h"
#include "ringtrain/app/sparse_worker.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/export/onnx.h"
#include "ringtrain/export/sparse_onnx.h"
#include "ringtrain/model/binary_metrics.h"
#include "ringtrain/model/model.h"
#include "ringtrain/model/sparse_model.h"
#include "ringtrain/ps/sparse_shard.h"

namespace ringtrain::cmd {
namespace {

// The checkpoint directory the command reads: the flag's, else the spec's.
StatusOr<std::string> CheckpointRoot(const job::TrainingJob& job, const std::string& flag) {
  if (!flag.empty()) return flag;
  if (job.spec.checkpoint) return app::LocalDirectoryOf(job.spec.checkpoint->path);
  return InvalidArgument(
      "the job has no spec.checkpoint: give the checkpoint directory with "
      "--checkpoint DIR");
}

// Loads the model and says where each shard came from.
StatusOr<app::CheckpointedModel> LoadAndReport(const job::TrainingJob& job, const std::string& flag,
                                               const storage::StorageOptions& storage,
                                               const std::string& staging_root, std::ostream& out) {
  app::CheckpointOptions where;
  RT_ASSIGN_OR_RETURN(where.directory, CheckpointRoot(job, flag));
  app::UseObjectStorage(&where, job, storage, staging_root);
  RT_ASSIGN_OR_RETURN(app::CheckpointedModel model, app::LoadModelFromCheckpoints(job, where));
  for (const app::ShardSource& s : model.shards) {
    for (const std::string& why : s.skipped)
      out << "ps-" << s.server << ": skipped " << why << "\n";
    out << "ps-" << s.server << ": " << s.checkpoint.path << " (step " << s.step
        << (s.final ? ", final" : ", not final") << ")\n";
  }
  if (model.min_step() != model.max_step()) {
    out << "note: the shards are of steps " << model.min_step() << " to " << model.max_step()
        << " (servers checkpoint on their own; the final checkpoints agree)\n";
  }
  return model;
}

}  // namespace

app::ModelWriter OnnxModelWriter(const job::TrainingJob& job) {
  return [options = exporter::OnnxOptionsFor(job)](
             const app::JobPlan& plan, std::span<const float> params, const std::string& path) {
    return exporter::WriteOnnxFile(path, plan.model, params, options);
  };
}

namespace {

// Writes `model` (a sparse model's keys and rows, which it must outlive) as the sparse ONNX
// export; the writer's params are its dense parameters.
app::ModelWriter SparseOnnxModelWriter(const job::TrainingJob& job,
                                       const app::CheckpointedModel& model) {
  return [options = exporter::SparseOnnxOptionsFor(job), &model](
             const app::JobPlan& plan, std::span<const float> params, const std::string& path) {
    exporter::SparseModelExport e;
    e.config = *plan.sparse_model;
    e.dense.assign(params.begin(), params.end());
    e.keys = model.sparse_keys;
    e.rows = model.sparse_rows;
    return exporter::WriteSparseOnnxFile(path, e, options);
  };
}

}  // namespace

Status ExportFromCheckpoints(const job::TrainingJob& job, const ExportOptions& options,
                             std::ostream& out) {
  RT_ASSIGN_OR_RETURN(
      app::CheckpointedModel model,
      LoadAndReport(job, options.checkpoint_root, options.storage, options.staging_root, out));
  std::string path = options.output_file;
  storage::Storage storage(app::StorageOptionsFor(job.spec.dataset, options.storage));
  const std::string staging = app::JoinLocation(options.staging_root, "model");
  app::ModelWriter writer = OnnxModelWriter(job);
  std::string what = model::ModelKindName(model.plan.model.kind);
  if (model.plan.sparse_model.has_value()) {
    writer = SparseOnnxModelWriter(job, model);
    what = std::string(model::SparseModelKindName(model.plan.sparse_model->kind)) + " model of " +
           std::to_string(model.sparse_keys.size()) + " keys";
  } else {
    what += " model";
  }
  if (path.empty()) {
    std::string dir = app::OutputDirectoryOf(job);
    if (dir.empty()) dir = app::DefaultOutputDirectory(job);
    RT_ASSIGN_OR_RETURN(
        path, app::WriteModelInto(dir, writer, model.plan, model.params, storage, staging));
  } else {
    RT_RETURN_IF_ERROR(app::WriteModelTo(path, writer, model.plan, model.params, storage, staging));
  }
  if (!app::IsObjectLocation(path)) path = std::filesystem::absolute(path).string();
  out << "wrote " << path << " (ONNX, " << what << ", step " << model.max_step()
      << (model.final() ? ", final" : "") << ")\n";
  return Status::Ok();
}

namespace {

// `ringtrain eval` of a click-through model: the test set's AUC and log-loss, each key read as
// its servers would serve it (its row, or its initial value when it has none), so the figures
// are those the job's last evaluation reported for the same checkpoint.
Status EvaluateSparse(const job::TrainingJob& job, const app::CheckpointedModel& model,
                      const EvalOptions& options, std::ostream& out) {
  if (!options.test.images.empty() || !options.test.labels.empty()) {
    return InvalidArgument(
        "--test-images/--test-labels name IDX files; a click-through job is evaluated on its "
        "spec.dataset.test.uri");
  }
  if (!job.spec.dataset.test) return InvalidArgument("the job has no spec.dataset.test");
  storage::Storage storage(app::StorageOptionsFor(job.spec.dataset, options.storage));
  StatusOr<data::SparseBatch> test =
      app::ReadSparseRows(&storage, job.spec.dataset, job.spec.dataset.test->uri);
  if (!test.ok()) return test.status().WithContext("spec.dataset.test");
  if (test->rows() == 0) return InvalidArgument("spec.dataset.test: no examples");
  RT_ASSIGN_OR_RETURN(std::unique_ptr<model::SparseModel> m,
                      model::MakeSparseModel(*model.plan.sparse_model));
  model::BatchKeys keys;
  model::IndexKeys(*test, &keys);
  const auto dim = static_cast<size_t>(m->row_dim());
  std::vector<float> rows(keys.keys.size() * dim);
  size_t at = 0;  // both ascending: one merge pass
  for (size_t k = 0; k < keys.keys.size(); ++k) {
    while (at < model.sparse_keys.size() && model.sparse_keys[at] < keys.keys[k]) ++at;
    const std::span<float> row(rows.data() + k * dim, dim);
    if (at < model.sparse_keys.size() && model.sparse_keys[at] == keys.keys[k]) {
      std::copy_n(model.sparse_rows.begin() + static_cast<std::ptrdiff_t>(at * dim), dim,
                  row.begin());
    } else {
      ps::InitialValue(model.plan.seed, 0, keys.keys[k], model.plan.sparse_init_scale, row);
    }
  }
  std::vector<float> logits;
  m->Logits(model.params.data(), rows, *test, keys, &logits);
  double loss = 0;
  for (size_t r = 0; r < logits.size(); ++r) loss += model::LogLoss(logits[r], test->labels[r]);
  char line[160];
  std::snprintf(line, sizeof(line), "test AUC %.4f, test log-loss %.4f (%lld examples)\n",
                model::Auc(logits, test->labels), loss / static_cast<double>(logits.size()),
                static_cast<long long>(logits.size()));
  out << job.metadata.name << " at step " << model.max_step() << (model.final() ? " (final)" : "")
      << ": " << line;
  return Status::Ok();
}

}  // namespace

Status EvaluateCheckpoints(const job::TrainingJob& job, const EvalOptions& options,
                           std::ostream& out) {
  if (job::IsSparseModel(job.spec.model.type)) {
    RT_ASSIGN_OR_RETURN(
        app::CheckpointedModel model,
        LoadAndReport(job, options.checkpoint_root, options.storage, options.staging_root, out));
    return EvaluateSparse(job, model, options, out);
  }
  job::DataFiles files = options.test;
  std::string field = "--test-images/--test-labels";
  const bool text = app::IsTextFormat(job.spec.dataset);
  if (text && (!files.images.empty() || !files.labels.empty())) {
    return InvalidArgument(std::string("--test-images/--test-labels name IDX files; a ") +
                           job::Name(job.spec.dataset.format) +
                           " job is evaluated on its spec.dataset.test.uri");
  }
  if (files.images.empty() && files.labels.empty()) {
    if (!job.spec.dataset.test) {
      return InvalidArgument(
          "the job has no spec.dataset.test: give --test-images and "
          "--test-labels");
    }
    files = *job.spec.dataset.test;
    field = "spec.dataset.test";
  } else if (files.images.empty() || files.labels.empty()) {
    return InvalidArgument("give both --test-images and --test-labels");
  }
  RT_ASSIGN_OR_RETURN(
      app::CheckpointedModel model,
      LoadAndReport(job, options.checkpoint_root, options.storage, options.staging_root, out));
  data::Dataset test;
  if (text) {
    storage::Storage storage(app::StorageOptionsFor(job.spec.dataset, options.storage));
    RT_ASSIGN_OR_RETURN(data::TextShard shard,
                        app::LoadTextShard(storage, job.spec.dataset, files.uri, 1, 0, field));
    test = std::move(shard.rows);
  } else {
    RT_ASSIGN_OR_RETURN(test, app::LoadDataFiles(files, field));
  }
  if (test.cols() != model.plan.model.input_dim) {
    return InvalidArgument(field + ": examples of " + std::to_string(test.cols()) +
                           " features, the model takes " +
                           std::to_string(model.plan.model.input_dim));
  }
  RT_ASSIGN_OR_RETURN(std::unique_ptr<model::Model> m, model::MakeModel(model.plan.model));
  const model::EvalResult r = m->Evaluate(model.params.data(), data::View(test, {0, test.rows()}));
  if (r.count == 0) return InvalidArgument(field + ": no examples");
  char line[160];
  std::snprintf(line, sizeof(line), "test accuracy %.4f (%lld/%lld), test loss %.4f\n",
                static_cast<double>(r.correct) / static_cast<double>(r.count),
                static_cast<long long>(r.correct), static_cast<long long>(r.count),
                r.loss_sum / static_cast<double>(r.count));
  out << job.metadata.name << " at step " << model.max_step() << (model.final() ? " (final)" : "")
      << ": " << line;
  return Status::Ok();
}

}  // namespace ringtrain::cmd
