#include "server_stats_probe.h"

#include <utility>
#include <vector>

#include "ringtrain/transport/message.h"

namespace ringtrain::bench {

std::optional<proto::ServerStats> ServerStatsProbe::Ask(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  try {
    if (socket_ == nullptr) {
      socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
      socket_->set(zmq::sockopt::linger, 0);
      // Sends fail while there is no connection instead of queueing for the next server.
      socket_->set(zmq::sockopt::immediate, 1);
      // A server that is not bound yet refuses the connection; libzmq retries this often.
      socket_->set(zmq::sockopt::reconnect_ivl, 10);
      socket_->connect(endpoint_);
    }
    proto::Header request;
    request.set_wire_version(proto::WIRE_VERSION_1);
    request.set_kind(proto::STATS);
    const uint64_t id = next_request_++;
    request.set_request_id(id);
    const std::string head = request.SerializeAsString();
    // Not connected (yet): the caller asks again later, on the same socket, which keeps trying.
    if (!socket_->send(zmq::buffer(head), zmq::send_flags::dontwait)) return std::nullopt;
    const Clock::time_point deadline = Clock::now() + timeout;
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, left) <= 0) continue;
      std::vector<zmq::message_t> frames;
      while (true) {
        zmq::message_t frame;
        if (!socket_->recv(frame, zmq::recv_flags::dontwait)) break;
        const bool more = frame.more();
        frames.push_back(std::move(frame));
        if (!more) break;
      }
      StatusOr<transport::Message> reply = transport::DecodeMessage(std::move(frames));
      if (reply.ok() && reply->header.kind() == proto::STATS_REPLY &&
          reply->header.request_id() == id) {
        return reply->header.stats();
      }
    }
  } catch (const zmq::error_t&) {
    // EINTR or a socket libzmq gave up on: start again with a new one.
  }
  socket_.reset();
  return std::nullopt;
}

}  // namespace ringtrain::bench
