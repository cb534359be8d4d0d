// The field table of spec.model, spec.dataset and spec.training.
#include <limits>

#include "checks.h"
#include "formats.h"
#include "spec_table.h"

namespace ringtrain::job::internal {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int kMaxHiddenLayers = 16;
constexpr int kMaxEmbeddingSize = 1024;
constexpr int kDefaultEmbeddingSize = 8;
constexpr int kMaxAdmitAfter = 255;
constexpr int64_t kMaxExpireAfterSteps = int64_t{1} << 30;
constexpr int kMaxLayerUnits = 65536;
constexpr int kMaxBatchSize = 1048576;
constexpr int kMaxStaleness = 1000000;
constexpr int kMaxFeatures = 16777216;
constexpr int kMaxShuffleBuffer = 16777216;
constexpr int kMaxClasses = 65536;
// A click-through model's feature schema: keys carry the field in their top 8 bits (one value
// is left for keys of other origins), and up to 2^56 hashed values per field.
constexpr int kMaxFeatureFields = 255;
constexpr int64_t kMaxHashSpace = int64_t{1} << 56;
constexpr int kMaxBuckets = 1000;
constexpr int kDefaultStaleness = 3;
constexpr int kMaxWorkerTimeout = 86400;
constexpr int kDefaultWorkerTimeout = 60;
constexpr int kMaxPushChunkKiB = 1 << 20;
constexpr int kDefaultPushChunkKiB = 64;
constexpr int kMaxCompressionBlock = 1048576;
constexpr int kDefaultCompressionBlock = 256;
constexpr double kDefaultTopKRatio = 0.01;
// A sparsity warm-up longer than any realistic job is a typo, not a plan.
constexpr int64_t kMaxSparsityWarmupSteps = 100000000;

// [0, 1) and its variants.
constexpr NumberRange kFractionClosedOpen{0.0, 1.0, false, true};
constexpr NumberRange kFractionOpenClosed{0.0, 1.0, true, false};
constexpr NumberRange kFractionOpen{0.0, 1.0, true, true};

const Object<DataFiles>& DataFilesTable() {
  static const auto* t = new Object<DataFiles>({
      String("images", &DataFiles::images, DataUriFormat(),
             "idx only (and required): the examples, file:///absolute/path or a plain path."),
      String("labels", &DataFiles::labels, DataUriFormat(),
             "idx only (and required): the labels, file:///absolute/path or a plain path."),
      String("uri", &DataFiles::uri, DataUriFormat(),
             "libsvm and csv only (and required): the data, gzip or plain: a file, a directory "
             "or key prefix ending in '/', or a glob of part files in its last component "
             "(s3://bucket/train/part-*.gz); file:///absolute/path, a plain path, "
             "http(s)://host/path or s3://bucket/key."),
  });
  return *t;
}

// Which fields of train and test the format takes: idx images and labels, the text formats
// uri. The field table's When() sees siblings only, so the dataset checks its children here.
Status CheckDataFiles(const DataFiles& f, DataFormat format, const std::string& path) {
  const bool idx = format == DataFormat::kIdx;
  const std::string why = std::string("format ") + Name(format);
  if (idx && f.images.empty()) return FieldError(path + ".images", "required with " + why);
  if (idx && f.labels.empty()) return FieldError(path + ".labels", "required with " + why);
  if (idx && !f.uri.empty()) {
    return FieldError(path + ".uri", "not allowed with " + why +
                                         " (images and labels name the "
                                         "files)");
  }
  if (!idx && f.uri.empty()) return FieldError(path + ".uri", "required with " + why);
  if (!idx && !f.images.empty()) {
    return FieldError(path + ".images", "not allowed with " + why + " (uri names the data)");
  }
  if (!idx && !f.labels.empty()) {
    return FieldError(path + ".labels", "not allowed with " + why + " (uri names the data)");
  }
  return Status::Ok();
}

// The CEL of CheckDataFiles for the child `child` (train or test).
std::string DataFilesCel(const std::string& child) {
  const std::string c = "self." + child;
  return "((!has(self.format) || self.format == 'idx') ? (has(" + c + ".images) && has(" + c +
         ".labels) && !has(" + c + ".uri)) : (has(" + c + ".uri) && !has(" + c +
         ".images) && !has(" + c + ".labels)))";
}

const Object<StorageSpec>& StorageTable() {
  static const auto* t = new Object<StorageSpec>({
      String("endpoint", &StorageSpec::endpoint, EndpointFormat(),
             "An S3-compatible store's endpoint, http(s)://host[:port]; AWS S3 when not set."),
      String("region", &StorageSpec::region, RegionFormat(),
             "The region requests are signed for; us-east-1 when not set."),
      Enum("addressingStyle", &StorageSpec::addressing_style,
           "path (endpoint/bucket/key, what S3-compatible stores serve; the default) or virtual "
           "(bucket.endpoint/key)."),
      String("credentialsSecret", &StorageSpec::credentials_secret, ObjectNameFormat(),
             "A Secret in the job's namespace with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
             "(and AWS_SESSION_TOKEN for temporary credentials): the workers get them as "
             "environment variables by reference, never in the job's ConfigMap. `ringtrain run` "
             "takes credentials from its own environment."),
  });
  return *t;
}

const Object<LearningRateScalingSpec>& ScalingTable() {
  static const auto* t = new Object<LearningRateScalingSpec>({
      Int("referenceBatchSize", &LearningRateScalingSpec::reference_batch_size, 1, kMaxBatchSize,
          "The global batch size the learning rates are for, 1 to 1048576.")
          .Required(),
  });
  return *t;
}

const Object<OptimizerSpec>& OptimizerTable() {
  static const auto* t = new Object<OptimizerSpec>(
      Object<OptimizerSpec>(
          {
              Enum("type", &OptimizerSpec::type,
                   "sgd, momentum (heavy ball), nesterov (Nesterov momentum), adagrad, adam (L2 "
                   "weight decay added to the gradient as in torch.optim.Adam; decoupled AdamW "
                   "decay is not offered) or ftrl (FTRL-Proximal, McMahan et al. 2013, with "
                   "learningRate its alpha). model.type logistic, fm and deepfm take sgd, adagrad "
                   "or "
                   "ftrl.")
                  .Discriminator(),
              Number("learningRate", &OptimizerSpec::learning_rate,
                     {.min = 0.0, .min_exclusive = true},
                     "Peak learning rate, greater than 0 (for a global batch of "
                     "scaleLearningRate.referenceBatchSize when that is set)."),
              // PyTorch rejects Nesterov without momentum.
              NumberBy<OptimizerSpec>(
                  "momentum", &OptimizerSpec::momentum, kFractionClosedOpen,
                  [](const OptimizerSpec& o) {
                    return o.type == OptimizerType::kNesterov ? kFractionOpen : kFractionClosedOpen;
                  },
                  "momentum and nesterov only: in [0, 1) for momentum, (0, 1) for nesterov; 0.9 "
                  "when not set.")
                  .When("type", {"momentum", "nesterov"}, Phrase::kNotAllowed)
                  .DefaultWhenApplies(0.9),
              Number("weightDecay", &OptimizerSpec::weight_decay, {.min = 0.0},
                     "L2 weight decay added to the gradient, at least 0."),
              Number("beta1", &OptimizerSpec::beta1, kFractionClosedOpen,
                     "adam only; decay of the first moment, in [0, 1), 0.9 when not set.")
                  .When("type", {"adam"}, Phrase::kNotAllowed)
                  .DefaultWhenApplies(0.9),
              Number("beta2", &OptimizerSpec::beta2, kFractionClosedOpen,
                     "adam only; decay of the second moment, in [0, 1), 0.999 when not set.")
                  .When("type", {"adam"}, Phrase::kNotAllowed)
                  .DefaultWhenApplies(0.999),
              Number(
                  "epsilon", &OptimizerSpec::epsilon, kFractionOpenClosed,
                  "adam and adagrad only; added to the denominator, in (0, 1]; when not set 1e-8 "
                  "for adam, 1e-10 for adagrad.")
                  .When("type", {"adam", "adagrad"}, Phrase::kNotAllowed)
                  .DefaultsWhenApplies({{"adam", 1e-8}, {"adagrad", 1e-10}}),
              Number("beta", &OptimizerSpec::beta, {.min = 0.0, .min_exclusive = true},
                     "ftrl only; smooths the first steps' rates, greater than 0, 1 when not set.")
                  .When("type", {"ftrl"}, Phrase::kNotAllowed)
                  .DefaultWhenApplies(1.0),
              Number("l1", &OptimizerSpec::l1, {.min = 0.0},
                     "ftrl only; L1 regularization (weights exactly 0 below it), at least 0, 0 "
                     "when not set.")
                  .When("type", {"ftrl"}, Phrase::kNotAllowed),
              Number("l2", &OptimizerSpec::l2, {.min = 0.0},
                     "ftrl only; L2 regularization, at least 0, 0 when not set.")
                  .When("type", {"ftrl"}, Phrase::kNotAllowed),
              OptionalChild("scaleLearningRate", &OptimizerSpec::scale_learning_rate,
                            ScalingTable(),
                            "The linear scaling rule (Goyal et al. 2017): learningRate and "
                            "schedule.minLearningRate are for a global batch of referenceBatchSize "
                            "examples and are multiplied by (batchSize x workers) / "
                            "referenceBatchSize, warm-up included. Absent: used as written."),
          })
          // The CRD's side of momentum's range for nesterov (NumberBy checks it in C++).
          .Rule({.cel = {.rule = "!has(self.type) || self.type != 'nesterov' || "
                                 "!has(self.momentum) || self.momentum > 0.0",
                         .message = "must be in (0, 1) when type is nesterov",
                         .field_path = ".momentum",
                         .reason = "FieldValueInvalid"}}));
  return *t;
}

const Object<ScheduleSpec>& ScheduleTable() {
  static const auto* t = new Object<ScheduleSpec>({
      Enum("type", &ScheduleSpec::type,
           "constant, cosine (decay to minLearningRate) or step (multiply by gamma every stepSize "
           "steps).")
          .Discriminator(),
      Int("warmupSteps", &ScheduleSpec::warmup_steps, 0, kInt64Max,
          "Steps of linear warm-up from 0 to the learning rate, any type."),
      Int("stepSize", &ScheduleSpec::step_size, 1, kInt64Max,
          "step only (and required), at least 1.")
          .When("type", {"step"})
          .RequiredWhenApplies(),
      Number("gamma", &ScheduleSpec::gamma, kFractionOpenClosed,
             "step only; factor applied every stepSize steps, in (0, 1], 0.1 when not set.")
          .When("type", {"step"})
          .DefaultWhenApplies(0.1),
      Number("minLearningRate", &ScheduleSpec::min_learning_rate, {.min = 0.0},
             "cosine only; the floor of the decay, from 0 (when not set) to "
             "optimizer.learningRate.")
          .When("type", {"cosine"}),
  });
  return *t;
}

const Object<CompressionSpec>& CompressionTable() {
  static const auto* t = new Object<CompressionSpec>({
      Enum("type", &CompressionSpec::type,
           "none (float32), fp16 (2 bytes per element), int8 (a scale per block and 1 byte per "
           "element), onebit (signs and a mean magnitude per block) or topk (the "
           "largest-magnitude elements as (index, value) pairs). Model types logistic, fm and "
           "deepfm: none, fp16 or int8 (not logistic), each key's gradient row encoded with a "
           "scale of its own.")
          .Discriminator(),
      Number("ratio", &CompressionSpec::ratio, kFractionOpenClosed,
             "topk only; fraction of the elements sent, in (0, 1], 0.01 when not set.")
          .When("type", {"topk"})
          .DefaultWhenApplies(kDefaultTopKRatio),
      Int("block", &CompressionSpec::block, 1, kMaxCompressionBlock,
          "int8 and onebit only; elements per scale, 1 to 1048576, 256 when not set (for the "
          "dense partitions: a sparse table's rows get a scale each).")
          .When("type", {"int8", "onebit"})
          .DefaultWhenApplies(kDefaultCompressionBlock),
      // The codecs that drop most of the signal (sign only, a few elements) need the residual
      // to converge; fp16 and int8 lose little enough to go without it by default.
      Bool("errorFeedback", &CompressionSpec::error_feedback,
           "Not for none: the worker keeps what the codec lost and adds it to the next gradient. "
           "True when not set for onebit and topk, false for fp16 and int8.")
          .When("type", {"fp16", "int8", "onebit", "topk"}, Phrase::kNotAllowed)
          .DefaultsWhenApplies({{"onebit", true}, {"topk", true}, {"", false}}),
      Int("warmupSteps", &CompressionSpec::warmup_steps, 0, kMaxSparsityWarmupSteps,
          "topk only; DGC sparsity warm-up over this many steps, from 25% of the elements down to "
          "ratio, 0 (none, when not set) to 100000000.")
          .When("type", {"topk"}),
  });
  return *t;
}

}  // namespace

