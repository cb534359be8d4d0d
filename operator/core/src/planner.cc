#include "ringtrain/operator/planner.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "ringtrain/operator/api_convert.h"

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

int Replicas(const job::TrainingJob& job, job::Role role) {
  return role == job::Role::kParameterServer ? job.spec.parameter_servers.replicas
                                             : job.spec.workers.replicas;
}

// What the replicas phase saw of the pods the spec asks for.
struct ReplicaTally {
  bool all_running = true;    // every pod exists and runs (or, for workers, has succeeded)
  bool pods_created = false;  // this plan creates pods
  int workers_succeeded = 0;
};

// One reconcile's planning. Run applies the phases in order; a phase that decides the plan
// returns true and the rest are skipped. Whatever the phases decided, the status is then
// summarized (counts, phase) from the owned objects.
class Planner {
 public:
  Planner(const JobView& view, const std::optional<job::TrainingJob>& running_job,
          const OwnedObjects& owned, const ResourceOptions& options, Time now)
      : view_(view), running_job_(running_job), owned_(owned), options_(options), now_(now) {
    plan_.status = view.status;
  }

  Plan Run();

 private:
  // Phases, in the order Run applies them.
  // No spec ever parsed (neither the job's nor the running one): Failed (InvalidSpec).
  void FailInvalidSpec();
  // A finished job: its pods cleaned per cleanPodPolicy; the job deleted once its TTL passed.
  void HandleFinished();
  // suspend: true: every pod deleted, Suspended.
  void Suspend();
  // A suspended job resuming: its old pods go first, then the ConfigMap of a spec edited
  // meanwhile. True while that is under way.
  bool Resume();
  // activeDeadlineSeconds passed: Failed (DeadlineExceeded). Else the timer is requeued.
  bool EnforceDeadline();
  // A spec edited while the job runs: refused (condition SpecChangeRefused), or the refusal
  // withdrawn once the spec matches the running job again.
  void RefuseSpecChange();
  // The ConfigMap and the two headless Services, created when missing.
  void CreateOwnedObjects();
  // Failed pods: an unfinished restart redone, or the first failure handled per the run
  // policy (restart or fail). True when there was one.
  bool HandleFailures();
  // One pod per replica created (once the ConfigMap is ready and no pod is draining); pods
  // beyond the replica counts deleted.
  ReplicaTally ReconcileReplicas();
  // Created, Succeeded (every worker succeeded) or Running (every pod runs).
  void Complete(const ReplicaTally& tally);

  // Summarizes the status (counts, phase) and hands the plan out.
  Plan Finish();

  // Helpers of the phases.
  void Event(const std::string& type, const std::string& reason, const std::string& message) {
    plan_.actions.push_back(Action::Event(type, reason, message));
  }
  // Sets a condition; records an event when it changed and `event_type` is non-empty.
  bool Condition(const std::string& type, const std::string& value, const std::string& reason,
                 const std::string& message, const std::string& event_type = "") {
    const bool changed =
        SetCondition(plan_.status, type, value, reason, message, now_, view_.generation);
    if (changed && !event_type.empty()) Event(event_type, reason, message);
    return changed;
  }
  void DeletePod(const PodView& p) { plan_.actions.push_back(Action::DeletePod(p.name, p.uid)); }
  void DeleteAllPods() {
    for (const PodView& p : owned_.pods) {
      if (!p.deleting) DeletePod(p);
    }
  }
  void Create(nlohmann::json object) {
    plan_.actions.push_back(Action::Create(std::move(object)));
    created_ = true;
  }
  void CleanPods(job::CleanPodPolicy policy);
  void Fail(const std::string& reason, const std::string& message, job::CleanPodPolicy policy);
  // Fails the job or restarts it (every pod deleted), per the run policy.
  void HandleFailedPod(const PodView& pod, const job::RunPolicy& policy);
  // Takes the newest training progress into the status: polled from worker 0 while the job
  // runs, or worker 0's final words once it has succeeded.
  void TakeProgress();

  const JobView& view_;
  const std::optional<job::TrainingJob>& running_job_;
  const OwnedObjects& owned_;
  const ResourceOptions& options_;
  const Time now_;
  // Set by Run once a spec is known. `live_`: the job's spec, or the running one if the
  // edit does not parse (its run policy applies). `effective_`: what pods are built from
  // (the running spec if any: an edit never reaches a running job).
  const job::TrainingJob* live_ = nullptr;
  const job::TrainingJob* effective_ = nullptr;
  const job::RunPolicy* policy_ = nullptr;
  bool created_ = false;  // this plan creates something
  Plan plan_;
};

