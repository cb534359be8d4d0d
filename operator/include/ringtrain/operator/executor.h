// Executor: applies a reconcile Plan through the KubeClient — the thin, effectful half of
// reconcile. Creating what already exists and deleting what is already gone succeed (so a
// retried or concurrent reconcile is harmless); the status is written (status subresource,
// merge patch) only when the plan's status differs from the observed one. Events are best
// effort: a failure to record one never fails the reconcile.
//
// Thread-safety: stateless; safe from any thread if the client is.
#ifndef RINGTRAIN_OPERATOR_EXECUTOR_H_
#define RINGTRAIN_OPERATOR_EXECUTOR_H_

#include "ringtrain/common/status.h"
#include "ringtrain/operator/job_state.h"
#include "ringtrain/operator/kube/client.h"
#include "ringtrain/operator/planner.h"

namespace ringtrain::op {

struct ExecuteResult {
  int created = 0;
  int deleted = 0;
  int events = 0;
  bool status_written = false;
};

// Applies every action, then the status. Returns the first error (the remaining actions are
// still attempted; the caller requeues with backoff).
StatusOr<ExecuteResult> Execute(kube::KubeClient& client, const JobView& view, const Plan& plan,
                                Time now);

// The core/v1 Event object recording `action` (kEvent) about the job.
nlohmann::json MakeEvent(const JobView& view, const Action& action, Time now);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_EXECUTOR_H_
