// The field table of the TrainingJob object: apiVersion, kind, metadata, and of spec its
// image, replica specs (with their resources), run policy and the parts declared in
// spec_table_training.cc, spec_table_volumes.cc and spec_table_storage.cc.
#include "spec_table.h"

#include <cmath>
#include <limits>
#include <map>

#include "checks.h"
#include "formats.h"

namespace ringtrain::job::internal {
namespace {

using nlohmann::json;

// CEL: the spec's model is a click-through model over sparse keys (job::IsSparseModel).
std::string IsSparseModelCel() {
  std::string list;
  for (const ModelType t : EnumTraits<ModelType>::kValues) {
    if (!IsSparseModel(t)) continue;
    list += (list.empty() ? "'" : ", '") + std::string(Name(t)) + "'";
  }
  return "self.model.type in [" + list + "]";
}

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int kMaxParameterServers = 1024;
constexpr int kMaxWorkers = 4096;
// The CRD's bound on the resources of a role; CEL's cost estimate needs one.
constexpr int64_t kMaxResources = 32;
constexpr char kResourceNames[] = "cpu, memory, ephemeral-storage";

// ---- metadata -----------------------------------------------------------------------------

// labels or annotations: string -> string with Kubernetes key syntax.
Status ParseStringMap(const json& v, const std::string& path, bool label_values,
                      std::map<std::string, std::string>* out) {
  RT_RETURN_IF_ERROR(ExpectObject(v, path));
  for (const auto& [key, value] : v.items()) {
    const std::string entry_path = MapKeyPath(path, key);
    RT_RETURN_IF_ERROR(CheckLabelKey(entry_path, key));
    std::string text;
    RT_RETURN_IF_ERROR(ReadString(value, entry_path, &text));
    if (label_values) RT_RETURN_IF_ERROR(CheckLabelValue(entry_path, text));
    (*out)[key] = std::move(text);
  }
  return Status::Ok();
}

// A string map of ObjectMeta, checked by the parser and left to the API server by the CRD.
Field<ObjectMeta> StringMap(std::string name, std::map<std::string, std::string> ObjectMeta::*m,
                            bool label_values) {
  return Custom<ObjectMeta>(
             std::move(name), Schema{},
             [m, label_values](const json& v, const std::string& path, ObjectMeta* out) {
               return ParseStringMap(v, path, label_values, &(out->*m));
             },
             [m](const ObjectMeta& s) -> std::optional<json> { return s.*m; },
             [m](ObjectMeta* out) { (out->*m).clear(); })
      .NotInCrd();
}

const Object<ObjectMeta>& MetadataTable() {
  static const auto* t = new Object<ObjectMeta>(
      Object<ObjectMeta>(
          {
              String("name", &ObjectMeta::name, JobNameFormat(), "").Required().NotRequiredByCrd(),
              String("namespace", &ObjectMeta::namespace_, NamespaceFormat(), "").NotInCrd(),
              StringMap("labels", &ObjectMeta::labels, true),
              StringMap("annotations", &ObjectMeta::annotations, false),
          })
          // Written by the API server on stored objects; accepted so the operator can parse them.
          .Ignoring({"uid", "resourceVersion", "generation", "creationTimestamp",
                     "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences",
                     "finalizers", "managedFields", "generateName", "selfLink"}));
  return *t;
}

// ---- resources ----------------------------------------------------------------------------

// The text of a quantity given as a YAML/JSON number: integers as written, whole floats
// without a fraction (1e9 -> "1000000000"), other floats in shortest form ("0.5").
std::string NumberToQuantityText(const json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  double d = v.get<double>();
  if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 1e15) {
    return std::to_string(static_cast<int64_t>(d));
  }
  return FormatDouble(d);
}

bool IsStandardResource(std::string_view name) {
  return name == "cpu" || name == "memory" || name == "ephemeral-storage";
}

// requests or limits: resource name -> quantity.
Status ParseResourceList(const json& v, const std::string& path,
                         std::map<std::string, std::string>* out) {
  RT_RETURN_IF_ERROR(ExpectObject(v, path));
  for (const auto& [name, value] : v.items()) {
    const std::string entry_path = MapKeyPath(path, name);
    if (!IsStandardResource(name)) {
      if (name.find('/') == std::string::npos) {
        std::string hint = ClosestName(name, {"cpu", "memory", "ephemeral-storage"});
        return FieldError(
            entry_path, hint.empty() ? std::string("unknown resource (expected ") + kResourceNames +
                                           " or an extended resource such as nvidia.com/gpu)"
                                     : "unknown resource (did you mean \"" + hint + "\"?)");
      }
      RT_RETURN_IF_ERROR(CheckLabelKey(entry_path, name));
    }
    if (value.is_null()) continue;
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_number()) {
      text = NumberToQuantityText(value);
    } else {
      return FieldError(entry_path,
                        "expected a quantity (string or number), got " + Describe(value));
    }
    std::optional<long double> q = ParseQuantity(text);
    if (!q) {
      return FieldError(entry_path,
                        "must be a Kubernetes quantity such as \"1\", \"500m\" or \"1Gi\" (got \"" +
                            text + "\")");
    }
    if (*q < 0) return FieldError(entry_path, "must not be negative (got \"" + text + "\")");
    (*out)[name] = text;
  }
  return Status::Ok();
}