Plan Planner::Run() {
  if (view_.deleting) return plan_;  // owned objects go with it (garbage collection)
  if (!view_.job && !running_job_) {
    FailInvalidSpec();
    return Finish();
  }
  // An edit that does not parse cannot stop a job that started from a valid spec: the job
  // goes on with the spec (and run policy) it started with, and the edit is refused.
  live_ = view_.job ? &*view_.job : &*running_job_;
  effective_ = running_job_ ? &*running_job_ : live_;
  policy_ = &live_->spec.run_policy;
  TakeProgress();
  if (plan_.status.Finished()) {
    HandleFinished();
    return Finish();
  }
  if (policy_->suspend) {
    Suspend();
    return Finish();
  }
  if (Resume()) return Finish();
  if (!plan_.status.start_time) plan_.status.start_time = now_;
  if (EnforceDeadline()) return Finish();
  RefuseSpecChange();
  CreateOwnedObjects();
  if (HandleFailures()) return Finish();
  Complete(ReconcileReplicas());
  return Finish();
}

void Planner::FailInvalidSpec() {
  if (plan_.status.Finished()) return;
  Condition(kFailed, "True", "InvalidSpec", view_.spec_error, "Warning");
  if (!plan_.status.completion_time) plan_.status.completion_time = now_;
}

void Planner::HandleFinished() {
  const JobStatus& st = plan_.status;
  CleanPods(policy_->clean_pod_policy);
  if (!policy_->ttl_seconds_after_finished || !st.completion_time) return;
  const Time expire = *st.completion_time + seconds(*policy_->ttl_seconds_after_finished);
  if (now_ >= expire) {
    plan_.actions.push_back(Action::DeleteJob(view_.name, view_.uid));
  } else {
    plan_.requeue_after = Until(now_, expire);
  }
}

void Planner::Suspend() {
  DeleteAllPods();
  Condition(kSuspended, "True", "Suspended", "the job is suspended; its pods are deleted",
            "Normal");
  Condition(kRunning, "False", "Suspended", "the job is suspended");
  Condition(kRestarting, "False", "Suspended", "the job is suspended");
  plan_.status.start_time.reset();  // activeDeadlineSeconds counts from the resume, as for Jobs
  if (plan_.status.IsTrue(kSpecChangeRefused)) {
    Condition(kSpecChangeRefused, "False", "Suspended",
              "the job is suspended: spec edits apply when it resumes");
  }
}

bool Planner::Resume() {
  if (!plan_.status.IsTrue(kSuspended)) return false;
  // The suspension's pods must be gone first (no new worker may meet an old server); then a
  // spec edited while suspended applies: the ConfigMap of the old spec is replaced and the
  // pods are built from the new one.
  if (!owned_.pods.empty()) {
    DeleteAllPods();
    return true;
  }
  if (running_job_ && SpecHash(*running_job_) != SpecHash(*live_)) {
    // Still suspended until the old ConfigMap is gone (a failed delete is retried); then it
    // is made anew from the edit, and the pods once the cache shows it.
    plan_.actions.push_back(
        Action::DeleteConfigMap(ConfigMapName(view_.name), owned_.config_map_uid));
    return true;
  }
  Condition(kSuspended, "False", "Resumed", "the job is resumed; its pods are recreated", "Normal");
  return false;
}

bool Planner::EnforceDeadline() {
  if (!policy_->active_deadline_seconds) return false;
  const Time expire = *plan_.status.start_time + seconds(*policy_->active_deadline_seconds);
  if (now_ >= expire) {
    Fail("DeadlineExceeded",
         "the job ran longer than activeDeadlineSeconds=" +
             std::to_string(*policy_->active_deadline_seconds),
         policy_->clean_pod_policy);
    return true;
  }
  plan_.requeue_after = Until(now_, expire);
  return false;
}

void Planner::RefuseSpecChange() {
  if (!view_.job) {
    Condition(kSpecChangeRefused, "True", "InvalidSpec",
              "the edited spec is invalid (" + view_.spec_error +
                  "); the job keeps running with the spec it started with",
              "Warning");
  } else if (running_job_ && SpecHash(*live_) != SpecHash(*running_job_)) {
    Condition(kSpecChangeRefused, "True", "ImmutableWhileRunning",
              "only spec.runPolicy applies to a job that has started; the job keeps running "
              "with the spec it started with (delete and re-create it to change the rest)",
              "Warning");
  } else if (plan_.status.IsTrue(kSpecChangeRefused)) {
    Condition(kSpecChangeRefused, "False", "SpecUnchanged", "the spec matches the running job");
  }
}

void Planner::CreateOwnedObjects() {
  if (!owned_.config_map) Create(BuildConfigMap(view_, *effective_));
  if (!owned_.ps_service) Create(BuildService(view_, job::Role::kParameterServer, options_));
  if (!owned_.worker_service) Create(BuildService(view_, job::Role::kWorker, options_));
}

