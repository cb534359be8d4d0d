// Socket options chosen deliberately for each role of a ZeroMQ socket.
//
// ZeroMQ's defaults hide sharp edges: a socket that lingers forever blocks shutdown, a ROUTER
// silently drops messages to unknown peers, and a high-water mark drops or blocks depending on
// the socket type. Every socket ringtrain opens goes through ApplySocketOptions with one of
// the presets below.
#ifndef RINGTRAIN_TRANSPORT_SOCKET_OPTIONS_H_
#define RINGTRAIN_TRANSPORT_SOCKET_OPTIONS_H_

#include <cstdint>

#include <zmq.hpp>

#include "ringtrain/common/status.h"

namespace ringtrain::transport {

struct SocketOptions {
  // How long close() may wait to flush queued messages.
  int linger_ms = 1000;
  // High-water marks in messages (0 = unlimited). The data-plane protocol bounds what is in
  // flight (each worker has at most two requests outstanding per server), so the send side
  // can be unlimited; the receive side stays bounded so a flooding peer cannot exhaust memory.
  int send_hwm = 0;
  int receive_hwm = 1000;
  // Largest inbound message in bytes; larger ones make libzmq drop the connection. -1 = none.
  int64_t max_message_size = -1;
  // ROUTER only: fail sends to unknown or disconnected peers instead of dropping them.
  bool router_mandatory = false;
  // ROUTER only: a peer reconnecting with the same routing id takes over its old route.
  bool router_handover = false;
  // The kernel's socket buffers (SO_SNDBUF, SO_RCVBUF) in bytes; 0 keeps the system's default
  // (net.core.wmem_default, often 208 KiB). The kernel caps a request at net.core.wmem_max /
  // rmem_max. A message larger than the buffer is written in several rounds, each waiting for
  // the peer to read, so every round costs both sides a wake-up.
  int send_buffer_bytes = 0;
  int receive_buffer_bytes = 0;
  // TCP keepalive so that a dead peer is noticed by the OS.
  bool tcp_keepalive = true;
  // ZMTP heartbeats: a PING every `heartbeat_ivl_ms`; a connection that hears nothing for
  // `heartbeat_timeout_ms` is closed (and a connecting socket reconnects). A peer killed with
  // SIGKILL is noticed at once (its kernel closes the connection); this catches the host that
  // stopped answering. 0 disables.
  int heartbeat_ivl_ms = 1000;
  int heartbeat_timeout_ms = 10000;
  // A connection whose ZMTP handshake (greeting, CURVE, ZAP) has not completed within this is
  // closed: a peer that connects and sends nothing, or half a greeting, holds its buffers this
  // long at most (libzmq's default is 30 s).
  int handshake_ivl_ms = 5000;
};

// Options for a parameter server's ROUTER socket.
SocketOptions ServerSocketOptions(int64_t max_message_size);
// Options for a worker's DEALER socket to one server.
SocketOptions WorkerSocketOptions();

// Options for a parameter server's DEALER socket to its backup (replication), which receives
// at most a copy of the server's own shard.
SocketOptions BackupSocketOptions(int64_t max_message_size);

// Applies `options` to `socket`. Returns Internal if libzmq rejects an option.
Status ApplySocketOptions(zmq::socket_t& socket, const SocketOptions& options);

// The endpoint a socket bound last, e.g. "tcp://127.0.0.1:40123" after binding port 0.
StatusOr<std::string> LastEndpoint(zmq::socket_t& socket);

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_SOCKET_OPTIONS_H_