// The CRD schema of requests or limits.
Schema ResourceListSchema(std::string description) {
  Schema quantity;
  quantity.type = Schema::Type::kIntOrString;
  quantity.pattern = "^\\+?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+|[mkMGTPE]|[KMGTPE]i)?$";
  quantity.max_length = 64;
  quantity.rules = {{.rule = "type(self) == int ? self >= 0 : !string(self).startsWith('-')",
                     .message = "must not be negative"}};
  Schema s = ObjectSchema(std::move(description));
  s.max_properties = kMaxResources;
  s.additional_properties = std::make_shared<const Schema>(std::move(quantity));
  s.rules = {{.rule = "self.all(k, k == 'cpu' || k == 'memory' || k == 'ephemeral-storage' || "
                      "(k.indexOf('/') <= 253 && "
                      "k.matches('^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?[.])*[a-z0-9]([-a-z0-9]{0,"
                      "61}[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')))",
              .message = std::string("unknown resource: expected ") + kResourceNames +
                         " or an extended resource such as nvidia.com/gpu"}};
  return s;
}

Field<ResourceRequirements> ResourceList(
    std::string name, std::map<std::string, std::string> ResourceRequirements::*m,
    std::string description) {
  return Custom<ResourceRequirements>(
      std::move(name), ResourceListSchema(std::move(description)),
      [m](const json& v, const std::string& path, ResourceRequirements* out) {
        return ParseResourceList(v, path, &(out->*m));
      },
      [m](const ResourceRequirements& s) -> std::optional<json> { return s.*m; },
      [m](ResourceRequirements* out) { (out->*m).clear(); });
}

const Object<ResourceRequirements>& ResourcesTable() {
  static const auto* t = new Object<ResourceRequirements>(
      Object<ResourceRequirements>(
          {
              ResourceList(
                  "requests", &ResourceRequirements::requests,
                  std::string("Minimum resources: ") + kResourceNames +
                      " or an extended resource such as nvidia.com/gpu, mapped to quantities "
                      "(\"1\", \"500m\", \"1Gi\")."),
              ResourceList("limits", &ResourceRequirements::limits,
                           "Maximum resources, with the same keys as requests; a request must not "
                           "exceed the limit of the same resource."),
          })
          .Rule({.cel = {.rule = "!has(self.requests) || !has(self.limits) || "
                                 "self.requests.all(k, !(k in self.limits) || "
                                 "!isQuantity(string(self.requests[k])) || "
                                 "!isQuantity(string(self.limits[k])) || "
                                 "quantity(string(self.requests[k])).compareTo("
                                 "quantity(string(self.limits[k]))) <= 0)",
                         .message = "a resource request must not exceed its limit",
                         .field_path = ".requests"},
                 .check = [](const ResourceRequirements& r, const std::string& path) {
                   for (const auto& [name, request] : r.requests) {
                     auto limit = r.limits.find(name);
                     if (limit == r.limits.end()) continue;
                     if (*ParseQuantity(request) <= *ParseQuantity(limit->second)) continue;
                     return FieldError(MapKeyPath(FieldPath(path, "requests"), name),
                                       "must not exceed " +
                                           MapKeyPath(FieldPath(path, "limits"), name) + " (" +
                                           request + " > " + limit->second + ")");
                   }
                   return Status::Ok();
                 }}));
  return *t;
}

// ---- replicas, run policy -----------------------------------------------------------------

