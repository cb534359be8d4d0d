// AskToTakeOver: a supervisor's side of failover (replication: 1; ps/replica_shard.h, Taking
// over). The local launcher, or the operator, which knows that server `server` is gone, tells
// its successor to serve the lost server's shard from its copy until the replacement fetches
// it back. A supervisor sends it before it starts the replacement, so that the replacement's
// fetch always comes after the takeover and ends it.
//
// Thread-safety: a free function; the context may be shared.
#ifndef RINGTRAIN_PS_TAKEOVER_H_
#define RINGTRAIN_PS_TAKEOVER_H_

#include <chrono>
#include <string>

#include <zmq.hpp>

#include "ringtrain/auth/curve.h"
#include "ringtrain/common/status.h"

namespace ringtrain::ps {

// Sends REPLICA_TAKEOVER for `server`'s shard of `job` to `successor_endpoint` and waits up to
// `timeout` for the answer. OK: the successor serves the shard now. FailedPrecondition with the
// successor's reason when it cannot (it holds no copy); DeadlineExceeded when it does not answer
// (it is gone too, or keeps no copy); DataLoss for an answer that is not one.
// With `credentials` (the supervisor's; null: plaintext) the request goes over CURVE to the
// key of server `successor`, which takes it only from the supervisor's key.
Status AskToTakeOver(zmq::context_t& context, const std::string& successor_endpoint,
                     const std::string& job, int server, std::chrono::milliseconds timeout,
                     int successor, const auth::Credentials* credentials);

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_TAKEOVER_H_
