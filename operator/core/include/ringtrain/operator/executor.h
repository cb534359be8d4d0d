// Executor: applies a reconcile Plan through the KubeClient — the thin, effectful half of
// reconcile. The status is written first (status subresource, merge patch carrying the
// observed metadata.resourceVersion, so a plan made from a stale view fails with a conflict
// and nothing else is done), and only when the plan's status differs from the observed one;
// then the actions. Creating what already exists and deleting what is already gone succeed
// (so a retried or concurrent reconcile is harmless). Events are best effort: a failure to
// record one never fails the reconcile. So are takeovers (shard_control.h): the executor asks
// the successor and records the outcome as an event (ServerTakenOver, or TakeoverFailed with the
// reason); without a ShardControl, or when the successor cannot, the workers wait for the
// replacement pod instead.
//
// Thread-safety: stateless; safe from any thread if the client is.
#ifndef RINGTRAIN_OPERATOR_EXECUTOR_H_
#define RINGTRAIN_OPERATOR_EXECUTOR_H_

#include <string>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/operator/job_state.h"
#include "ringtrain/operator/kube/client.h"
#include "ringtrain/operator/planner.h"
#include "ringtrain/operator/shard_control.h"

namespace ringtrain::op {

// An object the executor created or deleted, for the controller's expectations of its cache.
struct ObjectRef {
  std::string plural;  // "pods", "configmaps", ...
  std::string uid;
};

struct ExecuteResult {
  // OK, or the first error; the counts and objects below are what was done regardless, so
  // the caller's expectations also cover a reconcile that failed half-way.
  Status status;
  bool ok() const { return status.ok(); }
  int created = 0;
  int deleted = 0;
  int events = 0;
  int takeovers = 0;  // successors now serving a lost server's shard
  bool status_written = false;
  std::string status_resource_version;     // of the job after the status write
  std::vector<ObjectRef> created_objects;  // with the UIDs the server gave them
  std::vector<ObjectRef> deleted_objects;  // deleted now (not those already gone)
};

// Writes the status, then applies every action. A failed status write returns its error at
// once (Aborted for a conflict; NotFound is success: the job is gone); a failed
// action returns the first error after the remaining actions were still attempted. The
// caller requeues with backoff.
[[nodiscard]] ExecuteResult Execute(kube::KubeClient& client, const JobView& view, const Plan& plan,
                                    Time now, ShardControl* shards = nullptr);

// The core/v1 Event object recording `action` (kEvent) about the job.
nlohmann::json MakeEvent(const JobView& view, const Action& action, Time now);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_EXECUTOR_H_
