// The TrainingJob resource: plain value types for one job, shared by `ringtrain run` (the local
// launcher) and the Kubernetes operator.
//
// A TrainingJob is written once as YAML (apiVersion ringtrain.io/v1alpha1, kind TrainingJob)
// and parsed by ParseTrainingJob() in parse.h, which applies the defaults written here and
// rejects anything invalid with a message naming the field path. A value produced by the
// parser therefore satisfies every rule noted in the comments below; code that builds these
// structs by hand is responsible for the same rules.
//
// The member comments give the YAML field name in camelCase. The field table
// (contract/src/spec_table*.cc) is the one declaration of each field's name, type, range,
// default, conditions and description: the parser, ToJson and the CRD (`ringtrain crd`) are
// derived from it. Defaults are the members' initial values below. Enum values the table
// reserves (for example dataset format "csv") are rejected by the parser as "not supported yet".
//
// Thread-safety: plain values; safe to copy and share read-only between threads.
#ifndef RINGTRAIN_JOB_SPEC_H_
#define RINGTRAIN_JOB_SPEC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringtrain::job {

inline constexpr char kApiVersion[] = "ringtrain.io/v1alpha1";
inline constexpr char kKind[] = "TrainingJob";

// Where pods mount the job's spec (the operator's ConfigMap) and write their termination
// message: no spec.*.volumeMounts may use them.
inline constexpr char kSpecMountDir[] = "/etc/ringtrain";
inline constexpr char kTerminationLogPath[] = "/dev/termination-log";
// The pod volume holding the spec; no spec.volumes entry may take its name.
inline constexpr char kSpecVolumeName[] = "spec";
// At most this many spec.volumes, and this many volumeMounts per role.
inline constexpr int kMaxVolumes = 64;

// metadata.name is a DNS-1035 label of at most this many characters, so that pod names
// ("<name>-worker-4095") stay within the 63-character limit of a DNS label.
inline constexpr int kMaxJobNameLength = 50;

// Each enum has `const char* Name(E)` returning its YAML spelling ("mlp", "OnFailure").

// kLogistic, kFm and kDeepFm are click-through models over hashed sparse keys (IsSparseModel).
enum class ModelType { kSoftmax, kMlp, kLogistic, kFm, kDeepFm };
enum class DataFormat { kIdx, kLibsvm, kCsv, kCriteo };
enum class BadRecordPolicy { kFail, kSkip };
enum class Sharding { kRow, kDynamic, kFeature };
enum class OptimizerType { kSgd, kMomentum, kNesterov, kAdagrad, kAdam, kFtrl };
enum class ScheduleType { kConstant, kCosine, kStep };
enum class CompressionType { kNone, kFp16, kInt8, kOneBit, kTopK };
enum class SyncMode { kSync, kAsync, kSsp };
enum class RestartPolicy { kNever, kOnFailure, kExitCode };
enum class CleanPodPolicy { kAll, kRunning, kNone };
enum class Authentication { kCurve, kNone };
enum class AddressingStyle { kPath, kVirtual };
enum class FeatureType { kCategorical, kNumeric };
enum class Combiner { kMean, kSum };

