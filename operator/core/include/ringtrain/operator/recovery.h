// How the operator answers the loss of one pod of a job that runs: a pod that failed (its
// container exited non-zero) or one that someone else deleted (kubectl delete, an eviction, a
// drained node). The planner (planner.h) acts on these answers; they are stated here, as pure
// functions of the job's spec, so that the policy reads in one place.
//
// What the runtime makes possible:
//   a worker  is replaced alone: the new one JOINs the parameter servers, learns the clock they
//             hold for its rank and continues from there, mid-epoch (in sync mode the other
//             workers wait in the current round). The servers hold the clocks: no checkpoint
//             is needed.
//   a server  with spec.checkpoint is replaced alone: the new pod (same name, same endpoint)
//             restores its shard from its newest checkpoint. Without checkpoints a lone
//             replacement would start from initial parameters and silently damage the model,
//             so the whole job restarts (every pod deleted, all recreated once the last is
//             gone).
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_OPERATOR_RECOVERY_H_
#define RINGTRAIN_OPERATOR_RECOVERY_H_

#include <optional>
#include <string>

#include "ringtrain/job/spec.h"
#include "ringtrain/operator/job_state.h"

namespace ringtrain::op {

enum class Recovery {
  kReplacePod,  // only that pod is deleted and recreated; the others keep running
  kRestartJob,  // every pod is deleted, and all are recreated once the last one is gone
};

// How the loss of a pod of `role` is recovered in `job` (see above).
Recovery RecoveryFor(const job::TrainingJob& job, job::Role role);

// What that recovery means, for condition and event messages: "the new worker joins the run
// at the servers' clock", "the new server restores its shard from the newest checkpoint in
// <path>", or why the whole job restarts.
std::string RecoveryNote(const job::TrainingJob& job, job::Role role);

// Condition and event reason for a pod of `role` replaced alone: "WorkerReplaced" or
// "ServerReplaced".
std::string ReplacedReason(job::Role role);

// True when `reason` is one ReplacedReason returns: the Restarting condition describes pods
// replaced alone, not a restart of the whole job.
bool IsReplacedReason(const std::string& reason);

// Whether runPolicy.restartPolicy retries a pod that failed with `exit_code` (nullopt:
// unknown). Never: no. OnFailure: yes. ExitCode: for 128+N (killed by signal N: an OOM kill, an
// eviction, a preemption) and unknown codes; 1..127 are the program's own verdict (permanent).
bool Retryable(job::RestartPolicy policy, std::optional<int> exit_code);

// "exit code N" or "an unknown exit code", followed by the first line of the pod's
// termination message in parentheses when it holds an error (not worker 0's final progress).
std::string DescribeExit(const PodView& pod);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_RECOVERY_H_