const Object<ModelSpec>& ModelTable() {
  static const auto* t = new Object<ModelSpec>({
      Enum("type", &ModelSpec::type,
           "softmax (multinomial logistic regression), mlp, or a click-through model over hashed "
           "sparse features, whose per-key weights live in sparse tables on the parameter "
           "servers: logistic (logistic regression), fm (a factorization machine, Rendle 2010) "
           "or deepfm (DeepFM, Guo et al. 2017: an fm and an MLP over each field's embedding, "
           "sharing the embeddings). logistic, fm and deepfm read format libsvm whose indices "
           "are 64-bit feature keys and labels 0/1 (or -1/+1), or format csv through the "
           "feature schema dataset.fields, and report the test AUC and log-loss.")
          .Discriminator()
          .Required(),
      IntList("hiddenLayers", &ModelSpec::hidden_layers, 1, kMaxHiddenLayers, 1, kMaxLayerUnits,
              "mlp and deepfm only (and required there): units of each ReLU hidden layer, 1 to "
              "16 layers of 1 to 65536 units (deepfm: of its MLP, whose input is every field's "
              "embedding, dataset.fields x embeddingSize floats).")
          .When("type", {"mlp", "deepfm"}, Phrase::kNotAllowed)
          .RequiredWhenApplies(),
      Int("embeddingSize", &ModelSpec::embedding_size, 1, kMaxEmbeddingSize,
          "fm and deepfm only: the size k of each feature's embedding, 1 to 1024, 8 when not "
          "set.")
          .When("type", {"fm", "deepfm"}, Phrase::kNotAllowed)
          .DefaultWhenApplies(kDefaultEmbeddingSize),
      Int("admitAfter", &ModelSpec::admit_after, 1, kMaxAdmitAfter,
          "logistic, fm and deepfm only: a feature key gets a row in the sparse table only at "
          "its admitAfter-th update, 1 to 255 (its updates before are dropped and counted, and "
          "it reads as its initial value until then: rare keys cost no memory). 1 when not "
          "set: every key at its first.")
          .When("type", {"logistic", "fm", "deepfm"}, Phrase::kNotAllowed)
          .DefaultWhenApplies(1),
      Int("expireAfterSteps", &ModelSpec::expire_after_steps, 0, kMaxExpireAfterSteps,
          "logistic, fm and deepfm only: a key's row not updated in this many of its server's "
          "updates (rounds in sync, pushes in async and ssp) is dropped and counted, and reads "
          "as its initial value again, 0 to 2^30. 0 when not set: rows never expire.")
          .When("type", {"logistic", "fm", "deepfm"}, Phrase::kNotAllowed),
  });
  return *t;
}