// EnumTraits<E>::kValues: every value of E, in the order errors and the CRD list them. A unit
// test walks the enum's range to check that no value is missing here.
template <typename E>
struct EnumTraits;
template <>
struct EnumTraits<ModelType> {
  static constexpr ModelType kValues[] = {ModelType::kSoftmax, ModelType::kMlp,
                                          ModelType::kLogistic, ModelType::kFm, ModelType::kDeepFm};
};
template <>
struct EnumTraits<DataFormat> {
  static constexpr DataFormat kValues[] = {DataFormat::kIdx, DataFormat::kLibsvm, DataFormat::kCsv,
                                           DataFormat::kCriteo};
};
template <>
struct EnumTraits<BadRecordPolicy> {
  static constexpr BadRecordPolicy kValues[] = {BadRecordPolicy::kFail, BadRecordPolicy::kSkip};
};
template <>
struct EnumTraits<Sharding> {
  static constexpr Sharding kValues[] = {Sharding::kRow, Sharding::kDynamic, Sharding::kFeature};
};
template <>
struct EnumTraits<OptimizerType> {
  static constexpr OptimizerType kValues[] = {OptimizerType::kSgd,      OptimizerType::kMomentum,
                                              OptimizerType::kNesterov, OptimizerType::kAdagrad,
                                              OptimizerType::kAdam,     OptimizerType::kFtrl};
};
template <>
struct EnumTraits<ScheduleType> {
  static constexpr ScheduleType kValues[] = {ScheduleType::kConstant, ScheduleType::kCosine,
                                             ScheduleType::kStep};
};
template <>
struct EnumTraits<CompressionType> {
  static constexpr CompressionType kValues[] = {CompressionType::kNone, CompressionType::kFp16,
                                                CompressionType::kInt8, CompressionType::kOneBit,
                                                CompressionType::kTopK};
};
template <>
struct EnumTraits<SyncMode> {
  static constexpr SyncMode kValues[] = {SyncMode::kSync, SyncMode::kAsync, SyncMode::kSsp};
};
template <>
struct EnumTraits<RestartPolicy> {
  static constexpr RestartPolicy kValues[] = {RestartPolicy::kNever, RestartPolicy::kOnFailure,
                                              RestartPolicy::kExitCode};
};
template <>
struct EnumTraits<CleanPodPolicy> {
  static constexpr CleanPodPolicy kValues[] = {CleanPodPolicy::kAll, CleanPodPolicy::kRunning,
                                               CleanPodPolicy::kNone};
};
template <>
struct EnumTraits<AddressingStyle> {
  static constexpr AddressingStyle kValues[] = {AddressingStyle::kPath, AddressingStyle::kVirtual};
};
template <>
struct EnumTraits<FeatureType> {
  static constexpr FeatureType kValues[] = {FeatureType::kCategorical, FeatureType::kNumeric};
};
template <>
struct EnumTraits<Combiner> {
  static constexpr Combiner kValues[] = {Combiner::kMean, Combiner::kSum};
};
template <>
struct EnumTraits<Authentication> {
  static constexpr Authentication kValues[] = {Authentication::kCurve, Authentication::kNone};
};

const char* Name(ModelType v);
const char* Name(DataFormat v);
const char* Name(BadRecordPolicy v);
const char* Name(Sharding v);
const char* Name(OptimizerType v);
const char* Name(ScheduleType v);
const char* Name(CompressionType v);
const char* Name(SyncMode v);
const char* Name(RestartPolicy v);
const char* Name(CleanPodPolicy v);
const char* Name(Authentication v);
const char* Name(AddressingStyle v);
const char* Name(FeatureType v);
const char* Name(Combiner v);

// The click-through models over hashed sparse keys (model.type logistic, fm and deepfm): their
// per-key parameters live in sparse tables on the servers; they read LibSVM whose indices are
// 64-bit keys, or CSV through a feature schema, with labels 0/1.
inline bool IsSparseModel(ModelType type) {
  return type == ModelType::kLogistic || type == ModelType::kFm || type == ModelType::kDeepFm;
}

// spec.model
struct ModelSpec {
  ModelType type = ModelType::kSoftmax;  // type (required)
  // hiddenLayers: units per hidden layer. kMlp and kDeepFm (its deep part): 1..16 entries, each
  // 1..65536. The other types: empty.
  std::vector<int> hidden_layers;
  // embeddingSize: kFm and kDeepFm, 1..1024, 8 when not written; 0 for the other types.
  int embedding_size = 0;
  // The sparse models' table hygiene (ps/sparse_shard.h). admitAfter: a key gets a row at its
  // admitAfter-th update, 1..255 (1 when not written: at its first). expireAfterSteps: a row
  // not updated in that many of its server's updates is dropped, 0..2^30 (0: never). Both 1
  // and 0 for the dense models.
  int admit_after = 1;
  int64_t expire_after_steps = 0;

  bool operator==(const ModelSpec&) const = default;
};

// spec.dataset.train / spec.dataset.test: where the examples and their labels are. Each
// location is "file:///absolute/path", a plain path, "http(s)://..." or "s3://bucket/key".
// idx names two files (images, labels); libsvm and csv name the data (uri): one file, a
// directory or key prefix ending in '/', or a glob of part files.
struct DataFiles {
  std::string images;  // images: idx (required there)
  std::string labels;  // labels: idx (required there)
  std::string uri;     // uri: libsvm and csv (required there)

  bool operator==(const DataFiles&) const = default;
};

