#include "ringtrain/operator/executor.h"

#include "ringtrain/operator/api_convert.h"

namespace ringtrain::op {

namespace {

StatusOr<kube::Resource> ResourceOf(const nlohmann::json& object) {
  const std::string kind = object.value("kind", "");
  if (kind == "Pod") return kube::Pods();
  if (kind == "Service") return kube::Services();
  if (kind == "ConfigMap") return kube::ConfigMaps();
  return Internal("executor: cannot create objects of kind \"" + kind + "\"");
}

}  // namespace

nlohmann::json MakeEvent(const JobView& view, const Action& action, Time now) {
  const std::string ts = FormatTime(now);
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"generateName", view.name + "."}, {"namespace", view.ns}}},
          {"involvedObject",
           {{"apiVersion", job::kApiVersion},
            {"kind", job::kKind},
            {"name", view.name},
            {"namespace", view.ns},
            {"uid", view.uid}}},
          {"type", action.event_type},
          {"reason", action.reason},
          {"message", action.message},
          {"source", {{"component", kManagedBy}}},
          {"reportingComponent", kManagedBy},
          {"firstTimestamp", ts},
          {"lastTimestamp", ts},
          {"count", 1}};
}

StatusOr<ExecuteResult> Execute(kube::KubeClient& client, const JobView& view, const Plan& plan,
                                Time now) {
  ExecuteResult result;
  Status first;
  auto note = [&first](const Status& s) {
    if (!s.ok() && first.ok()) first = s;
  };
  for (const Action& a : plan.actions) {
    switch (a.type) {
      case ActionType::kCreate: {
        StatusOr<kube::Resource> r = ResourceOf(a.object);
        if (!r.ok()) {
          note(r.status());
          break;
        }
        StatusOr<nlohmann::json> created = client.Create(*r, view.ns, a.object);
        if (created.ok()) {
          ++result.created;
        } else if (created.status().code() != StatusCode::kAlreadyExists) {
          note(created.status());
        }
        break;
      }
      case ActionType::kDeletePod: {
        Status s = client.Delete(kube::Pods(), view.ns, a.name);
        if (s.ok()) {
          ++result.deleted;
        } else if (s.code() != StatusCode::kNotFound) {
          note(s);
        }
        break;
      }
      case ActionType::kDeleteJob: {
        Status s = client.Delete(kube::TrainingJobs(), view.ns, view.name);
        if (!s.ok() && s.code() != StatusCode::kNotFound) note(s);
        break;
      }
      case ActionType::kEvent: {
        if (client.Create(kube::Events(), view.ns, MakeEvent(view, a, now)).ok()) ++result.events;
        break;
      }
    }
  }
  if (plan.status != view.status) {
    StatusOr<nlohmann::json> patched = client.PatchStatus(kube::TrainingJobs(), view.ns, view.name,
                                                          {{"status", StatusToJson(plan.status)}});
    if (patched.ok()) {
      result.status_written = true;
    } else if (patched.status().code() != StatusCode::kNotFound) {
      note(patched.status());
    }
  }
  if (!first.ok()) return first;
  return result;
}

}  // namespace ringtrain::op