const Object<FeatureFieldSpec>& FeatureFieldTable() {
  static const auto* t = new Object<FeatureFieldSpec>({
      String("column", &FeatureFieldSpec::column, ColumnNameFormat(),
             "The column the field reads, by its name in the header.")
          .Required(),
      Enum("type", &FeatureFieldSpec::type,
           "categorical (the cell is a value, hashed into a key of this field: equal values of "
           "two fields give two keys) or numeric (the cell is a number: one key of the field "
           "weighted by the number, or with buckets one key per bucket). An empty cell is a "
           "missing value. categorical when not set.")
          .Discriminator(),
      String("separator", &FeatureFieldSpec::separator, ValueSeparatorFormat(),
             "categorical only: the cell holds several values split by this string (a "
             "multi-valued field, such as a movie's genres), each its own key.")
          .When("type", {"categorical"}),
      Enum("combiner", &FeatureFieldSpec::combiner,
           "categorical only, with a separator: each of a cell's n values weighs 1/n (mean, "
           "when not set) or 1 (sum).")
          .When("type", {"categorical"}),
      AscendingNumberList("buckets", &FeatureFieldSpec::buckets, 1, kMaxBuckets,
                          "numeric only: boundaries b_1 <= ... <= b_n of n + 1 buckets; a "
                          "number x falls in bucket k, the count of boundaries <= x, and becomes "
                          "that bucket's key with weight 1. Not set: x itself weighs the field's "
                          "one key.")
          .When("type", {"numeric"}),
      Int("hashSpace", &FeatureFieldSpec::hash_space, 1, kMaxHashSpace,
          "categorical only: at most this many keys for the field, values sharing them by hash "
          "(the hashing trick), 1 to 2^56; not set: 2^56, so distinct values practically never "
          "share a key.")
          .When("type", {"categorical"}),
  });
  return *t;
}