// spec.dataset.storage: how s3:// locations are reached. In a cluster the operator gives the
// workers these as the environment AWS's tools read (AWS_ENDPOINT_URL_S3, AWS_REGION,
// AWS_S3_ADDRESSING_STYLE) and the credentials from the Secret by reference (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN if the Secret has it): never in the ConfigMap.
// `ringtrain run` takes endpoint, region and style from here over its environment, and the
// credentials from its environment.
struct StorageSpec {
  std::string endpoint;  // endpoint: an S3-compatible store, http(s)://host[:port]
  std::string region;    // region
  AddressingStyle addressing_style = AddressingStyle::kPath;  // addressingStyle
  std::string credentials_secret;  // credentialsSecret: a Secret in the job's namespace

  bool operator==(const StorageSpec&) const = default;
};

// spec.dataset
// spec.dataset.fields[]: one feature of a click-through model's csv data, read from one column
// (data/feature_schema.h has the keys and values each type gives).
struct FeatureFieldSpec {
  std::string column;                            // column (required): its name in the header
  FeatureType type = FeatureType::kCategorical;  // type
  std::string separator;                         // separator: categorical; multi-valued
  Combiner combiner = Combiner::kMean;           // combiner: with a separator only
  std::vector<double> buckets;                   // buckets: numeric; ascending boundaries
  int64_t hash_space = 0;                        // hashSpace: categorical; 0 = 2^56 keys

  bool operator==(const FeatureFieldSpec&) const = default;
};

struct DatasetSpec {
  DataFormat format = DataFormat::kIdx;  // format
  DataFiles train;                       // train (required)
  std::optional<DataFiles> test;         // test
  Sharding sharding = Sharding::kRow;    // sharding: how examples are split among workers
  bool shuffle = true;                   // shuffle
  // libsvm and csv (required there): the model's input width (a csv file's feature columns
  // must number exactly this) and the classes, labels 0..classes-1 (LibSVM's -1/+1 labels
  // are taken as 0/1 with classes: 2). idx reads both from the files (10 classes).
  int features = 0;                    // features
  int classes = 0;                     // classes
  int index_base = 1;                  // indexBase: libsvm, 0 or 1
  std::string label_column = "label";  // labelColumn: csv, a column name or "#<k>" (1-based)
  BadRecordPolicy on_bad_record = BadRecordPolicy::kFail;  // onBadRecord: libsvm and csv
  // shuffleBuffer: libsvm and csv, the rows of the shuffle window each worker draws its batches
  // from (data/text_stream.h); 0 when not written: 65536 rows, or fewer so they take at most
  // 64 MiB (never fewer than a batch).
  int shuffle_buffer = 0;
  std::optional<StorageSpec> storage;  // storage
  // fields: csv with model.type logistic and fm only (and required there): the feature schema.
  std::vector<FeatureFieldSpec> fields;

  bool operator==(const DatasetSpec&) const = default;
};

// spec.training.optimizer.scaleLearningRate: the linear scaling rule (Goyal et al. 2017,
// "Accurate, Large Minibatch SGD"). learningRate (and schedule.minLearningRate) are the rates
// for a global batch of referenceBatchSize examples; the job runs with them multiplied by
// (batchSize x workers) / referenceBatchSize, warm-up included.
struct LearningRateScalingSpec {
  int reference_batch_size = 1;  // referenceBatchSize (required): 1..1048576

  bool operator==(const LearningRateScalingSpec&) const = default;
};

// spec.training.optimizer: the server-side optimizer, PyTorch semantics (see
// ringtrain/optim/optimizer.h). A field that does not apply to the type must not be written;
// the parser then holds 0 in it.
struct OptimizerSpec {
  OptimizerType type = OptimizerType::kSgd;  // type
  double learning_rate = 0.01;               // learningRate: > 0, finite
  // momentum: kMomentum (in [0, 1)) and kNesterov (in (0, 1)) only, 0.9 when not written.
  // Always 0 for the other types, so plain SGD is momentum SGD with momentum 0.
  double momentum = 0.0;
  double weight_decay = 0.0;  // weightDecay: >= 0, finite; L2 added to the gradient, every type
  double beta1 = 0.0;         // beta1: kAdam only, in [0, 1); 0.9 when not written
  double beta2 = 0.0;         // beta2: kAdam only, in [0, 1); 0.999 when not written
  // epsilon: kAdam and kAdagrad only, in (0, 1]; when not written 1e-8 for kAdam and 1e-10
  // for kAdagrad (the PyTorch defaults).
  double epsilon = 0.0;
  // kFtrl only (FTRL-Proximal, McMahan et al. 2013; learningRate is its alpha): beta > 0 (1 when
  // not written), l1 >= 0 and l2 >= 0 (0 when not written); 0 for the other types.
  double beta = 0.0;
  double l1 = 0.0;
  double l2 = 0.0;
  // scaleLearningRate: absent = the learning rates are used as written.
  std::optional<LearningRateScalingSpec> scale_learning_rate;