// The fields both roles have, in the order unknown-field messages list them.
std::vector<Field<ReplicaSpec>> ReplicaFields(int max_replicas, const std::string& noun) {
  return {
      Int("replicas", &ReplicaSpec::replicas, 1, max_replicas,
          "Number of " + noun + ", 1 to " + std::to_string(max_replicas) + "."),
      Child("resources", &ReplicaSpec::resources, ResourcesTable(),
            "Compute resources of each pod of this role, as in a container.")
          .WithoutDefault(),
      String("image", &ReplicaSpec::image, ImageFormat(), "Overrides spec.image for this role."),
      List("volumeMounts", &ReplicaSpec::volume_mounts, VolumeMountTable(), kMaxVolumes,
           UniqueKey<VolumeMountSpec>{"mountPath",
                                      [](const VolumeMountSpec& m) { return m.mount_path; },
                                      "another mount of this role is at"},
           "Where the containers of this role see volumes of spec.volumes. Only the volumes a "
           "role mounts are added to its pods."),
  };
}

const Object<ParameterServerSpec>& ParameterServersTable() {
  static const auto* t = [] {
    std::vector<Field<ParameterServerSpec>> fields =
        AsFieldsOf<ParameterServerSpec>(ReplicaFields(kMaxParameterServers, "parameter servers"));
    fields.push_back(Int("partitionSize", &ParameterServerSpec::partition_size, kMinPartitionSize,
                         kMaxPartitionSize,
                         "Parameters (elements) per model partition, 1024 to 67108864."));
    fields.push_back(Int("replication", &ParameterServerSpec::replication, 0, 1,
                         "Copies of each shard beyond its own server: 0 or 1. With 1, server j's "
                         "partitions are also kept by server j+1 (mod replicas), which "
                         "acknowledges each push with it (chain replication); a replaced server "
                         "copies its shard back from there, so no acknowledged update is lost, "
                         "even without checkpoints. Needs at least 2 replicas."));
    return new Object<ParameterServerSpec>(
        Object<ParameterServerSpec>(std::move(fields))
            .Rule({.cel = {.rule = "!has(self.replication) || self.replication == 0 || "
                                   "(has(self.replicas) && self.replicas >= 2)",
                           .message = "replication: 1 needs at least 2 replicas",
                           .field_path = ".replication"},
                   .check = [](const ParameterServerSpec& s, const std::string& path) {
                     if (s.replication == 0 || s.replicas >= 2) return Status::Ok();
                     return FieldError(FieldPath(path, "replication"),
                                       "1 needs at least 2 parameter servers (the shard's copy "
                                       "lives on the next server), got replicas: " +
                                           std::to_string(s.replicas));
                   }}));
  }();
  return *t;
}

const Object<ReplicaSpec>& WorkersTable() {
  static const auto* t = new Object<ReplicaSpec>(ReplicaFields(kMaxWorkers, "workers"));
  return *t;
}

const Object<RunPolicy>& RunPolicyTable() {
  static const auto* t = new Object<RunPolicy>({
      Enum("restartPolicy", &RunPolicy::restart_policy,
           "Never (a failed pod fails the job), OnFailure (restart failed pods up to backoffLimit "
           "times) or ExitCode (restart only on retryable exit codes)."),
      Int("backoffLimit", &RunPolicy::backoff_limit, 0, 1000,
          "Restarts allowed before the job fails, 0 to 1000."),
      OptionalInt("activeDeadlineSeconds", &RunPolicy::active_deadline_seconds, 1, kInt64Max,
                  "Seconds the job may run before it is failed, at least 1."),
      OptionalInt("ttlSecondsAfterFinished", &RunPolicy::ttl_seconds_after_finished, 0, kInt64Max,
                  "Seconds after the job finishes before it is deleted, at least 0."),
      Enum("cleanPodPolicy", &RunPolicy::clean_pod_policy,
           "Which pods to delete when the job finishes: All, Running (those still running) or "
           "None."),
      Bool("suspend", &RunPolicy::suspend,
           "true deletes the job's pods and keeps the job; false resumes it."),
  });
  return *t;
}

// ---- what outlives the job (their cluster rules: spec_table_storage.cc) --------------------

