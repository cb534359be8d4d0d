// JobPlan: what every process of a job derives, identically, from the TrainingJob spec and
// the shape of its data — the model configuration, the partition table (placement on the
// ring), the optimizer and the learning-rate schedule. Servers and workers each compute it
// themselves; the partition table's fingerprint, carried in every request, proves they agree.
#ifndef RINGTRAIN_APP_JOB_PLAN_H_
#define RINGTRAIN_APP_JOB_PLAN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/compress/codec.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/data/stream_options.h"
#include "ringtrain/data/text_shard.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/model/model.h"
#include "ringtrain/model/sparse_model.h"
#include "ringtrain/optim/momentum_correction.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/optim/schedule.h"
#include "ringtrain/ps/consistency.h"
#include "ringtrain/ring/partition_table.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::app {

// What the data looks like, read from the files' headers without loading them (idx), or from
// the spec (libsvm, csv: features and classes).
struct DatasetShape {
  int64_t train_rows = 0;
  int input_dim = 0;
  int num_classes = 10;
  int64_t test_rows = 0;  // 0 without a test set (or when not read)
  // Text formats: train_rows are this worker's own rows (0 where not loaded: servers, the
  // launcher), and each worker runs ceil(its rows / batch) steps per epoch; in sync mode a
  // worker that finishes first leaves the rounds to the others (WORKER_DONE). idx: the global
  // count, and every worker runs the same steps (data/shard.h).
  bool per_worker_rows = false;
};

// Reads the training set's shape: idx from the images' header (and checks the test images
// have the same image size); libsvm and csv from spec.dataset.features and classes; a sparse
// model's (job::IsSparseModel) has no input width, two classes, and rows its workers count.
// Errors name the spec field and the file (both files for a mismatch).
StatusOr<DatasetShape> ReadDatasetShape(const job::TrainingJobSpec& spec);

// Whether the spec's format is a text format (libsvm, csv, criteo: one uri, read through
// storage) rather than IDX files.
bool IsTextFormat(const job::DatasetSpec& dataset);

// InvalidArgument naming both files unless the test images are train_rows x train_cols.
Status CheckSameImageShape(const std::string& train_path, uint64_t train_rows, uint64_t train_cols,
                           const std::string& test_path, uint64_t test_rows, uint64_t test_cols);

// Checks that every data file the spec names exists, is readable and is a regular file (never
// a FIFO or a device, which could block a process forever), before any process starts; for
// the text formats, that each location lists at least one object through `storage`. The
// error names the spec field and the path.
Status CheckDatasetFiles(const job::DatasetSpec& dataset, storage::Storage& storage);

// Loads the examples and labels of `files` (IDX). `field` ("spec.dataset.test") prefixes the
// errors, which are data::LocalPathFromUri's and data::LoadIdx's.
StatusOr<data::Dataset> LoadDataFiles(const job::DataFiles& files, const std::string& field);

// The storage options for `dataset`: `from_environment` (storage::S3OptionsFromEnvironment's,
// made by main) with spec.dataset.storage's endpoint, region and addressing style over it.
storage::StorageOptions StorageOptionsFor(const job::DatasetSpec& dataset,
                                          storage::StorageOptions from_environment);

// The options of worker `index` of `workers`'s share of the text data at `uri`: the spec's
// format, features, classes, indexBase, labelColumn and onBadRecord (rows of keys for the
// sparse models, job::IsSparseModel(model)).
data::TextShardOptions TextShardOptionsFor(const job::DatasetSpec& dataset, const std::string& uri,
                                           int workers, int index,
                                           job::ModelType model = job::ModelType::kMlp);

// A worker's share of the training data before it trains: its pieces and, counted, its
// records (data::PlanTextShard). A share without records is an error when the whole data has
// none ("spec.dataset.train: <uri>: no records in its N objects ..."); otherwise the worker
// logs, as `who`, that it runs no steps (row-wise sharding). Errors are prefixed with
// "spec.dataset.train".
StatusOr<data::TextShardPlan> PlanWorkerShare(storage::Storage& storage,
                                              const job::DatasetSpec& dataset,
                                              const data::TextShardOptions& options,
                                              const std::string& who);

// Loads worker `index` of `workers`'s share of the text data at `uri` (data/text_shard.h) as
// the spec's format, features, classes, indexBase, labelColumn and onBadRecord say. `field`
// ("spec.dataset.train") prefixes the errors.
StatusOr<data::TextShard> LoadTextShard(storage::Storage& storage, const job::DatasetSpec& dataset,
                                        const std::string& uri, int workers, int index,
                                        const std::string& field);

