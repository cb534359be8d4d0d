#include <random>

#include <zmq.hpp>

#include "ringtrain/auth/curve.h"
#include "ringtrain/operator/shard_control.h"
#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::op {

namespace {

constexpr int64_t kMaxReplyBytes = 64 * 1024;

class ZmqShardControl final : public ShardControl {
 public:
  Status TakeOver(const std::string& endpoint, const std::string& job, int server,
                  std::chrono::milliseconds timeout, const PeerAuth& auth) override {
    const std::string who = "the successor of ps-" + std::to_string(server) + " at " + endpoint;
    const int ms = static_cast<int>(timeout.count());
    try {
      zmq::socket_t socket(context_, zmq::socket_type::dealer);
      socket.set(zmq::sockopt::linger, 0);
      socket.set(zmq::sockopt::maxmsgsize, kMaxReplyBytes);
      socket.set(zmq::sockopt::sndtimeo, ms);
      socket.set(zmq::sockopt::connect_timeout, ms);
      if (auth.enabled()) {
        RT_RETURN_IF_ERROR(
            auth::ApplyClient(socket, {auth.own_public, auth.own_secret}, auth.peer_public));
      }
      socket.connect(endpoint);
      proto::Header request;
      request.set_wire_version(proto::WIRE_VERSION_1);
      request.set_kind(proto::REPLICA_TAKEOVER);
      request.set_job(job);
      request.set_request_id(std::random_device{}());
      request.mutable_replica()->set_server(static_cast<uint32_t>(server));
      const std::string bytes = request.SerializeAsString();
      if (!socket.send(zmq::buffer(bytes), zmq::send_flags::none)) {
        return DeadlineExceeded(who + ": no connection within " + std::to_string(ms) + " ms");
      }
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      while (true) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
          return DeadlineExceeded(who + " did not answer the takeover within " +
                                  std::to_string(ms) + " ms");
        }
        socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(left.count()));
        zmq::message_t frame;
        if (!socket.recv(frame, zmq::recv_flags::none)) continue;  // the deadline decides
        proto::Header reply;
        const bool parsed = reply.ParseFromArray(frame.data(), static_cast<int>(frame.size()));
        while (frame.more()) {  // payload frames: none expected, drained
          if (!socket.recv(frame, zmq::recv_flags::none)) break;
        }
        if (!parsed) return DataLoss(who + ": the answer does not parse");
        if (reply.request_id() != request.request_id()) continue;  // not this request's answer
        if (reply.kind() != proto::REPLICA_TAKEOVER) {
          return DataLoss(who + " answered the takeover with kind " +
                          std::to_string(static_cast<int>(reply.kind())));
        }
        if (!reply.replica().holds_copy()) {
          return FailedPrecondition(who + " cannot take over: " + reply.error());
        }
        return Status::Ok();
      }
    } catch (const zmq::error_t& e) {
      return Unavailable("asking " + who + " to take over: " + e.what());
    }
  }

 private:
  zmq::context_t context_{1};  // thread-safe; sockets are per call
};

}  // namespace

std::unique_ptr<ShardControl> MakeZmqShardControl() { return std::make_unique<ZmqShardControl>(); }

}  // namespace ringtrain::op
