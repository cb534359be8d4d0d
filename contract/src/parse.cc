// ParseTrainingJob: the object, metadata, replica specs and run policy. The model, dataset
// and training parts are in parse_training.cc.
#include "ringtrain/job/parse.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>

#include "checks.h"
#include "json_reader.h"
#include "parse_internal.h"

namespace ringtrain::job {
namespace {

using internal::FieldError;
using internal::FormatDouble;
using internal::MapKeyPath;
using internal::ObjectReader;
using nlohmann::json;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int kMaxParameterServers = 1024;
constexpr int kMaxWorkers = 4096;

// Written by the API server on stored objects; accepted so the operator can parse them.
constexpr std::string_view kServerMetadataFields[] = {"uid",
                                                      "resourceVersion",
                                                      "generation",
                                                      "creationTimestamp",
                                                      "deletionTimestamp",
                                                      "deletionGracePeriodSeconds",
                                                      "ownerReferences",
                                                      "finalizers",
                                                      "managedFields",
                                                      "generateName",
                                                      "selfLink"};

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

// requests or limits: resource name -> quantity. *values receives the parsed quantities.
Status ParseResourceList(const json& v, const std::string& path,
                         std::map<std::string, std::string>* out,
                         std::map<std::string, long double>* values) {
  RT_RETURN_IF_ERROR(internal::ExpectObject(v, path));
  for (const auto& [name, value] : v.items()) {
    const std::string entry_path = MapKeyPath(path, name);
    if (!IsStandardResource(name)) {
      if (name.find('/') == std::string::npos) {
        std::string hint = internal::ClosestName(name, {"cpu", "memory", "ephemeral-storage"});
        return FieldError(entry_path, hint.empty()
                                          ? "unknown resource (expected cpu, memory, "
                                            "ephemeral-storage or an extended resource such as "
                                            "nvidia.com/gpu)"
                                          : "unknown resource (did you mean \"" + hint + "\"?)");
      }
      RT_RETURN_IF_ERROR(internal::CheckLabelKey(entry_path, name));
    }
    if (value.is_null()) continue;
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_number()) {
      text = NumberToQuantityText(value);
    } else {
      return FieldError(entry_path,
                        "expected a quantity (string or number), got " + internal::Describe(value));
    }
    std::optional<long double> q = internal::ParseQuantity(text);
    if (!q) {
      return FieldError(entry_path,
                        "must be a Kubernetes quantity such as \"1\", \"500m\" or "
                        "\"1Gi\" (got \"" +
                            text + "\")");
    }
    if (*q < 0) return FieldError(entry_path, "must not be negative (got \"" + text + "\")");
    (*out)[name] = text;
    (*values)[name] = *q;
  }
  return Status::Ok();
}

Status ParseResources(const json& v, const std::string& path, ResourceRequirements* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(r.CheckFields({"requests", "limits"}));
  std::map<std::string, long double> requests, limits;
  if (const json* q = r.Find("requests")) {
    RT_RETURN_IF_ERROR(ParseResourceList(*q, r.PathOf("requests"), &out->requests, &requests));
  }
  if (const json* l = r.Find("limits")) {
    RT_RETURN_IF_ERROR(ParseResourceList(*l, r.PathOf("limits"), &out->limits, &limits));
  }
  for (const auto& [name, request] : requests) {
    auto limit = limits.find(name);
    if (limit != limits.end() && request > limit->second) {
      return FieldError(MapKeyPath(r.PathOf("requests"), name),
                        "must not exceed " + MapKeyPath(r.PathOf("limits"), name) + " (" +
                            out->requests[name] + " > " + out->limits[name] + ")");
    }
  }
  return Status::Ok();
}

// The fields common to both roles; the caller has checked for unknown fields.
Status ParseReplicaFields(const ObjectReader& r, int max_replicas, ReplicaSpec* out) {
  RT_RETURN_IF_ERROR(r.GetInt("replicas", 1, max_replicas, &out->replicas));
  if (const json* res = r.Find("resources")) {
    RT_RETURN_IF_ERROR(ParseResources(*res, r.PathOf("resources"), &out->resources));
  }
  if (r.Has("image")) {
    RT_RETURN_IF_ERROR(r.GetString("image", &out->image));
    RT_RETURN_IF_ERROR(internal::CheckImage(r.PathOf("image"), out->image));
  }
  if (const json* mounts = r.Find("volumeMounts")) {
    RT_RETURN_IF_ERROR(
        internal::ParseVolumeMounts(*mounts, r.PathOf("volumeMounts"), &out->volume_mounts));
  }
  return Status::Ok();
}

Status ParseParameterServers(const json& v, const std::string& path, ParameterServerSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(
      r.CheckFields({"replicas", "resources", "image", "volumeMounts", "partitionSize"}));
  RT_RETURN_IF_ERROR(ParseReplicaFields(r, kMaxParameterServers, out));
  return r.GetInt("partitionSize", int64_t{1024}, int64_t{67108864}, &out->partition_size);
}

Status ParseWorkers(const json& v, const std::string& path, ReplicaSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(r.CheckFields({"replicas", "resources", "image", "volumeMounts"}));
  return ParseReplicaFields(r, kMaxWorkers, out);
}

Status ParseRunPolicy(const json& v, const std::string& path, RunPolicy* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(r.CheckFields({"restartPolicy", "backoffLimit", "activeDeadlineSeconds",
                                    "ttlSecondsAfterFinished", "cleanPodPolicy", "suspend"}));
  RT_RETURN_IF_ERROR(internal::GetEnum(
      r, "restartPolicy",
      {RestartPolicy::kNever, RestartPolicy::kOnFailure, RestartPolicy::kExitCode}, {},
      &out->restart_policy));
  RT_RETURN_IF_ERROR(r.GetInt("backoffLimit", 0, 1000, &out->backoff_limit));
  if (r.Has("activeDeadlineSeconds")) {
    int64_t seconds = 0;
    RT_RETURN_IF_ERROR(r.GetInt("activeDeadlineSeconds", int64_t{1}, kInt64Max, &seconds));
    out->active_deadline_seconds = seconds;
  }
  if (r.Has("ttlSecondsAfterFinished")) {
    int64_t seconds = 0;
    RT_RETURN_IF_ERROR(r.GetInt("ttlSecondsAfterFinished", int64_t{0}, kInt64Max, &seconds));
    out->ttl_seconds_after_finished = seconds;
  }
  RT_RETURN_IF_ERROR(internal::GetEnum(
      r, "cleanPodPolicy", {CleanPodPolicy::kAll, CleanPodPolicy::kRunning, CleanPodPolicy::kNone},
      {}, &out->clean_pod_policy));
  return r.GetBool("suspend", &out->suspend);
}

// labels or annotations: string -> string with Kubernetes key syntax.
Status ParseStringMap(const json& v, const std::string& path, bool label_values,
                      std::map<std::string, std::string>* out) {
  RT_RETURN_IF_ERROR(internal::ExpectObject(v, path));
  for (const auto& [key, value] : v.items()) {
    const std::string entry_path = MapKeyPath(path, key);
    RT_RETURN_IF_ERROR(internal::CheckLabelKey(entry_path, key));
    std::string text;
    RT_RETURN_IF_ERROR(internal::ReadString(value, entry_path, &text));
    if (label_values) RT_RETURN_IF_ERROR(internal::CheckLabelValue(entry_path, text));
    (*out)[key] = std::move(text);
  }
  return Status::Ok();
}

Status ParseMetadata(const json& v, const std::string& path, ObjectMeta* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  std::vector<std::string_view> known = {"name", "namespace", "labels", "annotations"};
  known.insert(known.end(), std::begin(kServerMetadataFields), std::end(kServerMetadataFields));
  RT_RETURN_IF_ERROR(r.CheckFields(known));
  RT_RETURN_IF_ERROR(r.Require("name"));
  RT_RETURN_IF_ERROR(r.GetString("name", &out->name));
  RT_RETURN_IF_ERROR(internal::CheckDns1035Label(r.PathOf("name"), out->name, kMaxJobNameLength));
  if (r.Has("namespace")) {
    RT_RETURN_IF_ERROR(r.GetString("namespace", &out->namespace_));
    RT_RETURN_IF_ERROR(internal::CheckDns1123Label(r.PathOf("namespace"), out->namespace_));
  }
  if (const json* labels = r.Find("labels")) {
    RT_RETURN_IF_ERROR(ParseStringMap(*labels, r.PathOf("labels"), true, &out->labels));
  }
  if (const json* annotations = r.Find("annotations")) {
    RT_RETURN_IF_ERROR(
        ParseStringMap(*annotations, r.PathOf("annotations"), false, &out->annotations));
  }
  return Status::Ok();
}

Status ParseSpec(const json& v, const std::string& path, TrainingJobSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(r.CheckFields({"image", "model", "dataset", "training", "parameterServers",
                                    "workers", "runPolicy", "volumes"}));
  if (r.Has("image")) {
    RT_RETURN_IF_ERROR(r.GetString("image", &out->image));
    RT_RETURN_IF_ERROR(internal::CheckImage(r.PathOf("image"), out->image));
  }
  RT_RETURN_IF_ERROR(r.Require("model"));
  RT_RETURN_IF_ERROR(internal::ParseModel(*r.Find("model"), r.PathOf("model"), &out->model));
  RT_RETURN_IF_ERROR(r.Require("dataset"));
  RT_RETURN_IF_ERROR(
      internal::ParseDataset(*r.Find("dataset"), r.PathOf("dataset"), &out->dataset));
  if (const json* t = r.Find("training")) {
    RT_RETURN_IF_ERROR(internal::ParseTraining(*t, r.PathOf("training"), &out->training));
  }
  if (const json* ps = r.Find("parameterServers")) {
    RT_RETURN_IF_ERROR(
        ParseParameterServers(*ps, r.PathOf("parameterServers"), &out->parameter_servers));
  }
  if (const json* w = r.Find("workers")) {
    RT_RETURN_IF_ERROR(ParseWorkers(*w, r.PathOf("workers"), &out->workers));
  }
  if (const json* p = r.Find("runPolicy")) {
    RT_RETURN_IF_ERROR(ParseRunPolicy(*p, r.PathOf("runPolicy"), &out->run_policy));
  }
  if (const json* volumes = r.Find("volumes")) {
    RT_RETURN_IF_ERROR(internal::ParseVolumes(*volumes, r.PathOf("volumes"), &out->volumes));
  }
  RT_RETURN_IF_ERROR(internal::CheckVolumeMounts(out->volumes, out->parameter_servers.volume_mounts,
                                                 r.PathOf("parameterServers") + ".volumeMounts"));
  return internal::CheckVolumeMounts(out->volumes, out->workers.volume_mounts,
                                     r.PathOf("workers") + ".volumeMounts");
}

// A required string field that must equal `expected`.
Status ParseConstant(const ObjectReader& r, std::string_view key, std::string_view expected,
                     std::string* out) {
  RT_RETURN_IF_ERROR(r.Require(key));
  RT_RETURN_IF_ERROR(r.GetString(key, out));
  if (*out != expected) {
    return r.Error(key, "must be \"" + std::string(expected) + "\" (got \"" + *out + "\")");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<TrainingJob> ParseTrainingJob(const json& doc) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(doc, ""));
  // `status` belongs to the operator; a stored object carries it and the spec ignores it.
  RT_RETURN_IF_ERROR(r.CheckFields({"apiVersion", "kind", "metadata", "spec", "status"}));
  TrainingJob job;
  RT_RETURN_IF_ERROR(ParseConstant(r, "apiVersion", kApiVersion, &job.api_version));
  RT_RETURN_IF_ERROR(ParseConstant(r, "kind", kKind, &job.kind));
  RT_RETURN_IF_ERROR(r.Require("metadata"));
  RT_RETURN_IF_ERROR(ParseMetadata(*r.Find("metadata"), "metadata", &job.metadata));
  RT_RETURN_IF_ERROR(r.Require("spec"));
  RT_RETURN_IF_ERROR(ParseSpec(*r.Find("spec"), "spec", &job.spec));
  return job;
}

}  // namespace ringtrain::job