struct JobPlan {
  std::string job_name;  // metadata.name: every request carries it
  int num_ps = 1;        // spec.parameterServers.replicas
  int replication = 0;   // spec.parameterServers.replication
  int num_workers = 1;   // spec.workers.replicas
  int epochs = 1;
  int64_t batch_size = 32;  // per worker
  uint64_t seed = 42;       // the initial parameters and every epoch's data order
  bool shuffle = true;      // spec.dataset.shuffle
  model::ModelConfig model;
  optim::OptimizerConfig optimizer;
  optim::ScheduleConfig schedule;  // total_steps filled in
  int64_t train_rows = 0;
  int64_t steps_per_epoch = 0;
  int64_t total_steps = 0;
  std::shared_ptr<const ring::PartitionTable> table;
  ps::Consistency consistency = ps::Consistency::kSync;
  int64_t staleness = 0;  // kSsp
  bool staleness_aware_lr = false;
  int64_t worker_timeout_seconds = 0;  // kSync: spec.training.workerTimeoutSeconds
  uint64_t push_chunk_bytes = 0;       // kSync: spec.training.pushChunkKiB, in bytes
  compress::CodecOptions codec;        // for kTopK, the ratio after the warm-up
  bool error_feedback = false;
  int64_t topk_warmup_steps = 0;
  // With a codec, momentum and weight decay of kMomentum/kNesterov run on the workers
  // (optim/momentum_correction.h) and `optimizer` is the servers' plain SGD.
  optim::LocalMomentum local_momentum;
  // spec.dataset.sharding: dynamic: the data queue (ps/data_queue.h) is kept by this server,
  // the ring's owner of ps::kDataQueueKey; steps_per_epoch is then the row-wise estimate.
  bool dynamic_sharding = false;
  int queue_server = 0;
  // spec.dataset.sharding: feature: every worker reads every row, only the columns of its block
  // (model::FeatureBlockOf); the servers sum the blocks' gradients, and this server, the ring's
  // owner of ps::kMarginsKey, their partial margins (ps/margin_rounds.h).
  bool feature_sharding = false;
  int margin_server = 0;
  // model.type logistic and fm: a click-through model over sparse keys (model/sparse_model.h),
  // its rows in the sparse table kSparseTableName (table 0), which start uniform in
  // [-sparse_init_scale, sparse_init_scale]; `model` is then unused.
  std::optional<model::SparseModelConfig> sparse_model;
  float sparse_init_scale = 0.0f;
  // model.admitAfter and model.expireAfterSteps: the sparse table's hygiene
  // (ps/sparse_shard.h).
  uint32_t sparse_admit_after = 1;
  int64_t sparse_expire_after = 0;
};

// How worker `worker` draws batches from its streamed share of `rows` records (its order's
// worker, the plan's seed, shuffle and batch, the spec's shuffle window, at most the share's
// rows, and the read-ahead of job/memory_estimate.h), errors prefixed "spec.dataset.train".
data::StreamOptions StreamOptionsFor(const JobPlan& plan, const job::DatasetSpec& dataset,
                                     int64_t rows, int worker);

// The sparse table of a sparse model's rows, and how its embeddings start.
inline constexpr char kSparseTableName[] = "features";
inline constexpr float kEmbeddingInitScale = 0.01f;

// The ring's server ids for `num_ps` servers: "ps-0", "ps-1", ... (ids, not addresses: a
// rescheduled server keeps its partitions).
std::vector<std::string> ServerIds(int num_ps);

// The partition table of a sparse model: its dense tensors, and the sparse table
// kSparseTableName of its rows (every key but 2^64 - 1), on the job's servers.
StatusOr<std::shared_ptr<const ring::PartitionTable>> MakeSparsePartitionTable(
    const model::SparseModel& model, int num_ps, int64_t partition_size);

// Derives the plan. `layout` is the model's tensor layout (from model::MakeModel(plan.model)).
StatusOr<JobPlan> MakeJobPlan(const job::TrainingJob& job, const DatasetShape& shape);

// The partition table of `model` on the job's servers.
StatusOr<std::shared_ptr<const ring::PartitionTable>> MakePartitionTable(const model::Model& model,
                                                                         int num_ps,
                                                                         int64_t partition_size);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_JOB_PLAN_H_
