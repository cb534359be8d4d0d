// ProgressSource: how the operator learns where a training run stands. It pulls: it asks
// worker 0, at the address of the pod it created, over that worker's status socket
// (proto::StatusRequest -> proto::StatusReply, ZeroMQ REQ -> REP), and each parameter server
// the same way for its last checkpoint. Pods therefore need no Kubernetes credentials at all
// (they run with automountServiceAccountToken: false), and no one can report progress for a
// job but the job's own pods.
//
// Thread-safety: Fetch may be called from several threads at once.
#ifndef RINGTRAIN_OPERATOR_PROGRESS_SOURCE_H_
#define RINGTRAIN_OPERATOR_PROGRESS_SOURCE_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ringtrain/common/status.h"
#include "ringtrain/operator/job_keys.h"
#include "ringtrain/operator/job_state.h"

namespace ringtrain::op {

class ProgressSource {
 public:
  virtual ~ProgressSource() = default;
  // Asks the status socket at `endpoint` ("tcp://10.1.2.3:7071") for the progress of `job`.
  // DeadlineExceeded if no answer within `timeout`; FailedPrecondition with the worker's
  // message if it refuses (another job); DataLoss if the answer does not parse. The result has
  // no update_time (the caller stamps it).
  // With `auth` enabled the request goes over CURVE (the supervisor's pair, to the process's
  // key; its status socket answers nobody else).
  virtual StatusOr<Progress> Fetch(const std::string& endpoint, const std::string& job,
                                   std::chrono::milliseconds timeout, const PeerAuth& auth) = 0;

  // Asks a parameter server's status socket at `endpoint` ("tcp://10.1.2.3:7072") for its last
  // checkpoint (none if it has none yet) and the workers it waits for. Errors as Fetch's.
  virtual StatusOr<ServerReport> FetchServer(const std::string& endpoint, const std::string& job,
                                             std::chrono::milliseconds timeout,
                                             const PeerAuth& auth) = 0;
};

// Over ZeroMQ: a fresh REQ socket per request (a REQ that timed out cannot be reused), linger
// 0, bounded reply size.
std::unique_ptr<ProgressSource> MakeZmqProgressSource();

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_PROGRESS_SOURCE_H_
