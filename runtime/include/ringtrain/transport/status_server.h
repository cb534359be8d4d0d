// StatusServer: answers the operator's status requests (proto::StatusRequest ->
// proto::StatusReply) on a ZeroMQ REP socket, so that a pod reports where it stands without any
// Kubernetes credentials: the operator pulls it from the pod it created. What the reply holds is
// the caller's: worker 0 answers with its progress (worker/progress_recorder.h), a parameter
// server with its last checkpoint. A request for another job, of another wire version, or that
// does not parse is answered with an error and counted; the server keeps serving.
// With credentials the socket is a CURVE server (the process's ZAP handler admits only the job's
// keys) and only the supervisor's requests are answered: another process of the job gets an
// error reply, counted as dropped.
//
// Thread-safety: one thread (started by Start, ended by the destructor) owns the socket and
// calls the snapshot function; answered() and dropped() may be read from any thread.
#ifndef RINGTRAIN_TRANSPORT_STATUS_SERVER_H_
#define RINGTRAIN_TRANSPORT_STATUS_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/auth/curve.h"
#include "ringtrain/common/status.h"
#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::transport {

// The reply to a valid request, made on the server's thread for each request (its job field is
// overwritten with the server's job). It must be safe to call from that thread.
using StatusSnapshot = std::function<proto::StatusReply()>;

class StatusServer {
 public:
  // Binds `bind` ("tcp://*:7071"; port 0 picks one, see endpoint()) and starts answering
  // requests for `job` with `snapshot()`. `context` and whatever `snapshot` uses must outlive
  // the server. Unavailable naming the endpoint if it cannot bind.
  // With `credentials` (may be null: plaintext), see the top.
  [[nodiscard]] static StatusOr<std::unique_ptr<StatusServer>> Start(
      zmq::context_t& context, const std::string& bind, std::string job, StatusSnapshot snapshot,
      const auth::Credentials* credentials = nullptr);
  ~StatusServer();  // stops the thread (within ~100 ms) and closes the socket
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // The endpoint bound, e.g. "tcp://0.0.0.0:7071".
  const std::string& endpoint() const { return endpoint_; }
  // Replies sent (counted once the send returns, so a peer may hold the reply a moment before).
  uint64_t answered() const { return answered_.load(); }
  uint64_t dropped() const { return dropped_.load(); }

 private:
  StatusServer(zmq::socket_t socket, std::string endpoint, std::string job, StatusSnapshot snapshot,
               bool authenticated);
  void Loop();
  // The reply to one request of `frames` (an error reply for anything but a valid request).
  proto::StatusReply Answer(const std::vector<zmq::message_t>& frames) const;

  zmq::socket_t socket_;
  const std::string endpoint_;
  const std::string job_;
  const StatusSnapshot snapshot_;
  const bool authenticated_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_STATUS_SERVER_H_