const Object<DatasetSpec>& DatasetTable() {
  static const auto* t = new Object<DatasetSpec>(
      Object<DatasetSpec>(
          {
              Enum("format", &DatasetSpec::format,
                   "File format of the data: idx (gzip or raw IDX, as Fashion-MNIST ships: images "
                   "and labels), libsvm (label index:value ..., gzip or plain), csv (a header "
                   "line, then numbers, or for model.type logistic, fm and deepfm the cells "
                   "dataset.fields reads; gzip or plain) or criteo (Criteo's click logs: "
                   "tab-separated label, 13 integer and 26 categorical columns, gzip or plain; "
                   "model.type logistic, fm and deepfm only).")
                  .Discriminator(),
              Child("train", &DatasetSpec::train, DataFilesTable(),
                    "The training examples and their labels.")
                  .Required(),
              OptionalChild("test", &DatasetSpec::test, DataFilesTable(),
                            "Test examples and labels, evaluated by worker 0 after every epoch."),
              Enum("sharding", &DatasetSpec::sharding,
                   "How examples are split among workers. row: each worker reads a disjoint, "
                   "near-equal range of the data. dynamic (libsvm and csv): small tasks of the "
                   "data are handed out by a queue the parameter servers keep, as workers ask "
                   "for them; a slow worker takes fewer, a failed worker's task goes back to the "
                   "queue. feature (libsvm and csv; model softmax, syncMode sync): every worker "
                   "reads every row but only its block of the feature columns, and trains its "
                   "block of the weights; the servers sum the blocks' partial margins. row when "
                   "not set.")
                  .Discriminator(),
              Bool("shuffle", &DatasetSpec::shuffle,
                   "Deterministic per-epoch shuffle within each worker's shard."),
              Int("features", &DatasetSpec::features, 1, kMaxFeatures,
                  "libsvm and csv only (and required there, except for model.type logistic, fm "
                  "and deepfm, whose features are hashed keys: not written then): the model's "
                  "input "
                  "width, 1 to 16777216; a csv file's feature columns must number exactly this, "
                  "a libsvm index must be below it (after indexBase).")
                  .When("format", {"libsvm", "csv"}),
              Int("classes", &DatasetSpec::classes, 2, kMaxClasses,
                  "libsvm and csv only (and required there, except for model.type logistic, fm "
                  "and deepfm, which have two: not written then): the number of classes, 2 to "
                  "65536; "
                  "labels are 0 to classes-1 (with classes: 2, LibSVM's -1 and +1 are taken as 0 "
                  "and 1).")
                  .When("format", {"libsvm", "csv"}),
              Int("indexBase", &DatasetSpec::index_base, 0, 1,
                  "libsvm only: the index of the first feature, 1 (LibSVM's convention, when not "
                  "set) "
                  "or 0.")
                  .When("format", {"libsvm"})
                  .DefaultWhenApplies(1),
              String("labelColumn", &DatasetSpec::label_column, ColumnNameFormat(),
                     "csv only: the label column, by its name in the header or as #k (1-based); "
                     "\"label\" when not set.")
                  .When("format", {"csv"})
                  .DefaultWhenApplies("label"),
              OptionalChild("storage", &DatasetSpec::storage, StorageTable(),
                            "How s3:// locations are reached: endpoint, region, addressing style "
                            "and the Secret holding the credentials."),
              Int("shuffleBuffer", &DatasetSpec::shuffle_buffer, 0, kMaxShuffleBuffer,
                  "libsvm and csv only: the rows of the window each worker shuffles its data "
                  "in as it streams it (up to 16777216); with at least as many rows as a "
                  "worker's share, each epoch is a full shuffle. 0 or not set: 65536 rows, or "
                  "fewer so that they take at most 64 MiB (at least one batch).")
                  .When("format", {"libsvm", "csv"}),
              List("fields", &DatasetSpec::fields, FeatureFieldTable(), kMaxFeatureFields,
                   UniqueKey<FeatureFieldSpec>{"column",
                                               [](const FeatureFieldSpec& f) { return f.column; },
                                               "another field reads column"},
                   "csv only, for model.type logistic, fm and deepfm (and required there): the "
                   "feature "
                   "schema, one field per column the model reads (up to 255; other columns are "
                   "ignored). Field k's keys carry k + 1 in their top 8 bits.")
                  .When("format", {"csv"}),
              Enum(
                  "onBadRecord", &DatasetSpec::on_bad_record,
                  "libsvm and csv only: fail (when not set: the job fails with an error naming the "
                  "file, line and column) or skip (the record is skipped and counted in the "
                  "summary "
                  "and status).")
                  .When("format", {"libsvm", "csv"})
                  .DefaultWhenApplies("fail"),
          })
          .Rule({.cel = {.rule = "!has(self.sharding) || self.sharding == 'row' || "
                                 "(has(self.format) && self.format in ['libsvm', 'csv'])",
                         .message = "sharding: dynamic and feature need format libsvm or csv",
                         .field_path = ".sharding"},
                 .check =
                     [](const DatasetSpec& d, const std::string& path) {
                       if (d.sharding == Sharding::kRow || d.format == DataFormat::kLibsvm ||
                           d.format == DataFormat::kCsv) {
                         return Status::Ok();
                       }
                       return InvalidArgument(path + ".sharding: " + Name(d.sharding) +
                                              " needs format libsvm or csv");
                     }})
          .Rule({.cel = {.rule = "!has(self.fields) || self.fields.all(f, f.column != "
                                 "(has(self.labelColumn) ? self.labelColumn : 'label'))",
                         .message = "a field must not read the label column",
                         .field_path = ".fields"},
                 .check =
                     [](const DatasetSpec& d, const std::string& path) {
                       for (size_t i = 0; i < d.fields.size(); ++i) {
                         if (d.fields[i].column == d.label_column) {
                           return InvalidArgument(path + ".fields[" + std::to_string(i) +
                                                  "].column: \"" + d.label_column +
                                                  "\" is the label column");
                         }
                       }
                       return Status::Ok();
                     }})
          .Rule({.cel = {.rule = DataFilesCel("train"),
                         .message = "idx takes train.images and train.labels; libsvm and csv take "
                                    "train.uri",
                         .field_path = ".train"},
                 .check =
                     [](const DatasetSpec& d, const std::string& path) {
                       return CheckDataFiles(d.train, d.format, path + ".train");
                     }})
          .Rule({.cel = {.rule = "!has(self.test) || " + DataFilesCel("test"),
                         .message = "idx takes test.images and test.labels; libsvm and csv take "
                                    "test.uri",
                         .field_path = ".test"},
                 .check = [](const DatasetSpec& d, const std::string& path) {
                   if (!d.test.has_value()) return Status::Ok();
                   return CheckDataFiles(*d.test, d.format, path + ".test");
                 }}));
  return *t;
}

