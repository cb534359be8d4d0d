#include "ringtrain/transport/socket_options.h"

#include <string>

namespace ringtrain::transport {
namespace {

// The data sockets' kernel buffers: a whole pull reply or push of a model of a few MiB fits, so
// the sender writes it in one round instead of waiting for the peer to read each 208 KiB. On
// the `make run` example (800 KiB pushes and pulls over ipc://) this took 6% off the run.
constexpr int kDataSocketBufferBytes = 4 << 20;

}  // namespace

SocketOptions ServerSocketOptions(int64_t max_message_size) {
  SocketOptions o;
  o.max_message_size = max_message_size;
  o.router_mandatory = true;
  o.router_handover = true;
  o.send_buffer_bytes = kDataSocketBufferBytes;
  o.receive_buffer_bytes = kDataSocketBufferBytes;
  return o;
}

SocketOptions WorkerSocketOptions() {
  SocketOptions o;
  o.linger_ms = 500;
  o.send_buffer_bytes = kDataSocketBufferBytes;
  o.receive_buffer_bytes = kDataSocketBufferBytes;
  return o;
}

SocketOptions BackupSocketOptions(int64_t max_message_size) {
  SocketOptions o;
  o.linger_ms = 500;
  o.max_message_size = max_message_size;
  return o;
}

Status ApplySocketOptions(zmq::socket_t& socket, const SocketOptions& options) {
  try {
    socket.set(zmq::sockopt::linger, options.linger_ms);
    socket.set(zmq::sockopt::sndhwm, options.send_hwm);
    socket.set(zmq::sockopt::rcvhwm, options.receive_hwm);
    socket.set(zmq::sockopt::maxmsgsize, options.max_message_size);
    if (options.send_buffer_bytes > 0) socket.set(zmq::sockopt::sndbuf, options.send_buffer_bytes);
    if (options.receive_buffer_bytes > 0)
      socket.set(zmq::sockopt::rcvbuf, options.receive_buffer_bytes);
    socket.set(zmq::sockopt::tcp_keepalive, options.tcp_keepalive ? 1 : 0);
    socket.set(zmq::sockopt::heartbeat_ivl, options.heartbeat_ivl_ms);
    socket.set(zmq::sockopt::heartbeat_timeout, options.heartbeat_timeout_ms);
    socket.set(zmq::sockopt::handshake_ivl, options.handshake_ivl_ms);
    if (options.router_mandatory) socket.set(zmq::sockopt::router_mandatory, 1);
    if (options.router_handover) socket.set(zmq::sockopt::router_handover, 1);
  } catch (const zmq::error_t& e) {
    return Internal(std::string("setting socket options: ") + e.what());
  }
  return Status::Ok();
}

StatusOr<std::string> LastEndpoint(zmq::socket_t& socket) {
  try {
    return socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Internal(std::string("reading ZMQ_LAST_ENDPOINT: ") + e.what());
  }
}

}  // namespace ringtrain::transport
