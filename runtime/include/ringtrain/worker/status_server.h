// StatusServer: answers the operator's status requests (proto::StatusRequest ->
// proto::StatusReply) on a ZeroMQ REP socket with the recorder's latest snapshot, so that a
// pod reports its progress without any Kubernetes credentials: the operator pulls it from the
// pod it created. A request for another job, of another wire version, or that does not parse
// is answered with an error and counted; the server keeps serving.
//
// Thread-safety: one thread (started by Start, ended by the destructor) owns the socket;
// dropped() may be read from any thread.
#ifndef RINGTRAIN_WORKER_STATUS_SERVER_H_
#define RINGTRAIN_WORKER_STATUS_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/worker/progress_recorder.h"

namespace ringtrain::worker {

class StatusServer {
 public:
  // Binds `bind` ("tcp://*:7071"; port 0 picks one, see endpoint()) and starts serving.
  // `context` and `recorder` must outlive the server. Unavailable naming the endpoint if it
  // cannot bind.
  [[nodiscard]] static StatusOr<std::unique_ptr<StatusServer>> Start(
      zmq::context_t& context, const std::string& bind, const ProgressRecorder* recorder);
  ~StatusServer();  // stops the thread (within ~100 ms) and closes the socket
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // The endpoint bound, e.g. "tcp://0.0.0.0:7071".
  const std::string& endpoint() const { return endpoint_; }
  // Replies sent (counted once the send returns, so a peer may hold the reply a moment before).
  uint64_t answered() const { return answered_.load(); }
  uint64_t dropped() const { return dropped_.load(); }

 private:
  StatusServer(zmq::socket_t socket, std::string endpoint, const ProgressRecorder* recorder);
  void Loop();

  zmq::socket_t socket_;
  const std::string endpoint_;
  const ProgressRecorder* const recorder_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_WORKER_STATUS_SERVER_H_
