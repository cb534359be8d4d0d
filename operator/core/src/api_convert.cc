#include "ringtrain/operator/api_convert.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>
#include <type_traits>

#include "ringtrain/job/final_progress.h"
#include "ringtrain/job/parse.h"
#include "ringtrain/operator/resources.h"

namespace ringtrain::op {

namespace {

template <typename T>
T Value(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // nlohmann converts a float to an integer with a plain cast: undefined outside the type's
    // range (found by fuzzing). Whole floats in range are taken, anything else falls back.
    if (it->is_number_float()) {
      const double d = it->get<double>();
      if (!(d >= static_cast<double>(std::numeric_limits<T>::min()) &&
            d < static_cast<double>(std::numeric_limits<T>::max())) ||
          d != std::floor(d)) {
        return fallback;
      }
      return static_cast<T>(d);
    }
    if (it->is_number_integer()) {
      if (it->is_number_unsigned()) {
        const uint64_t u = it->get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) return fallback;
        return static_cast<T>(u);
      }
      const int64_t i = it->get<int64_t>();
      if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          (i > 0 &&
           static_cast<uint64_t>(i) > static_cast<uint64_t>(std::numeric_limits<T>::max()))) {
        return fallback;
      }
      return static_cast<T>(i);
    }
    return fallback;
  }
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return fallback;
  }
}

// j[key] when j is an object and j[key] is an object (or array, for `kind` array), else an
// empty one: what the API server sends is input too (found by fuzzing: a non-object threw).
nlohmann::json Member(const nlohmann::json& j, const char* key,
                      nlohmann::json::value_t kind = nlohmann::json::value_t::object) {
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && it->type() == kind) return *it;
  }
  return kind == nlohmann::json::value_t::array ? nlohmann::json::array()
                                                : nlohmann::json::object();
}

std::optional<Time> OptionalTime(const nlohmann::json& j, const char* key) {
  const std::string s = Value<std::string>(j, key, "");
  if (s.empty()) return std::nullopt;
  StatusOr<Time> t = ParseTime(s);
  if (!t.ok()) return std::nullopt;
  return *t;
}

nlohmann::json CountsToJson(const ReplicaCounts& c) {
  return {{"active", c.active},
          {"ready", c.ready},
          {"succeeded", c.succeeded},
          {"failed", c.failed},
          {"restarts", c.restarts}};
}

ReplicaCounts CountsFromJson(const nlohmann::json& j) {
  ReplicaCounts c;
  if (!j.is_object()) return c;
  c.active = Value(j, "active", 0);
  c.ready = Value(j, "ready", 0);
  c.succeeded = Value(j, "succeeded", 0);
  c.failed = Value(j, "failed", 0);
  c.restarts = Value(j, "restarts", 0);
  return c;
}

}  // namespace

