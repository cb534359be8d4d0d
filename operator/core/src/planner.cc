#include "ringtrain/operator/planner.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "planner_internal.h"
#include "ringtrain/operator/api_convert.h"
#include "ringtrain/operator/checkpoint_status.h"

namespace ringtrain::op {

namespace internal {

using std::chrono::seconds;

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
  TakeCheckpoint();
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
  if (HandleFailures() || HandleLostPods()) return Finish();
  Complete(ReconcileReplicas());
  DetectStall();
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
  if (!owned_.config_map) {
    // Made with the ConfigMap, before any pod (they wait for the ConfigMap), never read back
    // (the executor takes one already there as this job's).
    if (options_.network_policies) Create(BuildNetworkPolicy(view_, options_));
    if (effective_->spec.security.authentication == job::Authentication::kCurve) {
      // The keys with the ConfigMap that lists them; the pods wait for the ConfigMap, so the
      // Secret is there before any pod mounts it (its create is retried like any other).
      StatusOr<JobKeyFiles> keys =
          options_.keys == nullptr
              ? StatusOr<JobKeyFiles>(FailedPrecondition("this operator has no key source"))
              : options_.keys->Files(view_.uid, effective_->spec.parameter_servers.replicas,
                                     effective_->spec.workers.replicas);
      if (!keys.ok()) {
        Event("Warning", "KeysUnavailable",
              "cannot make the job's keys (spec.security.authentication: curve): " +
                  keys.status().message());
        return;
      }
      Create(BuildKeySecret(view_, *effective_, *keys));
      Create(BuildConfigMap(view_, *effective_, &*keys));
    } else {
      Create(BuildConfigMap(view_, *effective_));
    }
  }
  if (!owned_.ps_service) Create(BuildService(view_, job::Role::kParameterServer, options_));
  if (!owned_.worker_service) Create(BuildService(view_, job::Role::kWorker, options_));
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
        // talks to a terminating server (a pod replaced alone waits for its predecessor, whose
        // name it takes, and for any other pod terminating meanwhile); and every pod waits until
        // the ConfigMap it mounts is there with the spec it is built from (never the same pass that
        // creates it: a left-over ConfigMap of the same name would be mounted instead).
        if (!draining && config_ready) {
          // A server pod created while its successor runs replaces a lost one (at the job's
          // start and after a job-wide restart every pod is created at once): the successor is
          // asked to serve the shard first, now that the lost server is certainly gone (its pod
          // object is), so that the new pod's fetch ends the takeover.
          if (role == job::Role::kParameterServer) AskTakeover(i);
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

void Planner::DetectStall() {
  JobStatus& st = plan_.status;
  const bool stalled = st.IsTrue(kStalled);
  const std::optional<Progress>& p = st.progress;
  if (options_.stall_after.count() <= 0 || st.Finished() || !st.IsTrue(kRunning) || !p ||
      !p->update_time) {
    if (stalled) Condition(kStalled, "False", "NotRunning", "the job is not running");
    return;
  }
  const Time stall_at = *p->update_time + options_.stall_after;
  if (now_ < stall_at) {
    if (stalled) {
      Condition(kStalled, "False", "Progressing", "training steps are reported again", "Normal");
    }
    const seconds until = Until(now_, stall_at) + seconds(1);
    if (!plan_.requeue_after || until < *plan_.requeue_after) plan_.requeue_after = until;
    return;
  }
  // What the operator can see: pods that do not run, and the workers the servers wait for
  // (their status sockets say which: a stopped or hanging worker holds up a sync round).
  std::string not_running;
  for (const PodView& pod : owned_.pods) {
    if (pod.deleting || pod.phase == "Running" || pod.phase == "Succeeded") continue;
    not_running += (not_running.empty() ? "" : ", ") + pod.name + " (" + pod.phase + ")";
  }
  std::set<int> waited;
  for (const auto& [server, workers] : owned_.servers_waiting_for) {
    waited.insert(workers.begin(), workers.end());
  }
  std::string waited_pods;
  for (const PodView& pod : owned_.pods) {
    if (pod.deleting || pod.role != job::Role::kWorker || waited.count(pod.index) == 0) continue;
    waited_pods += (waited_pods.empty() ? "" : ", ") + pod.name;
  }
  Condition(kStalled, "True", "NoProgress",
            "no training step since " + FormatTime(*p->update_time) + " (step " +
                std::to_string(p->step) + " of " + std::to_string(p->total_steps) + "), " +
                std::to_string(options_.stall_after.count()) + " s or more: " +
                (!not_running.empty() ? "not running: " + not_running
                 : !waited_pods.empty()
                     ? "every pod runs; the parameter servers wait for " + waited_pods +
                           " (its process is stopped, hangs or is very slow)"
                     : "every pod runs, so a process stopped answering or a connection hangs "
                       "(the workers' logs name the server they lost)"),
            "Warning");
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

void Planner::TakeProgress() {
  JobStatus& st = plan_.status;
  std::optional<Progress> p;
  if (!st.Finished()) p = owned_.progress;  // a finished job's last poll is stale
  // Skipped records: every finished worker's final count, and worker 0's live one while it runs.
  int64_t finished_skipped = 0;
  bool worker0_finished = false;
  for (const PodView& pod : owned_.pods) {
    if (pod.role != job::Role::kWorker || pod.phase != "Succeeded") continue;
    std::optional<Progress> last = ProgressFromTerminationMessage(pod.termination_message);
    if (!last) continue;
    finished_skipped += std::clamp<int64_t>(last->records_skipped, 0, INT32_MAX);
    if (pod.index == 0) {
      p = last;
      worker0_finished = true;
    }
  }
  if (!p) return;
  // The numbers come from the job's own image. Anything the status schema would refuse (JSON
  // has no NaN or infinity; counts are >= 0, accuracy and AUC in [0, 1]) is dropped: one refused
  // value would fail the whole status write, and with it every later phase change.
  auto finite = [](double v) { return std::isfinite(v) ? v : 0.0; };
  p->loss = finite(p->loss);
  p->samples_per_second = std::max(0.0, finite(p->samples_per_second));
  p->step = std::max<int64_t>(0, p->step);
  p->total_steps = std::max<int64_t>(0, p->total_steps);
  p->epoch = std::max(0, p->epoch);
  p->global_batch_size = std::max<int64_t>(0, p->global_batch_size);
  if (p->accuracy && !(*p->accuracy >= 0 && *p->accuracy <= 1)) p->accuracy.reset();
  if (p->auc && !(*p->auc >= 0 && *p->auc <= 1)) p->auc.reset();
  p->records_skipped =
      finished_skipped +
      (worker0_finished ? 0 : std::clamp<int64_t>(p->records_skipped, 0, INT32_MAX));
  if (st.progress && st.progress->SamePoint(*p)) return;
  if (!p->update_time) p->update_time = now_;
  st.progress = p;
}

void Planner::TakeCheckpoint() {
  if (effective_ == nullptr || !effective_->spec.checkpoint) return;
  std::optional<CheckpointStatus> c =
      JobCheckpointStatus(owned_.server_checkpoints, effective_->spec.parameter_servers.replicas,
                          JobCheckpointLocation(*effective_));
  if (!c) return;
  c->step = std::max<int64_t>(0, c->step);  // the schema's minimum; the numbers are the image's
  plan_.status.checkpoint = c;
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

}  // namespace internal

Plan PlanReconcile(const JobView& view, const std::optional<job::TrainingJob>& running_job,
                   const OwnedObjects& owned, const ResourceOptions& options, Time now) {
  internal::Planner planner(view, running_job, owned, options, now);
  return planner.Run();
}

}  // namespace ringtrain::op
