// ZapHandler: the ZeroMQ Authentication Protocol (ZAP, RFC 27) handler of a process.
//
// libzmq asks the context's ZAP handler (the socket bound to inproc://zeromq.zap.01) about
// every peer completing a handshake with one of the context's CURVE servers. This handler
// admits a CURVE client only if its public key is one of the job's (KeySet), and answers with
// the key's identity as User-Id, which every message of the connection then carries
// (curve.h: SenderOf). Anything else — an unknown key, another mechanism (NULL, PLAIN) — is
// refused: libzmq closes the connection before any message of it reaches the application.
// Refusals are counted; the first few are logged with the peer's address.
//
// One handler per context, started before any CURVE server socket of the context binds (a
// context without a handler would let every client in) and destroyed after them. The
// handler's thread answers with a bounded poll, so destruction takes at most ~100 ms.
//
// Thread-safety: counters may be read from any thread; the rest is internal.
#ifndef RINGTRAIN_AUTH_ZAP_HANDLER_H_
#define RINGTRAIN_AUTH_ZAP_HANDLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "ringtrain/auth/key_set.h"
#include "ringtrain/common/status.h"

namespace ringtrain::auth {

class ZapHandler {
 public:
  // Binds the context's ZAP endpoint and starts answering. AlreadyExists if the context has a
  // handler already; Internal for other libzmq errors. `log` (may be empty) hears the first
  // refusals.
  static StatusOr<std::unique_ptr<ZapHandler>> Start(zmq::context_t& context, KeySet keys,
                                                     std::function<void(const std::string&)> log);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  // Handshakes admitted and refused so far.
  uint64_t admitted() const { return admitted_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  ZapHandler(zmq::socket_t socket, KeySet keys, std::function<void(const std::string&)> log);
  void Run();
  void Answer(std::vector<zmq::message_t>& request);

  zmq::socket_t socket_;
  const KeySet keys_;
  const std::function<void(const std::string&)> log_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> admitted_{0};
  std::atomic<uint64_t> refused_{0};
  uint64_t refusals_logged_ = 0;
  std::thread thread_;
};

}  // namespace ringtrain::auth

#endif  // RINGTRAIN_AUTH_ZAP_HANDLER_H_