  bool operator==(const OptimizerSpec&) const = default;
};

// spec.training.schedule: the learning rate as a function of the global step.
struct ScheduleSpec {
  ScheduleType type = ScheduleType::kConstant;  // type
  int64_t warmup_steps = 0;                     // warmupSteps: >= 0; linear warm-up, any type
  int64_t step_size = 0;           // stepSize: kStep only, where it is required and > 0
  double gamma = 0.1;              // gamma: kStep only; factor per stepSize steps, in (0, 1]
  double min_learning_rate = 0.0;  // minLearningRate: kCosine only; floor, in [0, learningRate]

  bool operator==(const ScheduleSpec&) const = default;
};

// spec.training.compression: how workers encode gradients on the wire (ringtrain/compress/
// codec.h has the byte layouts). Parameters travel back as float32 whatever the type. A field
// that does not apply to the type must not be written; the parser then holds 0 / false in it.
struct CompressionSpec {
  CompressionType type = CompressionType::kNone;  // type
  double ratio = 0.0;  // ratio: kTopK only; fraction of elements sent, in (0, 1], default 0.01
  int block = 0;       // block: kInt8 and kOneBit only; elements per scale, 1..1048576, default 256
  // errorFeedback: the worker keeps what the codec lost and adds it to the next gradient.
  // Not for kNone; default true for kOneBit and kTopK, false for kFp16 and kInt8.
  bool error_feedback = false;
  // warmupSteps: kTopK only, >= 0 (default 0 = none): DGC sparsity warm-up over this many
  // steps, from 25% down to ratio (ringtrain/compress/sparsity_warmup.h).
  int64_t warmup_steps = 0;

  bool operator==(const CompressionSpec&) const = default;
};

// spec.training
struct TrainingSpec {
  int epochs = 1;       // epochs: 1..100000
  int batch_size = 32;  // batchSize: per worker, 1..1048576
  // syncMode: kSync = bulk synchronous rounds; kAsync = every push applied on arrival;
  // kSsp = applied on arrival, but a worker that has done c steps starts step c+1 only once
  // every unfinished worker has done at least c - staleness steps.
  SyncMode sync_mode = SyncMode::kSync;
  int staleness = 0;  // staleness: kSsp only, 0..1000000, default 3; 0 for the other modes
  // stalenessAwareLR: kAsync and kSsp only (default false). The server divides each push's
  // learning rate by max(1, tau), tau = updates applied to the partition since the version the
  // gradient was computed at (Zhang et al. 2016).
  bool staleness_aware_lr = false;
  // workerTimeoutSeconds: kSync only (the other modes keep the default and ignore it),
  // 0..86400, default 60. A round waits this long for a worker that sends nothing, then the
  // servers go on without it until it returns (ps::ServerCore::Exclude); 0 = as long as it
  // takes.
  int worker_timeout_seconds = 60;
  // pushChunkKiB: kSync only (the other modes keep the default and ignore it), 0..1048576,
  // default 64. Over the sockets a worker's push to a server holding at least twice this goes
  // in chunks of about this size, each answered with its partitions' next values as soon as
  // their round is applied (streamed rounds, worker/ps_client.h); 0 = pushes go whole.
  int push_chunk_kib = 64;
  uint64_t seed = 42;           // seed: any unsigned 64-bit value
  OptimizerSpec optimizer;      // optimizer
  ScheduleSpec schedule;        // schedule
  CompressionSpec compression;  // compression

  bool operator==(const TrainingSpec&) const = default;
};

// resources of a role, as in a Kubernetes container. Keys are "cpu", "memory",
// "ephemeral-storage" or extended resources containing '/' (e.g. "nvidia.com/gpu"); values
// are Kubernetes quantities ("1", "500m", "1Gi", "1.5", "2e3"), never negative. A request
// must not exceed the limit of the same resource.
struct ResourceRequirements {
  std::map<std::string, std::string> requests;  // requests
  std::map<std::string, std::string> limits;    // limits

  bool operator==(const ResourceRequirements&) const = default;
};

