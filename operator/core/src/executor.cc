#include "ringtrain/operator/executor.h"

#include "ringtrain/operator/api_convert.h"
#include "ringtrain/operator/names.h"

namespace ringtrain::op {

namespace {

// How long a lost server's successor may take to answer a takeover (the reconcile waits).
constexpr auto kTakeoverTimeout = std::chrono::seconds(2);

StatusOr<kube::Resource> ResourceOf(const nlohmann::json& object) {
  const std::string kind = object.value("kind", "");
  if (kind == "Pod") return kube::Pods();
  if (kind == "Service") return kube::Services();
  if (kind == "ConfigMap") return kube::ConfigMaps();
  if (kind == "Secret") return kube::Secrets();
  if (kind == "NetworkPolicy") return kube::NetworkPolicies();
  return Internal("executor: cannot create objects of kind \"" + kind + "\"");
}

std::string ControllerUidOf(const nlohmann::json& object) {
  const auto meta = object.value("metadata", nlohmann::json::object());
  for (const auto& ref : meta.value("ownerReferences", nlohmann::json::array())) {
    if (ref.is_object() && ref.value("controller", false)) return ref.value("uid", "");
  }
  return "";
}

Status CheckOwnedByJob(kube::KubeClient& client, const kube::Resource& r, const JobView& view,
                       const nlohmann::json& wanted) {
  const std::string name = wanted["metadata"].value("name", "");
  StatusOr<nlohmann::json> existing = client.Get(r, view.ns, name);
  if (!existing.ok()) return existing.status();  // gone meanwhile: the next reconcile creates it
  if (ControllerUidOf(*existing) == view.uid) return Status::Ok();
  return Unavailable(wanted.value("kind", "object") + " " + view.ns + "/" + name +
                     " exists but is not owned by this TrainingJob (uid " + view.uid +
                     "); waiting for it to go");
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

ExecuteResult Execute(kube::KubeClient& client, const JobView& view, const Plan& plan, Time now,
                      ShardControl* shards) {
  ExecuteResult result;
  // The status goes first, conditional on the resourceVersion the plan was made from: a plan
  // made from a stale view of the job is refused (409) before it deletes or creates anything,
  // and what the status records (a restart counted, the job finished) is durable before the
  // actions it describes happen, so an operator that dies between the two redoes the actions
  // without counting anything twice.
  if (plan.status != view.status) {
    nlohmann::json patch = {{"status", StatusToJson(plan.status)}};
    if (!view.resource_version.empty()) {
      patch["metadata"] = {{"resourceVersion", view.resource_version}};
    }
    StatusOr<nlohmann::json> patched =
        client.PatchStatus(kube::TrainingJobs(), view.ns, view.name, patch);
    if (!patched.ok()) {
      if (patched.status().code() == StatusCode::kNotFound) return result;  // job gone
      result.status = patched.status().WithContext("status of " + view.ns + "/" + view.name);
      return result;
    }
    result.status_written = true;
    result.status_resource_version =
        patched->value("metadata", nlohmann::json::object()).value("resourceVersion", "");
  }
  Status first;
  auto note = [&first](const Status& s) {
    if (!s.ok() && first.ok()) first = s;
  };
  // A delete names the object by UID too: if the name now belongs to a newer object (the
  // plan saw a stale cache), the server refuses (409) and the newer object survives.
  auto remove = [&](const kube::Resource& r, const Action& a) {
    Status s = client.Delete(r, view.ns, a.name, a.uid);
    if (s.ok()) {
      ++result.deleted;
      if (!a.uid.empty()) result.deleted_objects.push_back({r.plural, a.uid});
    } else if (s.code() != StatusCode::kNotFound &&
               !(s.code() == StatusCode::kAborted && !a.uid.empty())) {
      note(s);
    }
  };
  // The Secret and NetworkPolicy are never read back, so the planner cannot see them missing:
  // they are made with the ConfigMap, and if one of them fails the ConfigMap is not made
  // either, so that the next plan makes all of them again (and no pod starts without them).
  bool prerequisite_failed = false;
  for (const Action& a : plan.actions) {
    switch (a.type) {
      case ActionType::kCreate: {
        StatusOr<kube::Resource> r = ResourceOf(a.object);
        if (!r.ok()) {
          note(r.status());
          break;
        }
        const bool prerequisite = r->plural == "secrets" || r->plural == "networkpolicies";
        if (r->plural == "configmaps" && prerequisite_failed) break;
        StatusOr<nlohmann::json> created = client.Create(*r, view.ns, a.object);
        if (created.ok()) {
          ++result.created;
          result.created_objects.push_back(
              {r->plural, (*created).value("metadata", nlohmann::json::object()).value("uid", "")});
        } else if (created.status().code() == StatusCode::kAlreadyExists &&
                   (r->plural == "secrets" || r->plural == "networkpolicies")) {
          // Neither is read back (the operator may not read Secrets). A Secret's name is this
          // job's and these replica counts' alone (job_keys.h), so one already there is this
          // job's (a retry): its keys are the same derivation; a NetworkPolicy selects by the
          // job's name, so one of an earlier job of the name says the same. Nothing to do.
        } else if (created.status().code() == StatusCode::kAlreadyExists) {
          // Ours already (a retry, a stale cache): fine. Someone else's, or a previous job's of
          // the same name that garbage collection has not removed yet: not usable, retry later.
          note(CheckOwnedByJob(client, *r, view, a.object));
        } else {
          note(created.status());
          if (prerequisite) prerequisite_failed = true;
        }
        break;
      }
      case ActionType::kDeletePod:
        remove(kube::Pods(), a);
        break;
      case ActionType::kDeleteConfigMap:
        remove(kube::ConfigMaps(), a);
        break;
      case ActionType::kDeleteJob:
        // The UID precondition: a job of the same name created since is not this one.
        remove(kube::TrainingJobs(), a);
        break;
      case ActionType::kEvent: {
        if (client.Create(kube::Events(), view.ns, MakeEvent(view, a, now)).ok()) ++result.events;
        break;
      }
      case ActionType::kTakeover: {
        if (shards == nullptr) break;
        const std::string lost = PodName(view.name, job::Role::kParameterServer, a.server);
        Status s = shards->TakeOver(a.endpoint, view.name, a.server, kTakeoverTimeout, a.auth);
        if (s.ok()) ++result.takeovers;
        const Action event =
            s.ok()
                ? Action::Event("Normal", "ServerTakenOver",
                                "pod " + lost + "'s shard is served by its successor (" +
                                    a.endpoint + ") from its copy until the new pod is up")
                : Action::Event("Warning", "TakeoverFailed",
                                "pod " + lost + "'s shard waits for the new pod: " + s.message());
        if (client.Create(kube::Events(), view.ns, MakeEvent(view, event, now)).ok()) {
          ++result.events;
        }
        break;
      }
    }
  }
  result.status = first;
  return result;
}

}  // namespace ringtrain::op
