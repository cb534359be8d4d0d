#include "ringtrain/app/job_plan.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <iostream>

#include "ringtrain/common/input_file.h"
#include "ringtrain/data/idx_reader.h"
#include "ringtrain/data/shard.h"
#include "ringtrain/data/sparse_data.h"
#include "ringtrain/data/uri.h"
#include "ringtrain/job/memory_estimate.h"
#include "ringtrain/ps/data_queue.h"
#include "ringtrain/ps/margin_rounds.h"
#include "ringtrain/ring/hash_ring.h"

namespace ringtrain::app {

namespace {

model::ModelKind ModelKindOf(job::ModelType type) {
  switch (type) {
    case job::ModelType::kSoftmax:
      return model::ModelKind::kSoftmax;
    case job::ModelType::kMlp:
      return model::ModelKind::kMlp;
    case job::ModelType::kLogistic:  // sparse models: JobPlan::sparse_model
    case job::ModelType::kFm:
    case job::ModelType::kDeepFm:
      return model::ModelKind::kSoftmax;
  }
  return model::ModelKind::kSoftmax;  // unreachable for a parsed spec
}

optim::OptimizerKind OptimizerKindOf(job::OptimizerType type) {
  switch (type) {
    case job::OptimizerType::kSgd:
      return optim::OptimizerKind::kSgd;
    case job::OptimizerType::kMomentum:
      return optim::OptimizerKind::kMomentum;
    case job::OptimizerType::kNesterov:
      return optim::OptimizerKind::kNesterov;
    case job::OptimizerType::kAdagrad:
      return optim::OptimizerKind::kAdagrad;
    case job::OptimizerType::kAdam:
      return optim::OptimizerKind::kAdam;
    case job::OptimizerType::kFtrl:
      return optim::OptimizerKind::kFtrl;
  }
  return optim::OptimizerKind::kSgd;  // unreachable for a parsed spec
}

optim::ScheduleKind ScheduleKindOf(job::ScheduleType type) {
  switch (type) {
    case job::ScheduleType::kConstant:
      return optim::ScheduleKind::kConstant;
    case job::ScheduleType::kCosine:
      return optim::ScheduleKind::kCosine;
    case job::ScheduleType::kStep:
      return optim::ScheduleKind::kStep;
  }
  return optim::ScheduleKind::kConstant;  // unreachable for a parsed spec
}

ps::Consistency ConsistencyOf(job::SyncMode mode) {
  switch (mode) {
    case job::SyncMode::kSync:
      return ps::Consistency::kSync;
    case job::SyncMode::kAsync:
      return ps::Consistency::kAsync;
    case job::SyncMode::kSsp:
      return ps::Consistency::kSsp;
  }
  return ps::Consistency::kSync;  // unreachable for a parsed spec
}

compress::CodecType CodecTypeOf(job::CompressionType type) {
  switch (type) {
    case job::CompressionType::kNone:
      return compress::CodecType::kNone;
    case job::CompressionType::kFp16:
      return compress::CodecType::kFp16;
    case job::CompressionType::kInt8:
      return compress::CodecType::kInt8;
    case job::CompressionType::kOneBit:
      return compress::CodecType::kOneBit;
    case job::CompressionType::kTopK:
      return compress::CodecType::kTopK;
  }
  return compress::CodecType::kNone;  // unreachable for a parsed spec
}

}  // namespace

bool IsTextFormat(const job::DatasetSpec& dataset) {
  return dataset.format != job::DataFormat::kIdx;
}

StatusOr<DatasetShape> ReadDatasetShape(const job::TrainingJobSpec& spec) {
  const job::DatasetSpec& dataset = spec.dataset;
  if (job::IsSparseModel(spec.model.type)) {
    // Hashed keys: two classes, no input width. Its rows are counted by the workers, which
    // read them.
    DatasetShape shape;
    shape.input_dim = 0;
    shape.num_classes = 2;
    shape.per_worker_rows = true;
    return shape;
  }
  if (IsTextFormat(dataset)) {
    DatasetShape shape;
    shape.input_dim = dataset.features;
    shape.num_classes = dataset.classes;
    shape.per_worker_rows = true;
    return shape;
  }
  StatusOr<std::string> path = data::LocalPathFromUri(dataset.train.images);
  if (!path.ok()) return path.status().WithContext("spec.dataset.train.images");
  StatusOr<data::IdxImagesShape> idx = data::ReadIdxImagesShape(*path);
  if (!idx.ok()) return idx.status().WithContext("spec.dataset.train.images");
  const uint64_t dim = uint64_t{idx->rows} * idx->cols;
  if (idx->count > static_cast<uint64_t>(INT64_MAX) || dim > static_cast<uint64_t>(INT32_MAX)) {
    return InvalidArgument("spec.dataset.train.images: " + *path + ": " +
                           std::to_string(idx->count) + " images of " + std::to_string(dim) +
                           " pixels is beyond what ringtrain trains on");
  }
  DatasetShape shape;
  shape.train_rows = static_cast<int64_t>(idx->count);
  shape.input_dim = static_cast<int>(dim);
  if (dataset.test.has_value()) {
    // The model's input is sized from the training images: test images of another shape would
    // fail the first evaluation, an epoch into the job.
    StatusOr<std::string> test_path = data::LocalPathFromUri(dataset.test->images);
    if (!test_path.ok()) return test_path.status().WithContext("spec.dataset.test.images");
    StatusOr<data::IdxImagesShape> test = data::ReadIdxImagesShape(*test_path);
    if (!test.ok()) return test.status().WithContext("spec.dataset.test.images");
    RT_RETURN_IF_ERROR(
        CheckSameImageShape(*path, idx->rows, idx->cols, *test_path, test->rows, test->cols));
    shape.test_rows = static_cast<int64_t>(std::min<uint64_t>(test->count, INT64_MAX));
  }
  return shape;
}

Status CheckSameImageShape(const std::string& train_path, uint64_t train_rows, uint64_t train_cols,
                           const std::string& test_path, uint64_t test_rows, uint64_t test_cols) {
  if (train_rows == test_rows && train_cols == test_cols) return Status::Ok();
  return InvalidArgument("spec.dataset.test.images: " + test_path + " holds images of " +
                         std::to_string(test_rows) + "x" + std::to_string(test_cols) +
                         " pixels, but the training images " + train_path + " are " +
                         std::to_string(train_rows) + "x" + std::to_string(train_cols) +
                         " (the model's input is sized from them)");
}

storage::StorageOptions StorageOptionsFor(const job::DatasetSpec& dataset,
                                          storage::StorageOptions from_environment) {
  storage::StorageOptions o = std::move(from_environment);
  if (!dataset.storage.has_value()) return o;
  const job::StorageSpec& s = *dataset.storage;
  if (!s.endpoint.empty()) {
    o.s3.endpoint = s.endpoint;
    o.s3.path_style = s.addressing_style == job::AddressingStyle::kPath;
  } else {
    o.s3.path_style = s.addressing_style == job::AddressingStyle::kPath && !o.s3.endpoint.empty();
  }
  if (!s.region.empty()) o.s3.region = s.region;
  return o;
}

data::TextShardOptions TextShardOptionsFor(const job::DatasetSpec& dataset, const std::string& uri,
                                           int workers, int index, job::ModelType model) {
  data::TextShardOptions o;
  o.uri = uri;
  o.format = dataset.format == job::DataFormat::kCsv      ? data::TextFormat::kCsv
             : dataset.format == job::DataFormat::kCriteo ? data::TextFormat::kCriteo
                                                          : data::TextFormat::kLibsvm;
  o.sparse_rows = job::IsSparseModel(model);
  o.features = dataset.features;
  o.classes = dataset.classes;
  o.index_base = dataset.index_base;
  o.label_column = dataset.label_column;
  o.skip_bad_records = dataset.on_bad_record == job::BadRecordPolicy::kSkip;
  o.workers = workers;
  o.index = index;
  return o;
}

data::StreamOptions StreamOptionsFor(const JobPlan& plan, const job::DatasetSpec& dataset,
                                     int64_t rows, int worker) {
  data::StreamOptions o;
  o.seed = plan.seed;
  o.shuffle = plan.shuffle;
  o.worker = worker;
  o.batch_rows = plan.batch_size;
  o.block_rows = job::StreamBlockRows(dataset);
  o.prefetch_blocks = job::kStreamPrefetchBlocks;
  // A window larger than the share would never fill: the same draws with fewer rows held.
  o.window_rows =
      std::min(job::ShuffleWindowRows(dataset, plan.batch_size), std::max<int64_t>(rows, 1));
  o.field = "spec.dataset.train";
  return o;
}

StatusOr<data::TextShardPlan> PlanWorkerShare(storage::Storage& storage,
                                              const job::DatasetSpec& dataset,
                                              const data::TextShardOptions& options,
                                              const std::string& who) {
  StatusOr<data::TextShardPlan> plan = data::PlanTextShard(storage, options, /*count=*/true);
  if (!plan.ok()) return plan.status().WithContext("spec.dataset.train");
  if (plan->records > 0) return plan;
  // Some shares may be empty (fewer gzip objects than workers); no records at all is an error:
  // is there one anywhere (reading until the first)?
  data::TextShardOptions all = options;
  all.workers = 1;
  all.index = 0;
  StatusOr<data::TextShardPlan> whole =
      data::PlanTextShard(storage, all, /*count=*/true, /*count_limit=*/1);
  if (!whole.ok()) return whole.status().WithContext("spec.dataset.train");
  if (whole->records == 0) {
    return InvalidArgument("spec.dataset.train: " + options.uri + ": no records in its " +
                           std::to_string(whole->objects) +
                           " objects (empty, or only blank lines, comments or headers)");
  }
  if (dataset.sharding == job::Sharding::kRow) {
    std::cerr << who << ": its share of spec.dataset.train holds no records ("
              << plan->pieces.size()
              << " pieces; gzip objects are not split, and there are fewer with records than "
                 "workers): it runs no steps\n";
  }
  return plan;
}

StatusOr<data::TextShard> LoadTextShard(storage::Storage& storage, const job::DatasetSpec& dataset,
                                        const std::string& uri, int workers, int index,
                                        const std::string& field) {
  StatusOr<data::TextShard> shard =
      data::LoadTextShard(storage, TextShardOptionsFor(dataset, uri, workers, index));
  if (!shard.ok()) return shard.status().WithContext(field);
  return shard;
}

StatusOr<data::Dataset> LoadDataFiles(const job::DataFiles& files, const std::string& field) {
  StatusOr<std::string> images = data::LocalPathFromUri(files.images);
  if (!images.ok()) return images.status().WithContext(field + ".images");
  StatusOr<std::string> labels = data::LocalPathFromUri(files.labels);
  if (!labels.ok()) return labels.status().WithContext(field + ".labels");
  StatusOr<data::Dataset> d = data::LoadIdx(*images, *labels);
  if (!d.ok()) return d.status().WithContext(field);
  return d;
}

Status CheckDatasetFiles(const job::DatasetSpec& dataset, storage::Storage& storage) {
  if (IsTextFormat(dataset)) {
    std::vector<std::pair<std::string, std::string>> locations = {
        {"spec.dataset.train.uri", dataset.train.uri}};
    if (dataset.test.has_value()) locations.push_back({"spec.dataset.test.uri", dataset.test->uri});
    for (const auto& [field, uri] : locations) {
      StatusOr<std::vector<storage::ObjectInfo>> found = storage.List(uri);
      if (!found.ok()) return found.status().WithContext(field);
    }
    return Status::Ok();
  }
  std::vector<std::pair<std::string, std::string>> files = {
      {"spec.dataset.train.images", dataset.train.images},
      {"spec.dataset.train.labels", dataset.train.labels}};
  if (dataset.test.has_value()) {
    files.push_back({"spec.dataset.test.images", dataset.test->images});
    files.push_back({"spec.dataset.test.labels", dataset.test->labels});
  }
  for (const auto& [field, uri] : files) {
    StatusOr<std::string> path = data::LocalPathFromUri(uri);
    if (!path.ok()) return path.status().WithContext(field);
    if (access(path->c_str(), R_OK) != 0) {
      return NotFound(field + ": cannot read " + *path + " (" + std::strerror(errno) + ")");
    }
    StatusOr<InputFile> file = OpenInputFile(*path);  // never a FIFO or a device
    if (!file.ok()) return file.status().WithContext(field);
  }
  return Status::Ok();
}

std::vector<std::string> ServerIds(int num_ps) {
  std::vector<std::string> ids;
  for (int i = 0; i < num_ps; ++i) ids.push_back("ps-" + std::to_string(i));
  return ids;
}

StatusOr<std::shared_ptr<const ring::PartitionTable>> MakePartitionTable(const model::Model& model,
                                                                         int num_ps,
                                                                         int64_t partition_size) {
  RT_ASSIGN_OR_RETURN(ring::HashRing hash_ring, ring::HashRing::Make(ServerIds(num_ps)));
  std::vector<ring::TensorSpan> spans;
  for (const model::TensorInfo& t : model.tensors()) spans.push_back({t.name, t.offset, t.size});
  RT_ASSIGN_OR_RETURN(ring::PartitionTable table,
                      ring::PartitionTable::Build(spans, partition_size, hash_ring));
  return std::make_shared<const ring::PartitionTable>(std::move(table));
}

StatusOr<std::shared_ptr<const ring::PartitionTable>> MakeSparsePartitionTable(
    const model::SparseModel& model, int num_ps, int64_t partition_size) {
  RT_ASSIGN_OR_RETURN(ring::HashRing hash_ring, ring::HashRing::Make(ServerIds(num_ps)));
  std::vector<ring::TensorSpan> spans;
  for (const model::TensorInfo& t : model.dense_tensors()) {
    spans.push_back({t.name, t.offset, t.size});
  }
  // Every 64-bit key but the table's free-slot marker (ps/sparse_table.h).
  const ring::SparseTableSpec features{kSparseTableName, model.row_dim(), ~uint64_t{0},
                                       ring::kDefaultSparseBuckets};
  RT_ASSIGN_OR_RETURN(ring::PartitionTable table,
                      ring::PartitionTable::Build(spans, partition_size, hash_ring, {features}));
  return std::make_shared<const ring::PartitionTable>(std::move(table));
}

StatusOr<JobPlan> MakeJobPlan(const job::TrainingJob& job, const DatasetShape& shape) {
  const job::TrainingJobSpec& spec = job.spec;
  JobPlan plan;
  plan.job_name = job.metadata.name;
  plan.num_ps = spec.parameter_servers.replicas;
  plan.replication = spec.parameter_servers.replication;
  plan.num_workers = spec.workers.replicas;
  plan.epochs = spec.training.epochs;
  plan.batch_size = spec.training.batch_size;
  plan.seed = spec.training.seed;
  plan.shuffle = spec.dataset.shuffle;
  plan.model.kind = ModelKindOf(spec.model.type);
  // deepfm's hidden layers are its sparse model's (plan.sparse_model), not a dense model's.
  if (!job::IsSparseModel(spec.model.type)) plan.model.hidden_layers = spec.model.hidden_layers;
  plan.model.input_dim = shape.input_dim;
  plan.model.num_classes = shape.num_classes;

  const job::OptimizerSpec& o = spec.training.optimizer;
  plan.optimizer.kind = OptimizerKindOf(o.type);
  plan.optimizer.momentum = o.momentum;
  plan.optimizer.weight_decay = o.weight_decay;
  // The spec holds 0 in fields its type does not use; keep the config's defaults there.
  if (o.type == job::OptimizerType::kAdam) {
    plan.optimizer.beta1 = o.beta1;
    plan.optimizer.beta2 = o.beta2;
  }
  if (o.type == job::OptimizerType::kAdam || o.type == job::OptimizerType::kAdagrad) {
    plan.optimizer.epsilon = o.epsilon;
  }
  if (o.type == job::OptimizerType::kFtrl) {
    plan.optimizer.ftrl_beta = o.beta;
    plan.optimizer.l1 = o.l1;
    plan.optimizer.l2 = o.l2;
  }

  plan.train_rows = shape.train_rows;
  plan.steps_per_epoch =
      shape.per_worker_rows
          ? (shape.train_rows + spec.training.batch_size - 1) / spec.training.batch_size
          : data::StepsPerEpoch(shape.train_rows, spec.workers.replicas, spec.training.batch_size);
  plan.total_steps = plan.steps_per_epoch * spec.training.epochs;

  const job::ScheduleSpec& s = spec.training.schedule;
  plan.schedule.kind = ScheduleKindOf(s.type);
  plan.schedule.base_lr = spec.training.optimizer.learning_rate;
  // A warm-up longer than the run (a short trial run of a long job) ends with the run.
  plan.schedule.warmup_steps = std::min(s.warmup_steps, plan.total_steps);
  // A worker whose share of text data holds no records runs no steps (its schedule is unused).
  plan.schedule.total_steps = std::max<int64_t>(plan.total_steps, 1);
  plan.schedule.step_size = s.step_size;
  plan.schedule.gamma = s.gamma;
  plan.schedule.min_lr = s.min_learning_rate;
  if (o.scale_learning_rate.has_value()) {
    plan.schedule = optim::ScaleLearningRatesLinearly(plan.schedule, job::GlobalBatchSize(spec),
                                                      o.scale_learning_rate->reference_batch_size);
  }

  const job::TrainingSpec& t = spec.training;
  plan.consistency = ConsistencyOf(t.sync_mode);
  plan.staleness = t.staleness;
  plan.staleness_aware_lr = t.staleness_aware_lr;
  plan.worker_timeout_seconds = t.worker_timeout_seconds;
  plan.push_chunk_bytes = static_cast<uint64_t>(t.push_chunk_kib) << 10;
  const job::CompressionSpec& c = t.compression;
  plan.codec.type = CodecTypeOf(c.type);
  // The spec holds 0 in fields its type does not use; keep the codec's defaults there.
  if (c.type == job::CompressionType::kTopK) plan.codec.ratio = c.ratio;
  if (c.type == job::CompressionType::kInt8 || c.type == job::CompressionType::kOneBit) {
    plan.codec.block = c.block;
  }
  plan.error_feedback = c.error_feedback;
  plan.topk_warmup_steps = c.warmup_steps;
  plan.local_momentum =
      optim::SplitForMomentumCorrection(&plan.optimizer, plan.codec.type, plan.error_feedback);

  if (job::IsSparseModel(spec.model.type)) {
    model::SparseModelConfig config{.embedding_size = spec.model.embedding_size};
    if (spec.model.type == job::ModelType::kFm) config.kind = model::SparseModelKind::kFm;
    if (spec.model.type == job::ModelType::kDeepFm) {
      // The deep part reads one embedding per field: the schema's, Criteo's 39 or LibSVM's one.
      config.kind = model::SparseModelKind::kDeepFm;
      config.hidden_layers = spec.model.hidden_layers;
      config.num_fields = spec.dataset.format == job::DataFormat::kCriteo
                              ? data::kCriteoFields
                              : std::max<int>(1, static_cast<int>(spec.dataset.fields.size()));
    }
    plan.sparse_model = config;
    // Embeddings start small and random (so that their gradients differ); weights at 0.
    plan.sparse_init_scale =
        config.kind == model::SparseModelKind::kLogistic ? 0.0f : kEmbeddingInitScale;
    plan.sparse_admit_after = static_cast<uint32_t>(spec.model.admit_after);
    plan.sparse_expire_after = spec.model.expire_after_steps;
    RT_ASSIGN_OR_RETURN(std::unique_ptr<model::SparseModel> m,
                        model::MakeSparseModel(*plan.sparse_model));
    RT_ASSIGN_OR_RETURN(plan.table,
                        MakeSparsePartitionTable(*m, spec.parameter_servers.replicas,
                                                 spec.parameter_servers.partition_size));
  } else {
    RT_ASSIGN_OR_RETURN(std::unique_ptr<model::Model> m, model::MakeModel(plan.model));
    RT_ASSIGN_OR_RETURN(plan.table, MakePartitionTable(*m, spec.parameter_servers.replicas,
                                                       spec.parameter_servers.partition_size));
  }
  plan.dynamic_sharding = spec.dataset.sharding == job::Sharding::kDynamic;
  if (plan.dynamic_sharding) {
    // Placed on the ring like a partition: a server id's owner, the same in every process.
    RT_ASSIGN_OR_RETURN(ring::HashRing ring, ring::HashRing::Make(ServerIds(plan.num_ps)));
    plan.queue_server = ring.OwnerIndexOfKey(ps::kDataQueueKey);
  }
  plan.feature_sharding = spec.dataset.sharding == job::Sharding::kFeature;
  if (plan.feature_sharding) {
    RT_ASSIGN_OR_RETURN(ring::HashRing ring, ring::HashRing::Make(ServerIds(plan.num_ps)));
    plan.margin_server = ring.OwnerIndexOfKey(ps::kMarginsKey);
    // No block can be missed: the servers wait for every worker (ps/server_core.h).
    plan.worker_timeout_seconds = 0;
  }
  return plan;
}

}  // namespace ringtrain::app