const Object<CheckpointSpec>& CheckpointTable() {
  static const auto* t = new Object<CheckpointSpec>(
      Object<CheckpointSpec>(
          {
              String("path", &CheckpointSpec::path, CheckpointPathFormat(),
                     "Where the checkpoints go: a directory, file:///absolute/path or a path, or a "
                     "key prefix in an object store, s3://bucket/prefix (reached as "
                     "dataset.storage says); each parameter server writes under <path>/<job "
                     "name>/ps-<index>/. In a cluster, a directory must be an absolute path on a "
                     "persistentVolumeClaim or nfs volume the parameter servers mount read-write.")
                  .Required(),
              Int("everySteps", &CheckpointSpec::every_steps, 0, kInt64Max,
                  "A checkpoint every this many steps; 0: not by steps."),
              Int("everySeconds", &CheckpointSpec::every_seconds, 0, kInt64Max,
                  "A checkpoint every this many seconds; 0: not by time. At least one of "
                  "everySteps "
                  "and everySeconds is greater than 0."),
              Int("keep", &CheckpointSpec::keep, 1, 1000,
                  "Checkpoints kept per parameter server, 1 to 1000; older ones are deleted."),
          })
          .Rule({.cel = {.rule = "(has(self.everySteps) && self.everySteps > 0) || "
                                 "!has(self.everySeconds) || self.everySeconds > 0",
                         .message = "everySteps or everySeconds must be greater than 0",
                         .field_path = ".everySeconds"},
                 .check = [](const CheckpointSpec& c, const std::string& path) {
                   if (c.every_steps > 0 || c.every_seconds > 0) return Status::Ok();
                   return FieldError(FieldPath(path, "everySeconds"),
                                     "must be greater than 0 when everySteps is 0 (a checkpoint "
                                     "needs a period)");
                 }}));
  return *t;
}

const Object<OutputSpec>& OutputTable() {
  static const auto* t = new Object<OutputSpec>({
      String("path", &OutputSpec::path, OutputPathFormat(),
             "Where the trained model goes, as model.onnx: a directory, file:///absolute/path or "
             "a path (created if missing), or a key prefix in an object store, "
             "s3://bucket/prefix. In a cluster, a directory must be an absolute path on a "
             "persistentVolumeClaim or nfs volume the workers mount read-write.")
          .Required(),
  });
  return *t;
}

const Object<SecuritySpec>& SecurityTable() {
  static const auto* t = new Object<SecuritySpec>({
      Enum("authentication", &SecuritySpec::authentication,
           "curve (the default): the job's processes and its supervisor speak ZeroMQ CURVE, each "
           "with its own key pair, and admit only the job's keys; none: plaintext, anyone who "
           "reaches a port may speak (only for a network you trust)."),
  });
  return *t;
}

}  // namespace

// ---- spec, the object ---------------------------------------------------------------------