std::string FormatTime(Time t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

StatusOr<Time> ParseTime(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return InvalidArgument("not an RFC 3339 time: \"" + s + "\"");
  }
  // system_clock counts nanoseconds in 64 bits: years 1678 to 2262. Found by fuzzing: year
  // 1293 overflowed the conversion (undefined behaviour).
  if (tm.tm_year < 1970 || tm.tm_year > 2261 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
      tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
      tm.tm_sec < 0 || tm.tm_sec > 60) {
    return InvalidArgument("time out of range: \"" + s + "\"");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  // Fractional seconds and a Z/offset may follow; the API server writes UTC ("Z").
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

nlohmann::json StatusToJson(const JobStatus& s) {
  nlohmann::json j;
  j["phase"] = s.phase;
  nlohmann::json conditions = nlohmann::json::array();
  for (const Condition& c : s.conditions) {
    conditions.push_back({{"type", c.type},
                          {"status", c.status},
                          {"reason", c.reason},
                          {"message", c.message},
                          {"lastTransitionTime", FormatTime(c.last_transition)},
                          {"observedGeneration", c.observed_generation}});
  }
  j["conditions"] = conditions;
  j["replicaStatuses"] = {{"parameterServers", CountsToJson(s.parameter_servers)},
                          {"workers", CountsToJson(s.workers)}};
  j["startTime"] = s.start_time ? nlohmann::json(FormatTime(*s.start_time)) : nlohmann::json();
  j["completionTime"] =
      s.completion_time ? nlohmann::json(FormatTime(*s.completion_time)) : nlohmann::json();
  j["observedGeneration"] = s.observed_generation;
  j["restartCount"] = s.restart_count;
  j["handledFailures"] = s.handled_failures;
  if (s.progress) {
    const Progress& p = *s.progress;
    j["progress"] = {{"step", p.step},
                     {"totalSteps", p.total_steps},
                     {"epoch", p.epoch},
                     {"loss", p.loss},
                     {"samplesPerSecond", p.samples_per_second},
                     {"globalBatchSize", p.global_batch_size}};
    // null: a merge patch removes the previous attempt's accuracy until the next evaluation.
    j["progress"]["accuracy"] = p.accuracy ? nlohmann::json(*p.accuracy) : nlohmann::json();
    j["progress"]["auc"] = p.auc ? nlohmann::json(*p.auc) : nlohmann::json();
    if (p.records_skipped > 0) j["progress"]["recordsSkipped"] = p.records_skipped;
    if (p.update_time) j["progress"]["updateTime"] = FormatTime(*p.update_time);
  }
  if (s.checkpoint) {
    j["checkpoint"] = {{"step", s.checkpoint->step},
                       {"time", FormatTime(s.checkpoint->time)},
                       {"location", s.checkpoint->location}};
  }
  return j;
}

JobStatus StatusFromJson(const nlohmann::json& j) {
  JobStatus s;
  if (!j.is_object()) return s;
  s.phase = Value<std::string>(j, "phase", "");
  if (auto it = j.find("conditions"); it != j.end() && it->is_array()) {
    for (const auto& c : *it) {
      if (!c.is_object()) continue;
      Condition cond;
      cond.type = Value<std::string>(c, "type", "");
      cond.status = Value<std::string>(c, "status", "");
      cond.reason = Value<std::string>(c, "reason", "");
      cond.message = Value<std::string>(c, "message", "");
      cond.last_transition = OptionalTime(c, "lastTransitionTime").value_or(Time{});
      cond.observed_generation = Value<int64_t>(c, "observedGeneration", 0);
      if (!cond.type.empty()) s.conditions.push_back(cond);
    }
  }
  if (auto it = j.find("replicaStatuses"); it != j.end() && it->is_object()) {
    s.parameter_servers = CountsFromJson(it->value("parameterServers", nlohmann::json()));
    s.workers = CountsFromJson(it->value("workers", nlohmann::json()));
  }
  s.start_time = OptionalTime(j, "startTime");
  s.completion_time = OptionalTime(j, "completionTime");
  s.observed_generation = Value<int64_t>(j, "observedGeneration", 0);
  s.restart_count = Value(j, "restartCount", 0);
  s.handled_failures = Value(j, "handledFailures", std::vector<std::string>{});
  if (auto it = j.find("progress"); it != j.end() && it->is_object()) {
    Progress p;
    p.step = Value<int64_t>(*it, "step", 0);
    p.total_steps = Value<int64_t>(*it, "totalSteps", 0);
    p.epoch = Value(*it, "epoch", 0);
    p.loss = Value(*it, "loss", 0.0);
    if (it->contains("accuracy") && (*it)["accuracy"].is_number()) {
      p.accuracy = (*it)["accuracy"].get<double>();
    }
    if (it->contains("auc") && (*it)["auc"].is_number()) p.auc = (*it)["auc"].get<double>();
    p.samples_per_second = Value(*it, "samplesPerSecond", 0.0);
    p.global_batch_size = Value<int64_t>(*it, "globalBatchSize", 0);
    p.records_skipped = Value<int64_t>(*it, "recordsSkipped", 0);
    p.update_time = OptionalTime(*it, "updateTime");
    s.progress = p;
  }
  if (auto it = j.find("checkpoint"); it != j.end() && it->is_object()) {
    CheckpointStatus c;
    c.step = Value<int64_t>(*it, "step", 0);
    c.time = OptionalTime(*it, "time").value_or(Time{});
    c.location = Value<std::string>(*it, "location", "");
    s.checkpoint = c;
  }
  return s;
}

JobView JobViewFromObject(const nlohmann::json& object) {
  JobView v;
  const nlohmann::json meta = Member(object, "metadata");
  v.name = Value<std::string>(meta, "name", "");
  v.ns = Value<std::string>(meta, "namespace", "default");
  v.uid = Value<std::string>(meta, "uid", "");
  v.resource_version = Value<std::string>(meta, "resourceVersion", "");
  v.generation = Value<int64_t>(meta, "generation", 0);
  v.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  v.creation_time = OptionalTime(meta, "creationTimestamp");
  v.status = StatusFromJson(Member(object, "status"));
  StatusOr<job::TrainingJob> parsed = job::ParseTrainingJob(object);
  // A spec `ringtrain run` accepts can still be wrong for a cluster (checkpoints on a volume
  // that dies with its pod); the CRD refuses it too, unless it was stored before the rule.
  Status for_cluster = parsed.ok() ? job::CheckForCluster(*parsed) : parsed.status();
  if (for_cluster.ok()) {
    v.job = std::move(parsed).value();
    v.spec_hash = SpecHash(*v.job);
  } else {
    v.spec_error = for_cluster.message();
  }
  return v;
}

std::optional<PodView> PodViewFromObject(const nlohmann::json& pod) {
  const nlohmann::json meta = Member(pod, "metadata");
  const nlohmann::json labels = Member(meta, "labels");
  const std::string role = Value<std::string>(labels, kLabelRole, "");
  const std::string index = Value<std::string>(labels, kLabelIndex, "");
  if ((role != "ps" && role != "worker") || index.empty()) return std::nullopt;
  PodView p;
  p.name = Value<std::string>(meta, "name", "");
  p.uid = Value<std::string>(meta, "uid", "");
  p.role = role == "ps" ? job::Role::kParameterServer : job::Role::kWorker;
  try {
    p.index = std::stoi(index);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  p.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  p.spec_hash = Value<std::string>(labels, kLabelSpecHash, "");
  const nlohmann::json status = Member(pod, "status");
  p.phase = Value<std::string>(status, "phase", "Pending");
  for (const auto& c : Member(status, "conditions", nlohmann::json::value_t::array)) {
    if (Value<std::string>(c, "type", "") == "Ready") {
      p.ready = Value<std::string>(c, "status", "") == "True";
    }
  }
  p.ip = Value<std::string>(status, "podIP", "");
  for (const auto& cs : Member(status, "containerStatuses", nlohmann::json::value_t::array)) {
    const nlohmann::json state = Member(cs, "state");
    if (state.contains("terminated") && state["terminated"].contains("exitCode")) {
      p.exit_code = Value(state["terminated"], "exitCode", 0);
      p.termination_message = Value<std::string>(state["terminated"], "message", "");
      break;
    }
  }
  return p;
}

std::optional<Progress> ProgressFromTerminationMessage(const std::string& message) {
  std::optional<job::FinalProgress> record = job::ParseFinalProgress(message);
  if (!record) return std::nullopt;
  Progress p;
  p.step = record->step;
  p.total_steps = record->total_steps;
  p.epoch = record->epoch;
  p.loss = record->loss.value_or(0.0);
  p.accuracy = record->accuracy;
  p.auc = record->auc;
  p.samples_per_second = record->samples_per_second;
  p.global_batch_size = record->global_batch_size;
  p.records_skipped = record->records_skipped;
  return p;
}

std::optional<job::TrainingJob> JobFromConfigMap(const nlohmann::json& config_map) {
  const nlohmann::json data = Member(config_map, "data");
  const std::string text = Value<std::string>(data, kSpecFileName, "");
  if (text.empty()) return std::nullopt;
  try {
    StatusOr<job::TrainingJob> parsed = job::ParseTrainingJob(nlohmann::json::parse(text));
    if (!parsed.ok()) return std::nullopt;
    return std::move(parsed).value();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace ringtrain::op
