#include "ringtrain/app/sparse_worker.h"

#include <algorithm>
#include <fstream>
#include <iostream>

#include "ringtrain/app/header_check.h"
#include "ringtrain/app/output.h"
#include "ringtrain/app/wiring.h"
#include "ringtrain/data/sparse_data.h"
#include "ringtrain/data/sparse_stream.h"
#include "ringtrain/model/sparse_model.h"
#include "ringtrain/transport/status_server.h"
#include "ringtrain/worker/progress_recorder.h"
#include "ringtrain/worker/sparse_trainer.h"

namespace ringtrain::app {
namespace {

std::vector<data::FeatureField> FeatureSchemaOf(const job::DatasetSpec& dataset) {
  std::vector<data::FeatureField> fields;
  for (const job::FeatureFieldSpec& f : dataset.fields) {
    data::FeatureField field{.column = f.column};
    field.kind = f.type == job::FeatureType::kNumeric ? data::FeatureKind::kNumeric
                                                      : data::FeatureKind::kCategorical;
    field.separator = f.separator;
    field.combiner = f.combiner == job::Combiner::kSum ? data::FeatureCombiner::kSum
                                                       : data::FeatureCombiner::kMean;
    field.buckets = f.buckets;
    field.hash_space = static_cast<uint64_t>(f.hash_space);
    fields.push_back(std::move(field));
  }
  return fields;
}

}  // namespace

StatusOr<data::SparseBatch> ReadSparseRows(storage::Storage* storage,
                                           const job::DatasetSpec& dataset,
                                           const std::string& uri) {
  if (dataset.format == job::DataFormat::kCsv) {
    const std::vector<data::FeatureField> fields = FeatureSchemaOf(dataset);
    return data::ReadSparseCsv(storage, uri, fields, dataset.label_column);
  }
  if (dataset.format == job::DataFormat::kCriteo) return data::ReadSparseCriteo(storage, uri);
  return data::ReadSparseLibsvm(storage, uri);
}

Status TrainSparseWorker(const job::PodContract& c, const job::TrainingJob& job,
                         const WorkerOptions& worker_options, zmq::context_t& context,
                         transport::EventSink& sink,
                         std::shared_ptr<const auth::Credentials> credentials) {
  const job::TrainingJobSpec& spec = job.spec;
  const std::string who = "worker-" + std::to_string(c.index);
  if (c.index == 0 && !OutputDirectoryFor(job, c).empty() && !spec.checkpoint.has_value()) {
    std::cerr << who << ": model.type " << job::Name(spec.model.type)
              << ": the model is not written to spec.output (its rows are on the servers); "
                 "`ringtrain export` writes it from the job's checkpoints: set spec.checkpoint\n";
  }
  storage::Storage storage(StorageOptionsFor(spec.dataset, worker_options.storage));
  // The counting pass: the rows of this worker's share (its steps per epoch) before it trains;
  // the share is then streamed, each epoch.
  const data::TextShardOptions text_options = TextShardOptionsFor(
      spec.dataset, spec.dataset.train.uri, c.num_workers, c.index, spec.model.type);
  RT_ASSIGN_OR_RETURN(const data::TextShardPlan share,
                      PlanWorkerShare(storage, spec.dataset, text_options, who));
  std::optional<data::SparseBatch> test;
  if (c.index == 0 && spec.dataset.test.has_value()) {
    StatusOr<data::SparseBatch> t = ReadSparseRows(&storage, spec.dataset, spec.dataset.test->uri);
    if (!t.ok()) return t.status().WithContext("spec.dataset.test");
    test = std::move(*t);
  }
  DatasetShape shape = ReadDatasetShape(spec).value();
  shape.train_rows = share.records;
  RT_ASSIGN_OR_RETURN(JobPlan plan, MakeJobPlan(job, shape));
  RT_RETURN_IF_ERROR(CheckContract(c, plan));
  RT_RETURN_IF_ERROR(
      CheckHeadersFit(plan, std::all_of(c.ps_endpoints.begin(), c.ps_endpoints.end(), OnThisHost)));
  RT_ASSIGN_OR_RETURN(std::unique_ptr<model::SparseModel> model,
                      model::MakeSparseModel(*plan.sparse_model));
  RT_ASSIGN_OR_RETURN(optim::LearningRateSchedule schedule,
                      optim::LearningRateSchedule::Create(plan.schedule));
  worker::PsClientOptions client_options =
      ClientOptionsFor(plan, c.index, c.ps_endpoints, credentials);
  client_options.log = [who](const std::string& m) { std::cerr << who << ": " << m << "\n"; };
  RT_ASSIGN_OR_RETURN(std::unique_ptr<worker::PsClient> client,
                      worker::PsClient::Connect(context, std::move(client_options)));
  data::SparseStreamOptions stream;
  static_cast<data::StreamOptions&>(stream) =
      StreamOptionsFor(plan, spec.dataset, share.records, c.index);
  stream.shard = text_options;
  stream.fields = FeatureSchemaOf(spec.dataset);
  stream.pieces = share.pieces;
  stream.steps_per_epoch = plan.steps_per_epoch;
  const int64_t window = stream.window_rows;
  data::SparseStream batches(&storage, std::move(stream));
  std::cerr << who << ": " << share.records << " rows, " << plan.steps_per_epoch
            << " steps per epoch; streams " << share.pieces.size() << " pieces (" << share.bytes
            << " bytes) each epoch, shuffle window " << window << " rows; a "
            << model::SparseModelKindName(plan.sparse_model->kind) << " model of "
            << model->row_dim() << " floats per key in a sparse table on " << c.num_ps
            << " servers\n";

  worker::ProgressRecorder recorder(&sink, c.job_name, c.num_workers, job::GlobalBatchSize(spec));
  std::unique_ptr<transport::StatusServer> status_server;
  if (!c.status_bind.empty()) {
    RT_ASSIGN_OR_RETURN(status_server,
                        transport::StatusServer::Start(
                            context, c.status_bind, c.job_name,
                            [&recorder] { return recorder.Snapshot(); }, credentials.get()));
  }
  worker::SparseTrainerOptions options;
  options.rank = c.index;
  options.epochs = plan.epochs;
  worker::SparseTrainer trainer(options, model.get(), client.get(), &batches,
                                test.has_value() ? &*test : nullptr, &schedule, &recorder);
  RT_ASSIGN_OR_RETURN(worker::SparseTrainerResult result, trainer.Run());
  if (result.already_done) {
    std::cerr << who << ": the servers say this worker finished at step " << result.steps
              << "; nothing to do\n";
    return Status::Ok();
  }
  if (result.skipped.count > 0) {
    std::cerr << who << ": skipped " << result.skipped.count
              << " bad records of spec.dataset.train (onBadRecord: skip) in each epoch; the "
                 "first: "
              << result.skipped.first << "\n";
  }
  if (!c.termination_log.empty()) {
    std::ofstream out(c.termination_log, std::ios::trunc);
    out << job::FormatFinalProgress(worker::FinalProgressOf(recorder.Snapshot())) << "\n";
  }
  std::cerr << who << ": finished " << result.steps << " steps, " << result.samples
            << " samples, last loss " << result.last_loss;
  if (result.test_auc >= 0) {
    std::cerr << ", test AUC " << result.test_auc << ", test log-loss " << result.test_log_loss;
  }
  std::cerr << "\n";
  return Status::Ok();
}

}  // namespace ringtrain::app
