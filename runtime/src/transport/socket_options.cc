#include "ringtrain/transport/socket_options.h"

#include <string>

namespace ringtrain::transport {

SocketOptions ServerSocketOptions(int64_t max_message_size) {
  SocketOptions o;
  o.max_message_size = max_message_size;
  o.router_mandatory = true;
  o.router_handover = true;
  return o;
}

SocketOptions WorkerSocketOptions() {
  SocketOptions o;
  o.linger_ms = 500;
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