// The source of one of spec.volumes: which of the Kubernetes volume types it is.
enum class VolumeSourceKind {
  kPersistentVolumeClaim,  // persistentVolumeClaim: {claimName, readOnly}
  kHostPath,               // hostPath: {path, type}
  kEmptyDir,               // emptyDir: {medium, sizeLimit}
  kNfs,                    // nfs: {server, path, readOnly}
  kConfigMap,              // configMap: {name, optional}
  kSecret,                 // secret: {secretName, optional}
};

// spec.volumes[]: a Kubernetes volume the pods of the job can mount (a data set on a
// PersistentVolumeClaim or NFS share, a node's directory, scratch space). Exactly one source;
// the fields of the other sources stay empty. Only the pods of a role that mounts a volume
// (spec.workers.volumeMounts, spec.parameterServers.volumeMounts) get it. `ringtrain run`
// ignores volumes: on one machine the dataset paths are read as they are.
struct VolumeSpec {
  // name: DNS-1123 label, unique among spec.volumes, not kSpecVolumeName.
  std::string name;
  VolumeSourceKind kind = VolumeSourceKind::kEmptyDir;
  // kPersistentVolumeClaim claimName, kConfigMap name, kSecret secretName (DNS-1123
  // subdomains); kHostPath and kNfs path (absolute, at most 4096 characters); empty for
  // kEmptyDir.
  std::string source_name;
  std::string server;  // kNfs server (required): a host name or address
  // kHostPath type: "" (no check), DirectoryOrCreate, Directory, FileOrCreate, File, Socket,
  // CharDevice or BlockDevice.
  std::string host_path_type;
  std::string medium;      // kEmptyDir medium: "" (the node's disk) or "Memory" (tmpfs)
  std::string size_limit;  // kEmptyDir sizeLimit: a non-negative quantity; "" = none
  bool read_only = false;  // kPersistentVolumeClaim and kNfs readOnly
  bool optional = false;   // kConfigMap and kSecret optional (missing object or keys allowed)

  bool operator==(const VolumeSpec&) const = default;
};

// spec.workers.volumeMounts[] and spec.parameterServers.volumeMounts[]: where the containers
// of that role see one of spec.volumes.
struct VolumeMountSpec {
  std::string name;  // name (required): one of spec.volumes
  // mountPath (required): absolute, no ':', at most 4096 characters, unique within the role,
  // neither kSpecMountDir (nor below it) nor kTerminationLogPath.
  std::string mount_path;
  // subPath: a relative path inside the volume without ".." (empty = the volume's root).
  std::string sub_path;
  bool read_only = false;  // readOnly

  bool operator==(const VolumeMountSpec&) const = default;
};

// spec.workers (and the common part of spec.parameterServers).
struct ReplicaSpec {
  int replicas = 1;                // replicas: 1..4096 for workers, 1..1024 for parameter servers
  ResourceRequirements resources;  // resources
  std::string image;  // image: overrides spec.image for this role; empty = use spec.image
  std::vector<VolumeMountSpec> volume_mounts;  // volumeMounts: at most kMaxVolumes

  bool operator==(const ReplicaSpec&) const = default;
};

// The bounds of parameterServers.partitionSize.
inline constexpr int64_t kMinPartitionSize = 1024;
inline constexpr int64_t kMaxPartitionSize = 67108864;

// spec.parameterServers
struct ParameterServerSpec : ReplicaSpec {
  // partitionSize: number of parameters (elements) per model partition,
  // kMinPartitionSize..kMaxPartitionSize.
  int64_t partition_size = 65536;
  // replication: 0 or 1. With 1, server j's shard is also kept by server (j + 1) mod replicas,
  // its successor (chain replication: a push is acknowledged once both have applied it), and a
  // replaced server copies its shard back from there, so no acknowledged update is lost.
  // 1 needs at least 2 replicas.
  int replication = 0;

  bool operator==(const ParameterServerSpec&) const = default;
};

// spec.runPolicy (as in Kubeflow's RunPolicy).
struct RunPolicy {
  RestartPolicy restart_policy = RestartPolicy::kOnFailure;    // restartPolicy
  int backoff_limit = 3;                                       // backoffLimit: 0..1000
  std::optional<int64_t> active_deadline_seconds;              // activeDeadlineSeconds: > 0
  std::optional<int64_t> ttl_seconds_after_finished;           // ttlSecondsAfterFinished: >= 0
  CleanPodPolicy clean_pod_policy = CleanPodPolicy::kRunning;  // cleanPodPolicy
  bool suspend = false;                                        // suspend

  bool operator==(const RunPolicy&) const = default;
};