bool Planner::HandleFailures() {
  // A failed pod a restart already counted, still there and not being deleted: that restart's
  // deletions did not all happen (the operator stopped between its status write and them) or
  // the cache has not seen them yet. Redo them all; each names its pod's UID, so a newer pod
  // of the same name is never hit.
  const bool restart_unfinished =
      std::any_of(owned_.pods.begin(), owned_.pods.end(),
                  [&](const PodView& p) { return !p.deleting && Handled(plan_.status, p); });
  if (restart_unfinished) {
    DeleteAllPods();
    return true;
  }
  // The first failed pod (in role, index order) decides: the job fails or restarts.
  const PodView* failed = nullptr;
  for (const PodView& p : owned_.pods) {
    if (p.deleting || p.phase != "Failed") continue;
    if (failed == nullptr ||
        std::make_pair(p.role, p.index) < std::make_pair(failed->role, failed->index)) {
      failed = &p;
    }
  }
  if (failed == nullptr) return false;
  HandleFailedPod(*failed, *policy_);
  return true;
}

ReplicaTally Planner::ReconcileReplicas() {
  ReplicaTally tally;
  // Pods of a restart or a scale-down still terminating.
  const bool draining = std::any_of(owned_.pods.begin(), owned_.pods.end(),
                                    [](const PodView& p) { return p.deleting; });
  const bool config_ready = owned_.config_map && owned_.config_map_hash == SpecHash(*effective_);
  std::map<std::pair<job::Role, int>, const PodView*> pods;
  for (const PodView& p : owned_.pods) pods[{p.role, p.index}] = &p;
  for (job::Role role : {job::Role::kParameterServer, job::Role::kWorker}) {
    const int replicas = Replicas(*effective_, role);
    for (int i = 0; i < replicas; ++i) {
      auto it = pods.find({role, i});
      if (it == pods.end()) {
        // After a restart, new pods wait until every old one is gone, so that no new worker
        // talks to a terminating server; and every pod waits until the ConfigMap it mounts is
        // there with the spec it is built from (never the same pass that creates it: a
        // left-over ConfigMap of the same name would be mounted instead).
        if (!draining && config_ready) {
          Create(BuildPod(view_, *effective_, role, i, options_));
          tally.pods_created = true;
        }
        tally.all_running = false;
        continue;
      }
      const PodView& pod = *it->second;
      if (pod.deleting) {
        tally.all_running = false;
      } else if (pod.phase == "Succeeded") {
        if (role == job::Role::kWorker) ++tally.workers_succeeded;
      } else if (pod.phase != "Running") {
        tally.all_running = false;
      }
    }
  }
  // Pods beyond the replica counts are not ours to keep.
  for (const PodView& p : owned_.pods) {
    if (p.index >= Replicas(*effective_, p.role) && !p.deleting) DeletePod(p);
  }
  return tally;
}

void Planner::Complete(const ReplicaTally& tally) {
  JobStatus& st = plan_.status;
  const job::TrainingJob& job = *effective_;
  if (tally.pods_created && !st.IsTrue(kCreated)) {
    Condition(kCreated, "True", "PodsCreated",
              "created " + std::to_string(job.spec.parameter_servers.replicas) +
                  " parameter server and " + std::to_string(job.spec.workers.replicas) +
                  " worker pods",
              "Normal");
  }
  if (tally.workers_succeeded == job.spec.workers.replicas) {
    Condition(kSucceeded, "True", "AllWorkersSucceeded",
              "all " + std::to_string(tally.workers_succeeded) + " workers succeeded", "Normal");
    Condition(kRunning, "False", "Succeeded", "the job succeeded");
    Condition(kRestarting, "False", "Succeeded", "the job succeeded");
    st.completion_time = now_;
    CleanPods(policy_->clean_pod_policy);
    plan_.requeue_after.reset();
    if (policy_->ttl_seconds_after_finished) {
      plan_.requeue_after = seconds(*policy_->ttl_seconds_after_finished) + seconds(1);
    }
  } else if (tally.all_running && !created_) {
    Condition(kRunning, "True", "AllPodsRunning", "every pod is running", "Normal");
    Condition(kRestarting, "False", "AllPodsRunning", "every pod is running");
  }
}

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
  DeleteAllPods();
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

Plan Planner::Finish() {
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
  return std::move(plan_);
}

}  // namespace

Plan PlanReconcile(const JobView& view, const std::optional<job::TrainingJob>& running_job,
                   const OwnedObjects& owned, const ResourceOptions& options, Time now) {
  Planner planner(view, running_job, owned, options, now);
  return planner.Run();
}

}  // namespace ringtrain::op