const Object<TrainingJobSpec>& SpecTable() {
  static const auto* t = new Object<TrainingJobSpec>(
      Object<TrainingJobSpec>(
          {
              String("image", &TrainingJobSpec::image, ImageFormat(),
                     "Container image of both roles. Empty means the operator's default runtime "
                     "image."),
              Child("model", &TrainingJobSpec::model, ModelTable(), "The model to train.")
                  .Required(),
              Child("dataset", &TrainingJobSpec::dataset, DatasetTable(),
                    "The training (and optional test) data.")
                  .Required(),
              Child("training", &TrainingJobSpec::training, TrainingTable(),
                    "Epochs, batch size, synchronisation, optimizer, learning-rate schedule and "
                    "gradient compression."),
              Child("parameterServers", &TrainingJobSpec::parameter_servers,
                    ParameterServersTable(),
                    "The parameter servers, which hold the model's partitions."),
              Child("workers", &TrainingJobSpec::workers, WorkersTable(),
                    "The workers, each of which trains on its shard of the data."),
              Child("runPolicy", &TrainingJobSpec::run_policy, RunPolicyTable(),
                    "What to do when pods fail, time limits and clean-up."),
              List(
                  "volumes", &TrainingJobSpec::volumes, VolumeTable(), kMaxVolumes,
                  UniqueKey<VolumeSpec>{"name", [](const VolumeSpec& v) { return v.name; },
                                        "another volume is named"},
                  "Kubernetes volumes the pods of the job can mount (a data set on a "
                  "PersistentVolumeClaim or an NFS share, a node's directory, scratch space), each "
                  "with exactly one source. A role's pods get the ones its volumeMounts name. "
                  "`ringtrain run` ignores them."),
              OptionalChild("checkpoint", &TrainingJobSpec::checkpoint, CheckpointTable(),
                            "Checkpoints of the parameter servers' shards: where, how often, how "
                            "many to keep. Absent: none."),
              OptionalChild("output", &TrainingJobSpec::output, OutputTable(),
                            "Where worker 0 writes the trained model (model.onnx) at the end of "
                            "training. Absent: `ringtrain run` picks a directory, a cluster job "
                            "writes none (ringtrain export makes it from the checkpoints)."),
              Child("security", &TrainingJobSpec::security, SecurityTable(),
                    "Authentication of the job's traffic."),
          })
          .Rule(MountsNameVolumesRule(
              "parameterServers",
              [](const TrainingJobSpec& s) -> const std::vector<VolumeMountSpec>& {
                return s.parameter_servers.volume_mounts;
              }))
          .Rule(MountsNameVolumesRule(
              "workers",
              [](const TrainingJobSpec& s) -> const std::vector<VolumeMountSpec>& {
                return s.workers.volume_mounts;
              }))
          .Rule(
              {.cel = {.rule = "!has(self.dataset.sharding) || self.dataset.sharding != 'dynamic' "
                               "|| !has(self.parameterServers) || "
                               "!has(self.parameterServers.replication) || "
                               "self.parameterServers.replication == 0",
                       .message = "sharding: dynamic does not work with "
                                  "parameterServers.replication: 1 yet (the data queue is "
                                  "checkpointed with its server, not replicated)",
                       .field_path = ".dataset.sharding"},
               .check =
                   [](const TrainingJobSpec& s, const std::string& path) {
                     if (s.dataset.sharding != Sharding::kDynamic ||
                         s.parameter_servers.replication == 0) {
                       return Status::Ok();
                     }
                     return InvalidArgument(
                         path +
                         ".dataset.sharding: dynamic does not work with "
                         "parameterServers.replication: 1 yet (the data queue is checkpointed "
                         "with its server, not replicated)");
                   }})
          .Rule(
              {.cel = {.rule = "!has(self.dataset.sharding) || self.dataset.sharding != 'feature' "
                               "|| (self.model.type == 'softmax' && (!has(self.training) || "
                               "((!has(self.training.syncMode) || "
                               "self.training.syncMode == 'sync') && "
                               "(!has(self.training.compression) || "
                               "!has(self.training.compression.type) || "
                               "self.training.compression.type == 'none'))))",
                       .message = "sharding: feature needs model.type softmax (a linear model), "
                                  "training.syncMode sync and no compression",
                       .field_path = ".dataset.sharding"},
               .check =
                   [](const TrainingJobSpec& s, const std::string& path) {
                     if (s.dataset.sharding != Sharding::kFeature ||
                         (s.model.type == ModelType::kSoftmax &&
                          s.training.sync_mode == SyncMode::kSync &&
                          s.training.compression.type == CompressionType::kNone)) {
                       return Status::Ok();
                     }
                     return InvalidArgument(path +
                                            ".dataset.sharding: feature needs model.type "
                                            "softmax (a linear model), training.syncMode sync "
                                            "and no compression");
                   }})
          .Rule(
              {.cel = {.rule = "!has(self.dataset.sharding) || self.dataset.sharding != 'feature' "
                               "|| !has(self.dataset.features) || !has(self.workers) || "
                               "!has(self.workers.replicas) || "
                               "self.workers.replicas <= self.dataset.features",
                       .message = "sharding: feature splits dataset.features among the "
                                  "workers: workers.replicas must be at most that",
                       .field_path = ".dataset.sharding"},
               .check =
                   [](const TrainingJobSpec& s, const std::string& path) {
                     if (s.dataset.sharding != Sharding::kFeature ||
                         s.workers.replicas <= s.dataset.features) {
                       return Status::Ok();
                     }
                     return InvalidArgument(
                         path + ".dataset.sharding: feature splits dataset.features (" +
                         std::to_string(s.dataset.features) +
                         ") among the workers: "
                         "workers.replicas (" +
                         std::to_string(s.workers.replicas) + ") must be at most that");
                   }})
          .Rule(
              {.cel =
                   {.rule =
                        IsSparseModelCel() +
                        " || "
                        "!has(self.dataset.format) || self.dataset.format in ['idx', 'criteo'] || "
                        "(has(self.dataset.features) && has(self.dataset.classes))",
                    .message = "dataset.features and dataset.classes are required when "
                               "format is libsvm or csv (except for model.type logistic, fm "
                               "and deepfm)",
                    .field_path = ".dataset"},
               .check =
                   [](const TrainingJobSpec& s, const std::string& path) {
                     const DatasetSpec& d = s.dataset;
                     if (IsSparseModel(s.model.type) || d.format == DataFormat::kIdx ||
                         d.format == DataFormat::kCriteo) {
                       return Status::Ok();
                     }
                     if (d.features == 0) {
                       return InvalidArgument(path +
                                              ".dataset.features: required when format "
                                              "is libsvm or csv");
                     }
                     if (d.classes == 0) {
                       return InvalidArgument(path +
                                              ".dataset.classes: required when format is "
                                              "libsvm or csv");
                     }
                     return Status::Ok();
                   }})
          .Rule({.cel = {.rule = IsSparseModelCel() + " || !has(self.dataset.format) || "
                                                      "self.dataset.format != 'criteo'",
                         .message = "dataset.format criteo is read by model.type logistic, fm "
                                    "and deepfm only (its categorical values are hashed keys)",
                         .field_path = ".dataset.format"},
                 .check =
                     [](const TrainingJobSpec& s, const std::string& path) {
                       if (IsSparseModel(s.model.type) || s.dataset.format != DataFormat::kCriteo) {
                         return Status::Ok();
                       }
                       return InvalidArgument(path +
                                              ".dataset.format: criteo is read by model.type "
                                              "logistic, fm and deepfm only, not " +
                                              Name(s.model.type) +
                                              " (its categorical values are hashed keys)");
                     }})
          .Rule({.cel = {.rule = "!(" + IsSparseModelCel() +
                                 ") || "
                                 "(has(self.dataset.format) && "
                                 "((self.dataset.format == 'libsvm' && !has(self.dataset.fields)) "
                                 "|| (self.dataset.format == 'csv' && has(self.dataset.fields)) "
                                 "|| self.dataset.format == 'criteo') "
                                 "&& !has(self.dataset.features) && !has(self.dataset.classes) && "
                                 "(!has(self.dataset.sharding) || self.dataset.sharding == 'row'))",
                         .message =
                             "model.type logistic, fm and deepfm read dataset.format libsvm (its "
                             "indices are the feature keys, its labels 0/1), csv with "
                             "dataset.fields (the feature schema) or criteo, with neither "
                             "features nor classes, sharded by row",
                         .field_path = ".dataset"},
                 .check =
                     [](const TrainingJobSpec& s, const std::string& path) {
                       if (!IsSparseModel(s.model.type)) return Status::Ok();
                       const std::string why =
                           std::string(" with model.type ") + Name(s.model.type);
                       const DatasetSpec& d = s.dataset;
                       if (d.format == DataFormat::kIdx) {
                         return InvalidArgument(path +
                                                ".dataset.format: must be libsvm (its "
                                                "indices are the feature keys), csv (with "
                                                "dataset.fields) or criteo" +
                                                why + ", not " + Name(d.format));
                       }
                       if (d.format == DataFormat::kCsv && d.fields.empty()) {
                         return InvalidArgument(path + ".dataset.fields: required with format csv" +
                                                why +
                                                " (the feature schema: which columns are "
                                                "features, and how)");
                       }
                       if (d.features != 0) {
                         return InvalidArgument(path + ".dataset.features: not allowed" + why +
                                                " (the features are hashed keys)");
                       }
                       if (d.classes != 0) {
                         return InvalidArgument(path + ".dataset.classes: not allowed" + why +
                                                " (a click-through model has two)");
                       }
                       if (d.sharding != Sharding::kRow) {
                         return InvalidArgument(path + ".dataset.sharding: only row" + why +
                                                " for now, not " + Name(d.sharding));
                       }
                       return Status::Ok();
                     }})
          .Rule({.cel = {.rule = IsSparseModelCel() + " || "
                                                      "!has(self.dataset.fields)",
                         .message = "dataset.fields is the feature schema of model.type logistic, "
                                    "fm and deepfm; the other models read every column but the "
                                    "label",
                         .field_path = ".dataset.fields"},
                 .check =
                     [](const TrainingJobSpec& s, const std::string& path) {
                       if (IsSparseModel(s.model.type) || s.dataset.fields.empty()) {
                         return Status::Ok();
                       }
                       return InvalidArgument(path +
                                              ".dataset.fields: not allowed with model.type " +
                                              Name(s.model.type) +
                                              " (it is the feature schema of logistic, fm and "
                                              "deepfm; the other models read "
                                              "every column but the label)");
                     }})
          .Rule({.cel = {.rule = "!(" + IsSparseModelCel() +
                                 ") || "
                                 "!has(self.training) || ((!has(self.training.optimizer) || "
                                 "!has(self.training.optimizer.type) || "
                                 "self.training.optimizer.type in ['sgd', 'adagrad', 'ftrl']) && "
                                 "(!has(self.training.compression) || "
                                 "((!has(self.training.compression.type) || "
                                 "self.training.compression.type in ['none', 'fp16', 'int8']) && "
                                 "(!has(self.training.compression.errorFeedback) || "
                                 "!self.training.compression.errorFeedback))))",
                         .message =
                             "model.type logistic, fm and deepfm train with optimizer sgd, adagrad "
                             "or ftrl (per-key state, no step count) and compression none, fp16 "
                             "or int8 without error feedback",
                         .field_path = ".training"},
                 .check =
                     [](const TrainingJobSpec& s, const std::string& path) {
                       if (!IsSparseModel(s.model.type)) return Status::Ok();
                       const OptimizerType o = s.training.optimizer.type;
                       if (o != OptimizerType::kSgd && o != OptimizerType::kAdagrad &&
                           o != OptimizerType::kFtrl) {
                         return InvalidArgument(path + ".training.optimizer.type: " + Name(o) +
                                                " does not train model.type " + Name(s.model.type) +
                                                ": use sgd, adagrad or ftrl (their state is per "
                                                "key, with no step count)");
                       }
                       const CompressionType c = s.training.compression.type;
                       if (c != CompressionType::kNone && c != CompressionType::kFp16 &&
                           c != CompressionType::kInt8) {
                         return InvalidArgument(path + ".training.compression.type: " + Name(c) +
                                                " does not compress model.type " +
                                                Name(s.model.type) +
                                                ": use none, fp16 or int8 (each key's "
                                                "gradient row is encoded as it is sent)");
                       }
                       if (s.training.compression.error_feedback) {
                         return InvalidArgument(path +
                                                ".training.compression.errorFeedback: not with "
                                                "model.type " +
                                                std::string(Name(s.model.type)) +
                                                " (a residual per key of a sparse table is "
                                                "not kept)");
                       }
                       return Status::Ok();
                     }})
          .Rule({.cel = {.rule = "!has(self.model.type) || self.model.type != 'logistic' || "
                                 "!has(self.training) || !has(self.training.compression) || "
                                 "!has(self.training.compression.type) || "
                                 "self.training.compression.type != 'int8'",
                         .message = "compression int8 gives each key's gradient row a scale: "
                                    "model.type logistic's rows are one float, use fp16",
                         .field_path = ".training.compression.type"},
                 .check =
                     [](const TrainingJobSpec& s, const std::string& path) {
                       if (s.model.type != ModelType::kLogistic ||
                           s.training.compression.type != CompressionType::kInt8) {
                         return Status::Ok();
                       }
                       return InvalidArgument(path +
                                              ".training.compression.type: int8 gives each "
                                              "key's gradient row a float32 scale, and "
                                              "model.type logistic's rows are one float (no "
                                              "smaller than float32): use fp16");
                     }})
          .ClusterRule(CheckpointsOnDurableVolumeRule())
          .ClusterRule(OutputOnDurableVolumeRule()));
  return *t;
}

const Object<TrainingJob>& TrainingJobTable() {
  static const auto* t = new Object<TrainingJob>(
      Object<TrainingJob>(
          {
              Constant("apiVersion", &TrainingJob::api_version, kApiVersion, kApiVersion)
                  .NotRequiredByCrd(),
              Constant("kind", &TrainingJob::kind, kKind, kKind).NotRequiredByCrd(),
              Child("metadata", &TrainingJob::metadata, MetadataTable(), "")
                  .Required()
                  .NotRequiredByCrd(),
              Child("spec", &TrainingJob::spec, SpecTable(),
                    "What to train, on what data, with how many servers and workers.")
                  .Required(),
          })
          // The operator's; a stored object carries it and the spec ignores it.
          .Ignoring({"status"}));
  return *t;
}

}  // namespace ringtrain::job::internal