// spec.checkpoint: where and how often each parameter server checkpoints its shard
// (ringtrain/ckpt/). Absent: no checkpoints. In a cluster the directory must be on a volume the
// parameter servers mount read-write that outlives a pod (a persistentVolumeClaim or nfs):
// CheckForCluster in parse.h, and the CRD, refuse anything else.
struct CheckpointSpec {
  // path (required): a directory, "file:///absolute/path" or a plain path, or a key prefix in
  // an object store, "s3://bucket/prefix" (reached as spec.dataset.storage says); each server
  // writes under <path>/<job name>/ps-<index>/.
  std::string path;
  int64_t every_steps = 0;      // everySteps: >= 0; a checkpoint each this many steps, 0 = off
  int64_t every_seconds = 600;  // everySeconds: >= 0; and/or each this many seconds, 0 = off
  int keep = 3;                 // keep: 1..1000 checkpoints kept per server
  // At least one of every_steps and every_seconds is > 0.

  bool operator==(const CheckpointSpec&) const = default;
};

// spec.output: where the trained model goes. At the end of training worker 0 writes
// <path>/model.onnx (ONNX; ringtrain/export/onnx.h describes its inputs and outputs). Absent:
// `ringtrain run` writes to a default directory of its own, a cluster job writes no model (its
// checkpoints still hold it: `ringtrain export`). In a cluster the directory must be on a volume
// the workers mount read-write that outlives a pod (a persistentVolumeClaim or nfs):
// CheckForCluster in parse.h, and the CRD, refuse anything else.
struct OutputSpec {
  // path (required): a directory, "file:///absolute/path" or a plain path (created if
  // missing), or a key prefix in an object store, "s3://bucket/prefix".
  std::string path;

  bool operator==(const OutputSpec&) const = default;
};

// spec.security: who may talk to a job's processes.
struct SecuritySpec {
  // authentication: kCurve ("curve", the default): every connection between the job's
  // processes and its supervisor is ZeroMQ CURVE with a key pair per process, and only the
  // job's keys are admitted (ringtrain/auth/). kNone ("none"): plaintext, anyone who reaches a
  // port may speak; only by this explicit choice.
  Authentication authentication = Authentication::kCurve;

  bool operator==(const SecuritySpec&) const = default;
};

// spec
struct TrainingJobSpec {
  std::string image;      // image: container image of both roles; empty = the operator's default
  ModelSpec model;        // model (required)
  DatasetSpec dataset;    // dataset (required)
  TrainingSpec training;  // training
  ParameterServerSpec parameter_servers;     // parameterServers
  ReplicaSpec workers;                       // workers
  RunPolicy run_policy;                      // runPolicy
  std::vector<VolumeSpec> volumes;           // volumes: at most kMaxVolumes
  std::optional<CheckpointSpec> checkpoint;  // checkpoint
  std::optional<OutputSpec> output;          // output
  SecuritySpec security;                     // security

  bool operator==(const TrainingJobSpec&) const = default;
};

// The examples of one step of the whole job: batchSize x workers; with sharding: feature,
// where every worker reads the same rows (its own columns of them), batchSize.
int64_t GlobalBatchSize(const TrainingJobSpec& spec);
// How many workers read each example: 1, or every worker with sharding: feature (each its own
// columns). The job's examples are the workers' summed, divided by this.
int WorkersPerExample(const TrainingJobSpec& spec);

// True for a location in an object store (s3://bucket/prefix), where spec.checkpoint.path and
// spec.output.path may point too: checkpoints and the model are then objects, and the
// processes that write them need spec.dataset.storage's endpoint and credentials.
bool IsObjectStoreLocation(std::string_view location);

// metadata
struct ObjectMeta {
  std::string name;  // name (required): DNS-1035 label of at most kMaxJobNameLength characters
  std::string namespace_ = "default";              // namespace: DNS-1123 label
  std::map<std::string, std::string> labels;       // labels: Kubernetes label syntax
  std::map<std::string, std::string> annotations;  // annotations: keys in label-key syntax

  bool operator==(const ObjectMeta&) const = default;
};

struct TrainingJob {
  std::string api_version = kApiVersion;  // apiVersion (required): kApiVersion
  std::string kind = kKind;               // kind (required): kKind
  ObjectMeta metadata;                    // metadata (required)
  TrainingJobSpec spec;                   // spec (required)

  bool operator==(const TrainingJob&) const = default;
};

}  // namespace ringtrain::job

#endif  // RINGTRAIN_JOB_SPEC_H_
