// The reconcile planner: a pure function from what is observed of one TrainingJob (its spec,
// its current status, the objects it owns) and the time to the actions that move the world
// toward the spec and the status that describes it. A thin executor applies the actions and
// writes the status only when it changed. Idempotent: planning again on the same observation
// gives the same plan, whatever event woke the controller.
//
// Lifecycle:
//   invalid spec            -> Failed (InvalidSpec), nothing created
//   suspend: true           -> every pod deleted, Suspended; resume recreates them
//   missing objects         -> created (ConfigMap, headless Services, one Pod per replica)
//   a failed pod            -> per runPolicy.restartPolicy: Never fails the job; OnFailure
//                              retries it; ExitCode retries exit codes >= 128 (killed by a
//                              signal) and fails the job for 1..127. A retry replaces that pod
//                              alone (condition Restarting and an event, reason WorkerReplaced
//                              or ServerReplaced; the other pods keep running), except for a
//                              server without spec.checkpoint: then the whole job restarts
//                              (every pod deleted, all recreated once the last is gone; event
//                              Restarting). Each retry counts against backoffLimit
//                              (BackoffLimitExceeded). What can be replaced alone: recovery.h
//   a pod deleted by others -> (kubectl delete, eviction) reported (WorkerReplaced /
//                              ServerReplaced, Normal) and recreated alone once gone, or, for a
//                              server without checkpoints, the job restarted (ServerLost). Not
//                              counted against backoffLimit
//   every worker succeeded  -> Succeeded; pods cleaned per cleanPodPolicy
//   activeDeadlineSeconds   -> Failed (DeadlineExceeded)
//   finished + TTL elapsed  -> the TrainingJob is deleted
//   no progress while running -> condition Stalled (NoProgress, a Warning event) once worker
//                              0's progress has not moved for options.stall_after; False again
//                              (Progressing) when it moves
//   spec edited while pods run (anything but runPolicy) -> refused: the job keeps running with
//                              the spec it started with; condition SpecChangeRefused says so
//                              (also for an edit that does not parse: the job is not failed)
//   spec edited while suspended -> applies on resume: once the suspension's pods are gone,
//                              the ConfigMap is replaced and the pods are built from the edit
//   recovery accounting     -> every pod the operator acts on while the job runs (a failure
//                              counted, a pod deleted to recover, a deletion by others
//                              reported) is recorded by UID in the status (handled_failures),
//                              which the executor writes BEFORE deleting anything, so a stale
//                              cache or an operator restart never acts on one loss twice
//
// planner.cc plans in phases, in this order, each a function of its own; a phase that decides
// the plan ends it: deleted / invalid spec, finished (clean-up, TTL), suspend, resume,
// deadline, refused spec change, owned objects (ConfigMap, Services), failures and pods
// deleted by others (planner_recovery.cc: replace, restart or fail), replicas (pods created
// and deleted), completion (Created, Running, Succeeded). The status is then summarized
// (replica counts, phase) from the owned objects.
#ifndef RINGTRAIN_OPERATOR_PLANNER_H_
#define RINGTRAIN_OPERATOR_PLANNER_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ringtrain/operator/action.h"
#include "ringtrain/operator/job_state.h"
#include "ringtrain/operator/resources.h"

namespace ringtrain::op {

inline constexpr char kSpecChangeRefused[] = "SpecChangeRefused";

struct Plan {
  std::vector<Action> actions;
  JobStatus status;
  // Plan again after this long even if nothing changes (deadline and TTL timers).
  std::optional<std::chrono::seconds> requeue_after;
};

// `running_job` is the job as its pods were created (parsed from the owned ConfigMap), if any;
// pods are always built from it so that an edited spec never reaches a running job.
Plan PlanReconcile(const JobView& view, const std::optional<job::TrainingJob>& running_job,
                   const OwnedObjects& owned, const ResourceOptions& options, Time now);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_PLANNER_H_
