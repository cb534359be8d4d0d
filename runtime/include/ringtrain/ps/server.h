// ParameterServer: binds a ZeroMQ ROUTER socket and serves a ServerCore on it.
//
// Each received multipart message is [routing id][header][payloads...]. Messages that cannot
// be decoded (garbage frames, wrong sizes, unknown kinds) are dropped and counted; the server
// keeps serving. Oversized inbound messages are refused by libzmq (ZMQ_MAXMSGSIZE), which
// drops that connection only.
//
// Thread-safety: the thread that calls Serve() owns the socket for the duration of the call;
// Bind() may run on another thread if the hand-off is synchronised (e.g. by starting the
// serving thread afterwards). stop() may be called from any thread.
#ifndef RINGTRAIN_PS_SERVER_H_
#define RINGTRAIN_PS_SERVER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/ps/server_core.h"

namespace ringtrain::ps {

struct ServerOptions {
  // Where to bind, e.g. "tcp://*:7070" in a pod or "tcp://127.0.0.1:0" for a free port.
  std::string bind_endpoint;
  // How often Serve() wakes to check stop() when idle.
  std::chrono::milliseconds poll_interval{100};
  // Inbound messages above this many bytes are refused. 0 = derive from the owned partitions.
  int64_t max_message_size = 0;
  // Serve() returns when this becomes non-zero (set from a signal handler). May be null.
  const std::atomic<int>* interrupted = nullptr;
  // Called on the serving thread after every message handled and at every idle wake-up (at
  // least every poll_interval), never while a message is being handled: the one place where
  // another component may read the core while it serves (checkpoint snapshots,
  // ps/checkpointer.h). It runs on the hot path: it must return quickly when it has nothing to
  // do. May be empty.
  std::function<void(const ServerCore&)> between_messages;
  // Once every worker has finished, Serve() returns with its last replies (the DONE_ACKs and
  // the final-model pull replies, ps/server_core.h) possibly still queued in libzmq. The socket
  // then lingers up to this long for them when it is closed: the context's termination
  // (zmq_ctx_term) waits until they are sent to their connected workers, so the final model
  // reaches worker 0 before this process exits.
  std::chrono::milliseconds final_linger{std::chrono::seconds(60)};
};

class ParameterServer {
 public:
  // Binds the socket. Returns Unavailable naming the endpoint if binding fails.
  static StatusOr<std::unique_ptr<ParameterServer>> Bind(zmq::context_t& context,
                                                         const ServerOptions& options,
                                                         std::unique_ptr<ServerCore> core);
  ~ParameterServer();
  ParameterServer(const ParameterServer&) = delete;
  ParameterServer& operator=(const ParameterServer&) = delete;

  // The endpoint actually bound, with the port resolved (e.g. "tcp://127.0.0.1:40123").
  const std::string& endpoint() const { return endpoint_; }

  // Serves until every worker has finished (returns OK) or stop() is called (returns OK).
  // Returns an error only if the socket itself fails. When every worker has finished, the
  // socket's linger becomes options.final_linger (see there).
  Status Serve();

  // Asks Serve() to return at its next wake-up.
  void stop() { stop_.store(true); }

  // REQUIRES: Serve() is not running, or the caller is the serving thread.
  const ServerCore& core() const { return *core_; }

 private:
  ParameterServer(std::unique_ptr<ServerCore> core, zmq::socket_t socket, std::string endpoint,
                  const ServerOptions& options);
  void HandleFrames(std::vector<zmq::message_t> frames);

  std::unique_ptr<ServerCore> core_;
  zmq::socket_t socket_;
  std::string endpoint_;
  std::chrono::milliseconds poll_interval_;
  const std::atomic<int>* interrupted_;
  std::function<void(const ServerCore&)> between_messages_;
  std::chrono::milliseconds final_linger_;
  std::atomic<bool> stop_{false};
  std::vector<Reply> replies_;  // reused buffer
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_SERVER_H_
