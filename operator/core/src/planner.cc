#include "ringtrain/operator/planner.h"

#include "ringtrain/operator/api_convert.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

namespace ringtrain::op {

namespace {

using std::chrono::seconds;

bool Active(const PodView& p) {
  return !p.deleting && p.phase != "Succeeded" && p.phase != "Failed";
}

std::chrono::seconds Until(Time from, Time to) {
  const auto d = std::chrono::duration_cast<seconds>(to - from);
  return std::max(d + seconds(1), seconds(1));  // round up: wake after, not before
}

// A failed pod whose failure an earlier restart already counted (see
// JobStatus::handled_failures): it is on its way out, not a new failure.
bool Handled(const JobStatus& status, const PodView& p) {
  return !p.uid.empty() && std::find(status.handled_failures.begin(), status.handled_failures.end(),
                                     p.uid) != status.handled_failures.end();
}

class Planner {
 public:
  Planner(const JobView& view, const OwnedObjects& owned, const ResourceOptions& options, Time now)
      : view_(view), owned_(owned), options_(options), now_(now) {
    plan_.status = view.status;
  }

  Plan Run(const std::optional<job::TrainingJob>& running_job);

 private:
  void Event(const std::string& type, const std::string& reason, const std::string& message) {
    Action a{ActionType::kEvent, {}, "", "", type, reason, message};
    plan_.actions.push_back(std::move(a));
  }
  // Sets a condition; records an event when it changed and `event_type` is non-empty.
  bool Condition(const std::string& type, const std::string& value, const std::string& reason,
                 const std::string& message, const std::string& event_type = "") {
    const bool changed =
        SetCondition(plan_.status, type, value, reason, message, now_, view_.generation);
    if (changed && !event_type.empty()) Event(event_type, reason, message);
    return changed;
  }
  void DeletePod(const PodView& p) {
    Action a{ActionType::kDeletePod, {}, p.name, p.uid, "", "", ""};
    plan_.actions.push_back(std::move(a));
  }
  void Create(nlohmann::json object) {
    Action a{ActionType::kCreate, std::move(object), "", "", "", "", ""};
    plan_.actions.push_back(std::move(a));
  }
  void CleanPods(job::CleanPodPolicy policy);
  void Fail(const std::string& reason, const std::string& message, job::CleanPodPolicy policy);
  // Fails the job or restarts it (every pod deleted), per the run policy.
  void HandleFailedPod(const PodView& pod, const job::RunPolicy& policy);
  void Finish();
  // Takes the newest training progress into the status: polled from worker 0 while the job
  // runs, or worker 0's final words once it has succeeded.
  void TakeProgress();

