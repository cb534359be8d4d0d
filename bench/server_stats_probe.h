// ServerStatsProbe: a parameter server's counters (proto::ServerStats), asked over the server's
// own endpoint with the wire's STATS request, as any client may ask them (a server answers STATS
// before checking the job or the sender, ps/server_core.h). For benchmarks that watch a running
// job from outside: bench/recovery_bench.cc.
//
// One DEALER socket (ZMQ_IMMEDIATE, so nothing queues while the server is down; linger 0;
// reconnecting every 10 ms, so a replacement bound on the same endpoint is found at once). A
// reply is taken only if it answers this very request (its request id), so a reply to a request
// sent before the server went away is never taken for a reply of its replacement. Ask() never
// waits longer than its timeout.
//
// Thread-safety: not thread-safe; one thread owns a probe (its socket).
#ifndef RINGTRAIN_BENCH_SERVER_STATS_PROBE_H_
#define RINGTRAIN_BENCH_SERVER_STATS_PROBE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <zmq.hpp>

#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::bench {

class ServerStatsProbe {
 public:
  // REQUIRES: `context` outlives the probe.
  ServerStatsProbe(zmq::context_t& context, std::string endpoint)
      : context_(context), endpoint_(std::move(endpoint)) {}
  ServerStatsProbe(const ServerStatsProbe&) = delete;
  ServerStatsProbe& operator=(const ServerStatsProbe&) = delete;
  ServerStatsProbe(ServerStatsProbe&&) = default;

  // The server's counters as its reply to a STATS request sent now carries them, or
  // std::nullopt: no connection to the server (down, or not bound yet: returns at once), or no
  // reply within `timeout` (then the socket is dropped and the next call connects afresh).
  std::optional<proto::ServerStats> Ask(std::chrono::milliseconds timeout);

  // Drops the connection; the next Ask connects afresh. For a server known to be dead, so that
  // no request waits in a connection libzmq has not yet seen close.
  void Disconnect() { socket_.reset(); }

  const std::string& endpoint() const { return endpoint_; }

 private:
  zmq::context_t& context_;
  std::string endpoint_;
  std::unique_ptr<zmq::socket_t> socket_;  // connected lazily
  uint64_t next_request_ = 1;
};

}  // namespace ringtrain::bench

#endif  // RINGTRAIN_BENCH_SERVER_STATS_PROBE_H_