const Object<TrainingSpec>& TrainingTable() {
  static const auto* t = new Object<TrainingSpec>(
      Object<TrainingSpec>(
          {
              Int("epochs", &TrainingSpec::epochs, 1, 100000,
                  "Passes over the training data, 1 to 100000."),
              Int("batchSize", &TrainingSpec::batch_size, 1, kMaxBatchSize,
                  "Examples per step per worker, 1 to 1048576; the global batch is batchSize x "
                  "workers (with sharding: feature, where every worker reads the same rows, "
                  "batchSize)."),
              Enum(
                  "syncMode", &TrainingSpec::sync_mode,
                  "sync (bulk-synchronous rounds: every step waits for every worker), async (every "
                  "push applied on arrival) or ssp (stale synchronous parallel: applied on "
                  "arrival, "
                  "but a worker that has done c steps starts step c+1 only once every unfinished "
                  "worker has done at least c - staleness steps).")
                  .Discriminator(),
              Int("staleness", &TrainingSpec::staleness, 0, kMaxStaleness,
                  "ssp only; the bound of the ssp rule (see syncMode), 0 to 1000000 steps, 3 when "
                  "not "
                  "set.")
                  .When("syncMode", {"ssp"})
                  .DefaultWhenApplies(kDefaultStaleness),
              Bool("stalenessAwareLR", &TrainingSpec::staleness_aware_lr,
                   "async and ssp only (false when not set): the server divides each push's "
                   "learning "
                   "rate by max(1, tau), tau being the updates applied to the partition since the "
                   "version the gradient was computed at (Zhang et al. 2016).")
                  .When("syncMode", {"async", "ssp"}),
              Int("workerTimeoutSeconds", &TrainingSpec::worker_timeout_seconds, 0,
                  kMaxWorkerTimeout,
                  "sync only: how long a round waits for a worker that sends nothing (dead and "
                  "not yet replaced, or stopped) before the servers go on without it, taking it "
                  "back when it returns; 0 to 86400 seconds, 0 = wait for it as long as it "
                  "takes, 60 when not set.")
                  .When("syncMode", {"sync"})
                  .DefaultWhenApplies(kDefaultWorkerTimeout),
              Int("pushChunkKiB", &TrainingSpec::push_chunk_kib, 0, kMaxPushChunkKiB,
                  "sync only: over the sockets, a worker's push to a parameter server whose "
                  "partitions take at least twice this goes in chunks of about this many KiB "
                  "(whole partitions), each answered with its partitions' next values as soon as "
                  "every worker has pushed them, so parameters come back while later chunks still "
                  "go out; 0 to 1048576, 0 = pushes go whole, 64 when not set (with the default "
                  "partitionSize, one partition a chunk).")
                  .When("syncMode", {"sync"})
                  .DefaultWhenApplies(kDefaultPushChunkKiB),
              Uint64("seed", &TrainingSpec::seed,
                     "Seed of model initialisation and data order (0 to 2^63-1)."),
              Child(
                  "optimizer", &TrainingSpec::optimizer, OptimizerTable(),
                  "The server-side optimizer, PyTorch semantics (torch.optim.SGD, Adagrad, Adam); "
                  "its state is sharded beside the parameters."),
              Child("schedule", &TrainingSpec::schedule, ScheduleTable(),
                    "The learning rate as a function of the global step."),
              Child("compression", &TrainingSpec::compression, CompressionTable(),
                    "How workers encode gradients on the wire; parameters travel back as float32 "
                    "whatever the type."),
          })
          // The cosine floor is a learning rate; above the peak rate the schedule would rise.
          .Rule({.cel = {.rule = "!has(self.schedule) || !has(self.schedule.minLearningRate) || "
                                 "self.schedule.minLearningRate <= (has(self.optimizer) && "
                                 "has(self.optimizer.learningRate) ? self.optimizer.learningRate "
                                 ": " +
                                 table_detail::CelDouble(OptimizerSpec{}.learning_rate) + ")",
                         .message = "must not exceed optimizer.learningRate",
                         .field_path = ".schedule.minLearningRate"},
                 .check = [](const TrainingSpec& spec, const std::string& path) {
                   if (spec.schedule.min_learning_rate <= spec.optimizer.learning_rate) {
                     return Status::Ok();
                   }
                   const std::string schedule = FieldPath(path, "schedule");
                   const std::string optimizer = FieldPath(path, "optimizer");
                   return FieldError(FieldPath(schedule, "minLearningRate"),
                                     "must not exceed " + FieldPath(optimizer, "learningRate") +
                                         " (" + FormatDouble(spec.schedule.min_learning_rate) +
                                         " > " + FormatDouble(spec.optimizer.learning_rate) + ")");
                 }}));
  return *t;
}

}  // namespace ringtrain::job::internal
