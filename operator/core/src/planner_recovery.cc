// The planner's answers to lost pods: failed ones (HandleFailures) and ones someone else
// deleted (HandleLostPods), per runPolicy and recovery.h. Every pod acted on is recorded by
// UID in the status (handled_failures), which the executor writes before it deletes anything,
// so one loss is acted on once, whatever the cache shows later or however often the operator
// restarts.
#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "planner_internal.h"
#include "ringtrain/operator/names.h"
#include "ringtrain/operator/recovery.h"

namespace ringtrain::op::internal {

namespace {

bool InRoleIndexOrder(const PodView* a, const PodView* b) {
  return std::make_pair(a->role, a->index) < std::make_pair(b->role, b->index);
}

std::string Of(int n, int limit) {
  return std::to_string(n) + " of at most " + std::to_string(limit);
}

}  // namespace

void Planner::MarkHandled(const PodView& p) {
  std::vector<std::string>& handled = plan_.status.handled_failures;
  if (!handled_pruned_) {
    // A UID the caches no longer hold never comes back (UIDs are unique, watches move
    // forward): forget it, so the list stays as long as the pods are many.
    std::erase_if(handled, [&](const std::string& uid) {
      return std::none_of(owned_.pods.begin(), owned_.pods.end(),
                          [&](const PodView& o) { return o.uid == uid; });
    });
    handled_pruned_ = true;
  }
  if (!p.uid.empty() && !Handled(plan_.status, p)) handled.push_back(p.uid);
}

bool Planner::CountRestart(const PodView& pod, const std::string& exit) {
  JobStatus& st = plan_.status;
  if (st.restart_count >= policy_->backoff_limit) {
    Fail("BackoffLimitExceeded",
         "pod " + pod.name + " failed with " + exit + " after " + std::to_string(st.restart_count) +
             " restarts (backoffLimit " + std::to_string(policy_->backoff_limit) + ")",
         policy_->clean_pod_policy);
    return false;
  }
  st.restart_count += 1;
  ReplicaCounts& counts =
      pod.role == job::Role::kParameterServer ? st.parameter_servers : st.workers;
  counts.restarts += 1;
  return true;
}

void Planner::ReplacePod(const PodView& pod, const std::string& message,
                         const std::string& event_type) {
  if (!pod.deleting) DeletePod(pod);
  MarkHandled(pod);
  const std::string reason = ReplacedReason(pod.role);
  // Not every pod runs until the new one does; the rest of the job keeps running meanwhile.
  SetCondition(plan_.status, kRestarting, "True", reason, message, now_, view_.generation);
  Condition(kRunning, "False", reason, message);
  Event(event_type, reason, message);
}

void Planner::AskTakeover(int server) {
  const int servers = effective_->spec.parameter_servers.replicas;
  if (effective_->spec.parameter_servers.replication == 0 || servers < 2) return;
  const int successor = (server + 1) % servers;
  for (const PodView& p : owned_.pods) {
    if (p.role != job::Role::kParameterServer || p.index != successor) continue;
    // Only a successor that runs, at an address, can serve; otherwise the workers wait for the
    // replacement as they would without failover.
    if (p.deleting || p.phase != "Running" || p.ip.empty()) continue;
    const std::string host = p.ip.find(':') == std::string::npos ? p.ip : "[" + p.ip + "]";
    PeerAuth auth;
    if (effective_->spec.security.authentication == job::Authentication::kCurve) {
      // The successor takes REPLICA_TAKEOVER only from the supervisor's key.
      StatusOr<PeerAuth> peer =
          options_.keys == nullptr
              ? StatusOr<PeerAuth>(FailedPrecondition("this operator has no key source"))
              : options_.keys->Peer(view_.uid,
                                    job::ProcessName(job::Role::kParameterServer, successor));
      if (!peer.ok()) {
        Event("Warning", "KeysUnavailable",
              "cannot ask ps-" + std::to_string(successor) +
                  " to take over: " + peer.status().message());
        return;
      }
      auth = *peer;
    }
    plan_.actions.push_back(Action::Takeover(
        server, "tcp://" + host + ":" + std::to_string(options_.ps_port), std::move(auth)));
    return;
  }
}

bool Planner::RestartJob(const std::string& reason, const std::string& message) {
  for (const PodView& p : owned_.pods) {
    if (p.deleting) continue;
    DeletePod(p);
    MarkHandled(p);
  }
  Condition(kRunning, "False", reason, message);
  return SetCondition(plan_.status, kRestarting, "True", reason, message, now_, view_.generation);
}

bool Planner::HandleFailures() {
  // Pods an earlier recovery deleted (their UIDs recorded), still there and not being deleted:
  // its deletions did not all happen (the operator stopped between its status write and them)
  // or the cache has not seen them yet. Redo them; each names its pod's UID, so a newer pod of
  // the same name is never hit.
  bool redone = false;
  for (const PodView& p : owned_.pods) {
    if (!p.deleting && Handled(plan_.status, p)) {
      DeletePod(p);
      redone = true;
    }
  }
  if (redone) return true;
  std::vector<const PodView*> failed;
  for (const PodView& p : owned_.pods) {
    if (!p.deleting && p.phase == "Failed") failed.push_back(&p);
  }
  if (failed.empty()) return false;
  std::sort(failed.begin(), failed.end(), InRoleIndexOrder);
  // A failure the restart policy does not retry fails the job, whatever else failed with it.
  for (const PodView* p : failed) {
    if (Retryable(policy_->restart_policy, p->exit_code)) continue;
    Fail(policy_->restart_policy == job::RestartPolicy::kNever ? "PodFailed" : "PermanentExitCode",
         "pod " + p->name + " failed with " + DescribeExit(*p) + " (restartPolicy " +
             job::Name(policy_->restart_policy) + ")",
         policy_->clean_pod_policy);
    return true;
  }
  // A server that cannot be replaced alone: one restart of the whole job answers every failure
  // seen with it.
  for (const PodView* p : failed) {
    if (RecoveryFor(*effective_, p->role) != Recovery::kRestartJob) continue;
    const std::string exit = DescribeExit(*p);
    if (!CountRestart(*p, exit)) return true;
    const std::string message = "pod " + p->name + " failed with " + exit +
                                "; restarting the job (restart " +
                                Of(plan_.status.restart_count, policy_->backoff_limit) +
                                "): " + RecoveryNote(*effective_, p->role);
    RestartJob("PodFailed", message);
    Event("Warning", "Restarting", message);
    return true;
  }
  // Otherwise each failed pod is replaced alone, each replacement one restart.
  for (const PodView* p : failed) {
    const std::string exit = DescribeExit(*p);
    if (!CountRestart(*p, exit)) return true;
    ReplacePod(*p,
               "pod " + p->name + " failed with " + exit + "; replacing that pod alone (restart " +
                   Of(plan_.status.restart_count, policy_->backoff_limit) +
                   "), the others keep running: " + RecoveryNote(*effective_, p->role),
               "Warning");
  }
  return true;
}

bool Planner::HandleLostPods() {
  // Seen terminating, but not by the operator's doing: every pod it deletes on a job that runs
  // is recorded first (pods beyond the replica counts aside).
  std::vector<const PodView*> lost;
  std::map<std::pair<job::Role, int>, const PodView*> slots;
  bool any_alive = false;
  for (const PodView& p : owned_.pods) {
    if (p.index >= Replicas(*effective_, p.role)) continue;
    slots[{p.role, p.index}] = &p;
    any_alive = any_alive || Active(p);
    if (p.deleting && !p.uid.empty() && !Handled(plan_.status, p)) lost.push_back(&p);
  }
  std::sort(lost.begin(), lost.end(), InRoleIndexOrder);
  std::string restart_for;  // a lost server the job cannot continue without
  for (const PodView* p : lost) {
    if (RecoveryFor(*effective_, p->role) == Recovery::kRestartJob) {
      restart_for = p->name;
      break;
    }
  }
  // A server gone without ever being seen terminating (deleted without a grace period), while
  // the job ran (every pod did, or only replacements are pending) and others still run.
  const op::Condition* restarting = plan_.status.Find(kRestarting);
  const bool was_running =
      plan_.status.IsTrue(kRunning) || (plan_.status.IsTrue(kRestarting) && restarting != nullptr &&
                                        IsReplacedReason(restarting->reason));
  if (restart_for.empty() && was_running && any_alive &&
      RecoveryFor(*effective_, job::Role::kParameterServer) == Recovery::kRestartJob) {
    for (int i = 0; i < effective_->spec.parameter_servers.replicas; ++i) {
      if (slots.count({job::Role::kParameterServer, i}) == 0) {
        restart_for = PodName(view_.name, job::Role::kParameterServer, i);
        break;
      }
    }
  }
  for (const PodView* p : lost) MarkHandled(*p);
  const std::string deleted =
      " was deleted (not by the operator: kubectl delete, an eviction, a "
      "drained node); ";
  if (!restart_for.empty()) {
    const std::string message = "pod " + restart_for + deleted + "restarting the job: " +
                                RecoveryNote(*effective_, job::Role::kParameterServer);
    RestartJob("ServerLost", message);
    Event("Warning", "Restarting", message);
    return true;
  }
  // A deletion is no failure: not counted against backoffLimit.
  for (const PodView* p : lost) {
    ReplacePod(*p,
               "pod " + p->name + deleted + "replacing that pod alone once it is gone: " +
                   RecoveryNote(*effective_, p->role),
               "Normal");
  }
  return false;
}

}  // namespace ringtrain::op::internal