  const JobView& view_;
  const OwnedObjects& owned_;
  const ResourceOptions& options_;
  Time now_;
  Plan plan_;
};

void Planner::CleanPods(job::CleanPodPolicy policy) {
  if (policy == job::CleanPodPolicy::kNone) return;
  for (const PodView& p : owned_.pods) {
    if (p.deleting) continue;
    if (policy == job::CleanPodPolicy::kAll || Active(p)) DeletePod(p);
  }
}

void Planner::Fail(const std::string& reason, const std::string& message,
                   job::CleanPodPolicy policy) {
  Condition(kFailed, "True", reason, message, "Warning");
  Condition(kRunning, "False", reason, message);
  Condition(kRestarting, "False", reason, message);
  if (!plan_.status.completion_time) plan_.status.completion_time = now_;
  CleanPods(policy);
}

void Planner::HandleFailedPod(const PodView& pod, const job::RunPolicy& policy) {
  std::string exit =
      pod.exit_code ? "exit code " + std::to_string(*pod.exit_code) : "an unknown exit code";
  // Its last words (the error that ended it, or its log's tail) say why.
  if (!pod.termination_message.empty() &&
      !ProgressFromTerminationMessage(pod.termination_message)) {
    std::string why = pod.termination_message.substr(0, pod.termination_message.find('\n'));
    if (why.size() > 300) why = why.substr(0, 300) + "...";
    exit += " (" + why + ")";
  }
  bool retryable = false;
  switch (policy.restart_policy) {
    case job::RestartPolicy::kNever:
      retryable = false;
      break;
    case job::RestartPolicy::kOnFailure:
      retryable = true;
      break;
    case job::RestartPolicy::kExitCode:
      // 128+N: killed by signal N (OOM, eviction, preemption) — worth another try; 1..127:
      // the program itself gave up — permanent.
      retryable = !pod.exit_code || *pod.exit_code >= 128;
      break;
  }
  if (!retryable) {
    Fail(policy.restart_policy == job::RestartPolicy::kNever ? "PodFailed" : "PermanentExitCode",
         "pod " + pod.name + " failed with " + exit + " (restartPolicy " +
             job::Name(policy.restart_policy) + ")",
         policy.clean_pod_policy);
    return;
  }
  if (plan_.status.restart_count >= policy.backoff_limit) {
    Fail("BackoffLimitExceeded",
         "pod " + pod.name + " failed with " + exit + " after " +
             std::to_string(plan_.status.restart_count) + " restarts (backoffLimit " +
             std::to_string(policy.backoff_limit) + ")",
         policy.clean_pod_policy);
    return;
  }
  plan_.status.restart_count += 1;
  plan_.status.handled_failures.clear();
  for (const PodView& p : owned_.pods) {
    if (!p.deleting && p.phase == "Failed" && !p.uid.empty()) {
      plan_.status.handled_failures.push_back(p.uid);
    }
  }
  ReplicaCounts& counts = pod.role == job::Role::kParameterServer ? plan_.status.parameter_servers
                                                                  : plan_.status.workers;
  counts.restarts += 1;
  // Without checkpoints a replaced pod cannot rejoin a run in progress (a new worker starts at
  // step 0, a new server with fresh parameters), so the whole job restarts: every pod goes,
  // and all are created again once the last one is gone. One failure, one restart.
  for (const PodView& p : owned_.pods) {
    if (!p.deleting) DeletePod(p);
  }
  const std::string message = "pod " + pod.name + " failed with " + exit +
                              "; restarting the job (restart " +
                              std::to_string(plan_.status.restart_count) + " of at most " +
                              std::to_string(policy.backoff_limit) + ")";
  SetCondition(plan_.status, kRestarting, "True", "PodFailed", message, now_, view_.generation);
  Condition(kRunning, "False", "PodFailed", message);
  Event("Warning", "Restarting", message);
}

void Planner::TakeProgress() {
  JobStatus& st = plan_.status;
  std::optional<Progress> p;
  if (!st.Finished()) p = owned_.progress;  // a finished job's last poll is stale
  for (const PodView& pod : owned_.pods) {
    if (pod.role != job::Role::kWorker || pod.index != 0 || pod.phase != "Succeeded") continue;
    if (std::optional<Progress> last = ProgressFromTerminationMessage(pod.termination_message)) {
      p = last;
    }
  }
  if (!p) return;
  // The numbers come from the job's own image. Anything the status schema would refuse (JSON
  // has no NaN or infinity; counts are >= 0, accuracy in [0, 1]) is dropped: one refused
  // value would fail the whole status write, and with it every later phase change.
  auto finite = [](double v) { return std::isfinite(v) ? v : 0.0; };
  p->loss = finite(p->loss);
  p->samples_per_second = std::max(0.0, finite(p->samples_per_second));
  p->step = std::max<int64_t>(0, p->step);
  p->total_steps = std::max<int64_t>(0, p->total_steps);
  p->epoch = std::max(0, p->epoch);
  p->global_batch_size = std::max<int64_t>(0, p->global_batch_size);
  if (p->accuracy && !(*p->accuracy >= 0 && *p->accuracy <= 1)) p->accuracy.reset();
  if (st.progress && st.progress->SamePoint(*p)) return;
  if (!p->update_time) p->update_time = now_;
  st.progress = p;
}

void Planner::Finish() {
  JobStatus& st = plan_.status;
  st.observed_generation = view_.generation;
  for (job::Role role : {job::Role::kParameterServer, job::Role::kWorker}) {
    ReplicaCounts& c = role == job::Role::kParameterServer ? st.parameter_servers : st.workers;
    const int restarts = c.restarts;
    c = ReplicaCounts{};
    c.restarts = restarts;
    for (const PodView& p : owned_.pods) {
      if (p.role != role) continue;
      if (Active(p)) c.active += 1;
      if (Active(p) && p.phase == "Running" && p.ready) c.ready += 1;
      if (p.phase == "Succeeded") c.succeeded += 1;
      if (p.phase == "Failed") c.failed += 1;
    }
  }
  if (st.IsTrue(kFailed)) {
    st.phase = kFailed;
  } else if (st.IsTrue(kSucceeded)) {
    st.phase = kSucceeded;
  } else if (st.IsTrue(kSuspended)) {
    st.phase = kSuspended;
  } else if (st.IsTrue(kRestarting)) {
    st.phase = kRestarting;
  } else if (st.IsTrue(kRunning)) {
    st.phase = kRunning;
  } else if (st.IsTrue(kCreated)) {
    st.phase = kCreated;
  } else {
    st.phase = "Pending";
  }
}

Plan Planner::Run(const std::optional<job::TrainingJob>& running_job) {
  JobStatus& st = plan_.status;
  if (view_.deleting) return plan_;  // owned objects go with it (garbage collection)
  if (!view_.job && !running_job) {
    if (!st.Finished()) {
      Condition(kFailed, "True", "InvalidSpec", view_.spec_error, "Warning");
      if (!st.completion_time) st.completion_time = now_;
    }
    Finish();
    return plan_;
  }
  // An edit that does not parse cannot stop a job that started from a valid spec: the job
  // goes on with the spec (and run policy) it started with, and the edit is refused.
  const job::TrainingJob& live = view_.job ? *view_.job : *running_job;
  TakeProgress();
  const job::RunPolicy& policy = live.spec.run_policy;
  if (st.Finished()) {
    CleanPods(policy.clean_pod_policy);
    if (policy.ttl_seconds_after_finished && st.completion_time) {
      const Time expire = *st.completion_time + seconds(*policy.ttl_seconds_after_finished);
      if (now_ >= expire) {
        Action a{ActionType::kDeleteJob, {}, view_.name, view_.uid, "", "", ""};
        plan_.actions.push_back(std::move(a));
      } else {
        plan_.requeue_after = Until(now_, expire);
      }
    }
    Finish();
    return plan_;
  }

  if (policy.suspend) {
    for (const PodView& p : owned_.pods) {
      if (!p.deleting) DeletePod(p);
    }
    Condition(kSuspended, "True", "Suspended", "the job is suspended; its pods are deleted",
              "Normal");
    Condition(kRunning, "False", "Suspended", "the job is suspended");
    Condition(kRestarting, "False", "Suspended", "the job is suspended");
    st.start_time.reset();  // activeDeadlineSeconds counts from the resume, as for Jobs
    if (st.IsTrue(kSpecChangeRefused)) {
      Condition(kSpecChangeRefused, "False", "Suspended",
                "the job is suspended: spec edits apply when it resumes");
    }
    Finish();
    return plan_;
  }
  const job::TrainingJob* effective = running_job ? &*running_job : &live;
  if (st.IsTrue(kSuspended)) {
    // Resuming. The suspension's pods must be gone first (no new worker may meet an old
    // server); then a spec edited while suspended applies: the ConfigMap of the old spec is
    // replaced and the pods are built from the new one.
    if (!owned_.pods.empty()) {
      for (const PodView& p : owned_.pods) {
        if (!p.deleting) DeletePod(p);
      }
      Finish();
      return plan_;
    }
    if (running_job && SpecHash(*running_job) != SpecHash(live)) {
      // Still suspended until the old ConfigMap is gone (a failed delete is retried); then
      // it is made anew from the edit, and the pods once the cache shows it.
      Action a{ActionType::kDeleteConfigMap,
               {},
               ConfigMapName(view_.name),
               owned_.config_map_uid,
               "",
               "",
               ""};
      plan_.actions.push_back(std::move(a));
      Finish();
      return plan_;
    }
    Condition(kSuspended, "False", "Resumed", "the job is resumed; its pods are recreated",
              "Normal");
  }
  if (!st.start_time) st.start_time = now_;

  if (policy.active_deadline_seconds) {
    const Time expire = *st.start_time + seconds(*policy.active_deadline_seconds);
    if (now_ >= expire) {
      Fail("DeadlineExceeded",
           "the job ran longer than activeDeadlineSeconds=" +
               std::to_string(*policy.active_deadline_seconds),
           policy.clean_pod_policy);
      Finish();
      return plan_;
    }
    plan_.requeue_after = Until(now_, expire);
  }

  if (!view_.job) {
    Condition(kSpecChangeRefused, "True", "InvalidSpec",
              "the edited spec is invalid (" + view_.spec_error +
                  "); the job keeps running with the spec it started with",
              "Warning");
  } else if (running_job && SpecHash(live) != SpecHash(*running_job)) {
    Condition(kSpecChangeRefused, "True", "ImmutableWhileRunning",
              "only spec.runPolicy applies to a job that has started; the job keeps running "
              "with the spec it started with (delete and re-create it to change the rest)",
              "Warning");
  } else if (st.IsTrue(kSpecChangeRefused)) {
    Condition(kSpecChangeRefused, "False", "SpecUnchanged", "the spec matches the running job");
  }

  bool created = false;
  bool pods_created = false;
  const bool config_ready = owned_.config_map && owned_.config_map_hash == SpecHash(*effective);
  if (!owned_.config_map) {
    Create(BuildConfigMap(view_, *effective));
    created = true;
  }
  if (!owned_.ps_service) {
    Create(BuildService(view_, job::Role::kParameterServer, options_));
    created = true;
  }
  if (!owned_.worker_service) {
    Create(BuildService(view_, job::Role::kWorker, options_));
    created = true;
  }

  // The first failed pod (in role, index order) decides: the job fails or restarts.
  const PodView* failed = nullptr;
  bool draining = false;  // pods of a restart or a scale-down still terminating
  // A failed pod a restart already counted, still there and not being deleted: that restart's
  // deletions did not all happen (the operator stopped between its status write and them) or
  // the cache has not seen them yet. Redo them all; each names its pod's UID, so a newer pod
  // of the same name is never hit.
  const bool restart_unfinished =
      std::any_of(owned_.pods.begin(), owned_.pods.end(),
                  [&](const PodView& p) { return !p.deleting && Handled(st, p); });
  if (restart_unfinished) {
    for (const PodView& p : owned_.pods) {
      if (!p.deleting) DeletePod(p);
    }
    Finish();
    return plan_;
  }
  for (const PodView& p : owned_.pods) {
    draining = draining || p.deleting;
    if (p.deleting || p.phase != "Failed") continue;
    if (failed == nullptr ||
        std::make_pair(p.role, p.index) < std::make_pair(failed->role, failed->index)) {
      failed = &p;
    }
  }
  if (failed != nullptr) {
    HandleFailedPod(*failed, policy);
    Finish();
    return plan_;
  }

  std::map<std::pair<job::Role, int>, const PodView*> pods;
  for (const PodView& p : owned_.pods) pods[{p.role, p.index}] = &p;
  bool all_running = true;
  int workers_succeeded = 0;
  for (job::Role role : {job::Role::kParameterServer, job::Role::kWorker}) {
    const int replicas = role == job::Role::kParameterServer
                             ? effective->spec.parameter_servers.replicas
                             : effective->spec.workers.replicas;
    for (int i = 0; i < replicas; ++i) {
      auto it = pods.find({role, i});
      if (it == pods.end()) {
        // After a restart, new pods wait until every old one is gone, so that no new worker
        // talks to a terminating server; and every pod waits until the ConfigMap it mounts is
        // there with the spec it is built from (never the same pass that creates it: a
        // left-over ConfigMap of the same name would be mounted instead).
        if (!draining && config_ready) {
          Create(BuildPod(view_, *effective, role, i, options_));
          created = true;
          pods_created = true;
        }
        all_running = false;
        continue;
      }
      const PodView& pod = *it->second;
      if (pod.deleting) {
        all_running = false;
      } else if (pod.phase == "Succeeded") {
        if (role == job::Role::kWorker) ++workers_succeeded;
      } else if (pod.phase != "Running") {
        all_running = false;
      }
    }
  }
  // Pods beyond the replica counts are not ours to keep.
  for (const PodView& p : owned_.pods) {
    const int replicas = p.role == job::Role::kParameterServer
                             ? effective->spec.parameter_servers.replicas
                             : effective->spec.workers.replicas;
    if (p.index >= replicas && !p.deleting) DeletePod(p);
  }

  if (pods_created && !st.IsTrue(kCreated)) {
    Condition(kCreated, "True", "PodsCreated",
              "created " + std::to_string(effective->spec.parameter_servers.replicas) +
                  " parameter server and " + std::to_string(effective->spec.workers.replicas) +
                  " worker pods",
              "Normal");
  }
  if (workers_succeeded == effective->spec.workers.replicas) {
    Condition(kSucceeded, "True", "AllWorkersSucceeded",
              "all " + std::to_string(workers_succeeded) + " workers succeeded", "Normal");
    Condition(kRunning, "False", "Succeeded", "the job succeeded");
    Condition(kRestarting, "False", "Succeeded", "the job succeeded");
    st.completion_time = now_;
    CleanPods(policy.clean_pod_policy);
    plan_.requeue_after.reset();
    if (policy.ttl_seconds_after_finished) {
      plan_.requeue_after = seconds(*policy.ttl_seconds_after_finished) + seconds(1);
    }
  } else if (all_running && !created) {
    Condition(kRunning, "True", "AllPodsRunning", "every pod is running", "Normal");
    Condition(kRestarting, "False", "AllPodsRunning", "every pod is running");
  }
  Finish();
  return plan_;
}

}  // namespace

bool SetCondition(JobStatus& status, const std::string& type, const std::string& value,
                  const std::string& reason, const std::string& message, Time now,
                  int64_t generation) {
  for (Condition& c : status.conditions) {
    if (c.type != type) continue;
    if (c.status == value && c.reason == reason && c.message == message &&
        c.observed_generation == generation) {
      return false;
    }
    if (c.status != value) c.last_transition = now;
    const bool changed = c.status != value || c.reason != reason;
    c.status = value;
    c.reason = reason;
    c.message = message;
    c.observed_generation = generation;
    return changed;
  }
  // A condition that never held is not worth recording as False.
  if (value == "False") return false;
  status.conditions.push_back({type, value, reason, message, now, generation});
  return true;
}

Plan PlanReconcile(const JobView& view, const std::optional<job::TrainingJob>& running_job,
                   const OwnedObjects& owned, const ResourceOptions& options, Time now) {
  Planner planner(view, owned, options, now);
  return planner.Run(running_job);
}

}  // namespace ringtrain::op
