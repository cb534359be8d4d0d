// The reconcile planner's phases (planner.h), shared by the files that define them:
// planner.cc (the lifecycle: creation, suspension, deadline, completion, status) and
// planner_recovery.cc (failed pods and pods deleted by others). Private to operator_core.
#ifndef RINGTRAIN_OPERATOR_CORE_SRC_PLANNER_INTERNAL_H_
#define RINGTRAIN_OPERATOR_CORE_SRC_PLANNER_INTERNAL_H_

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "ringtrain/operator/planner.h"

namespace ringtrain::op::internal {

inline bool Active(const PodView& p) {
  return !p.deleting && p.phase != "Succeeded" && p.phase != "Failed";
}

inline std::chrono::seconds Until(Time from, Time to) {
  using std::chrono::seconds;
  const auto d = std::chrono::duration_cast<seconds>(to - from);
  return std::max(d + seconds(1), seconds(1));  // round up: wake after, not before
}

// A pod the operator already acted on (see JobStatus::handled_failures): a failure counted, a
// pod deleted by a recovery, a deletion by someone else reported. On its way out: nothing new.
inline bool Handled(const JobStatus& status, const PodView& p) {
  return !p.uid.empty() && std::find(status.handled_failures.begin(), status.handled_failures.end(),
                                     p.uid) != status.handled_failures.end();
}

inline int Replicas(const job::TrainingJob& job, job::Role role) {
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
  // (planner_recovery.cc) Failed pods: the unfinished deletions of an earlier recovery
  // redone, or each new failure answered per the run policy and recovery.h: the job fails, the
  // pod is replaced alone, or the whole job restarts. True when there was something to do.
  bool HandleFailures();
  // (planner_recovery.cc) Pods someone else deleted: each reported once and replaced alone
  // once gone (by ReconcileReplicas), or, for a server without checkpoints, the whole job
  // restarted. True when the job restarts.
  bool HandleLostPods();
  // One pod per replica created (once the ConfigMap is ready and no pod is draining); pods
  // beyond the replica counts deleted.
  ReplicaTally ReconcileReplicas();
  // Created, Succeeded (every worker succeeded) or Running (every pod runs).
  void Complete(const ReplicaTally& tally);
  // Stalled: a running job whose progress has not moved for options_.stall_after (planner.h).
  void DetectStall();

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
  // Records that the operator acted on `p` (JobStatus::handled_failures), so that no later
  // plan acts on it again. The first call of a plan drops UIDs of pods no longer owned.
  void MarkHandled(const PodView& p);
  // Counts a restart against backoffLimit for `pod`'s failure; when none is left, fails the
  // job (BackoffLimitExceeded) and returns false.
  bool CountRestart(const PodView& pod, const std::string& exit);
  // Deletes `pod` alone (unless it is already going) and says so: condition Restarting
  // (reason ReplacedReason), an event of `event_type`. ReconcileReplicas recreates it.
  void ReplacePod(const PodView& pod, const std::string& message, const std::string& event_type);
  // With replication: a Takeover action for lost server `server`'s successor, if it runs (see
  // ReconcileReplicas: asked as the replacement pod is created, once the lost one is gone —
  // never while a terminating server may still serve).
  void AskTakeover(int server);
  // Deletes every pod (recorded as handled): all are recreated once the last one is gone.
  // Condition Restarting says why; returns whether it changed (an event is due).
  bool RestartJob(const std::string& reason, const std::string& message);
  void Create(nlohmann::json object) {
    plan_.actions.push_back(Action::Create(std::move(object)));
    created_ = true;
  }
  void CleanPods(job::CleanPodPolicy policy);
  void Fail(const std::string& reason, const std::string& message, job::CleanPodPolicy policy);
  // Takes the newest training progress into the status: polled from worker 0 while the job
  // runs, or worker 0's final words once it has succeeded.
  void TakeProgress();
  // Takes the checkpoint every server has into status.checkpoint (checkpoint_status.h), from
  // what the servers reported while the job runs; kept as it was when they report nothing.
  void TakeCheckpoint();

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
  bool created_ = false;         // this plan creates something
  bool handled_pruned_ = false;  // MarkHandled dropped the UIDs of pods gone
  Plan plan_;
};

}  // namespace ringtrain::op::internal

#endif  // RINGTRAIN_OPERATOR_CORE_SRC_PLANNER_INTERNAL_H_
