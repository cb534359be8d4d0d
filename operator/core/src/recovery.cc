#include "ringtrain/operator/recovery.h"

#include "ringtrain/operator/api_convert.h"

namespace ringtrain::op {

Recovery RecoveryFor(const job::TrainingJob& job, job::Role role) {
  if (role == job::Role::kParameterServer && !job.spec.checkpoint &&
      job.spec.parameter_servers.replication == 0) {
    return Recovery::kRestartJob;
  }
  return Recovery::kReplacePod;
}

std::string RecoveryNote(const job::TrainingJob& job, job::Role role) {
  if (role == job::Role::kWorker) return "the new worker joins the run at the servers' clock";
  if (job.spec.parameter_servers.replication > 0) {
    return "the new server restores its shard from the copy its successor keeps "
           "(parameterServers.replication), which has every acknowledged update";
  }
  if (job.spec.checkpoint) {
    return "the new server restores its shard from the newest checkpoint in " +
           job.spec.checkpoint->path;
  }
  return "every pod is recreated: without checkpoints (spec.checkpoint is not set) there is no "
         "shard to restore, and a server replaced alone would start from initial parameters";
}

std::string ReplacedReason(job::Role role) {
  return role == job::Role::kParameterServer ? "ServerReplaced" : "WorkerReplaced";
}

bool IsReplacedReason(const std::string& reason) {
  return reason == ReplacedReason(job::Role::kParameterServer) ||
         reason == ReplacedReason(job::Role::kWorker);
}

bool Retryable(job::RestartPolicy policy, std::optional<int> exit_code) {
  switch (policy) {
    case job::RestartPolicy::kNever:
      return false;
    case job::RestartPolicy::kOnFailure:
      return true;
    case job::RestartPolicy::kExitCode:
      return !exit_code || *exit_code >= 128;
  }
  return false;
}

std::string DescribeExit(const PodView& pod) {
  std::string exit =
      pod.exit_code ? "exit code " + std::to_string(*pod.exit_code) : "an unknown exit code";
  // Its last words (the error that ended it, or its log's tail) say why.
  if (!pod.termination_message.empty() &&
      !ProgressFromTerminationMessage(pod.termination_message)) {
    std::string why = pod.termination_message.substr(0, pod.termination_message.find('\n'));
    if (why.size() > 300) why = why.substr(0, 300) + "...";
    exit += " (" + why + ")";
  }
  return exit;
}

}  // namespace ringtrain::op
