// ShardControl: the operator's word to a job's parameter servers about their shards (failover
// with spec.parameterServers.replication: 1; the runtime's ps/replica_shard.h, Taking over).
// When a server pod is lost, the operator, which knows it is gone, tells the server's successor
// to serve the lost shard from the copy it keeps until the replacement pod fetches it back —
// before it creates the replacement, so that the replacement's fetch ends the takeover. The
// workers meanwhile send that shard's requests to the successor instead of waiting for the new
// pod.
//
// Thread-safety: TakeOver may be called from several threads at once.
#ifndef RINGTRAIN_OPERATOR_SHARD_CONTROL_H_
#define RINGTRAIN_OPERATOR_SHARD_CONTROL_H_

#include <chrono>
#include <memory>
#include <string>

#include "ringtrain/common/status.h"
#include "ringtrain/operator/job_keys.h"

namespace ringtrain::op {

class ShardControl {
 public:
  virtual ~ShardControl() = default;
  // Asks the parameter server listening at `endpoint` ("tcp://10.1.2.3:7070", the successor of
  // lost server `server`) to serve `server`'s shard of `job`. OK: it serves it now.
  // FailedPrecondition with the server's reason when it cannot (it holds no copy);
  // DeadlineExceeded when it does not answer within `timeout`; DataLoss for an answer that is
  // not one.
  // With `auth` enabled the request goes over CURVE (the supervisor's pair, to the successor's
  // key).
  virtual Status TakeOver(const std::string& endpoint, const std::string& job, int server,
                          std::chrono::milliseconds timeout, const PeerAuth& auth) = 0;
};

// Over ZeroMQ (REPLICA_TAKEOVER on the server's data socket): a fresh DEALER per call, linger
// 0, bounded reply size.
std::unique_ptr<ShardControl> MakeZmqShardControl();

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_SHARD_CONTROL_H_
