#include "ringtrain/app/sparse_worker.h"

#include <fstream>
#include <iostream>

#include "ringtrain/app/output.h"
#include "ringtrain/app/wiring.h"
#include "ringtrain/data/sparse_data.h"
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
  StatusOr<data::SparseBatch> train =
      ReadSparseRows(&storage, spec.dataset, spec.dataset.train.uri);
  if (!train.ok()) return train.status().WithContext("spec.dataset.train");
  if (train->rows() == 0) {
    return InvalidArgument("spec.dataset.train: " + spec.dataset.train.uri + ": no records");
  }
  std::optional<data::SparseBatch> test;
  if (c.index == 0 && spec.dataset.test.has_value()) {
    StatusOr<data::SparseBatch> t = ReadSparseRows(&storage, spec.dataset, spec.dataset.test->uri);
    if (!t.ok()) return t.status().WithContext("spec.dataset.test");
    test = std::move(*t);
  }
  DatasetShape shape;
  shape.train_rows = train->rows();
  shape.input_dim = 0;
  shape.num_classes = 2;
  RT_ASSIGN_OR_RETURN(JobPlan plan, MakeJobPlan(job, shape));
  RT_RETURN_IF_ERROR(CheckContract(c, plan));
  RT_ASSIGN_OR_RETURN(std::unique_ptr<model::SparseModel> model,
                      model::MakeSparseModel(*plan.sparse_model));
  RT_ASSIGN_OR_RETURN(optim::LearningRateSchedule schedule,
                      optim::LearningRateSchedule::Create(plan.schedule));
  worker::PsClientOptions client_options = ClientOptionsFor(plan, c.index, c.ps_endpoints);
  client_options.log = [who](const std::string& m) { std::cerr << who << ": " << m << "\n"; };
  client_options.credentials = credentials;
  RT_ASSIGN_OR_RETURN(std::unique_ptr<worker::PsClient> client,
                      worker::PsClient::Connect(context, std::move(client_options)));
  data::SparseBatches batches(&*train, c.num_workers, c.index, plan.batch_size, plan.seed,
                              plan.shuffle);
  std::cerr << who << ": " << train->rows() << " rows (" << train->entries() << " features) read, "
            << batches.steps_per_epoch() << " steps per epoch on its share; a "
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
