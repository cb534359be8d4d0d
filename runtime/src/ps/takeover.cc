#include "ringtrain/ps/takeover.h"

#include <random>
#include <utility>
#include <vector>

#include "ringtrain/transport/message.h"
#include "ringtrain/transport/message_kind.h"
#include "ringtrain/transport/socket_options.h"

namespace ringtrain::ps {

Status AskToTakeOver(zmq::context_t& context, const std::string& successor_endpoint,
                     const std::string& job, int server, std::chrono::milliseconds timeout,
                     int successor, const auth::Credentials* credentials) {
  const std::string who =
      "the successor of ps-" + std::to_string(server) + " at " + successor_endpoint;
  try {
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    RT_RETURN_IF_ERROR(transport::ApplySocketOptions(socket, transport::WorkerSocketOptions()));
    socket.set(zmq::sockopt::linger, 0);
    if (credentials != nullptr) {
      RT_RETURN_IF_ERROR(
          auth::ApplyClient(socket, *credentials, auth::Identity::Server(successor)));
    }
    socket.connect(successor_endpoint);
    proto::Header h;
    h.set_kind(proto::REPLICA_TAKEOVER);
    h.set_job(job);
    const uint64_t id = std::random_device{}();
    h.set_request_id(id);
    h.mutable_replica()->set_server(static_cast<uint32_t>(server));
    RT_RETURN_IF_ERROR(transport::SendMessage(socket, nullptr, std::move(h), {})
                           .WithContext("asking " + who + " to take over"));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<zmq::message_t> frames;
    while (true) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        return DeadlineExceeded(who + " did not answer the takeover within " +
                                std::to_string(timeout.count()) + " ms");
      }
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      try {
        zmq::poll(&item, 1, std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      bool received = false;
      RT_RETURN_IF_ERROR(transport::ReceiveMultipart(socket, &frames, &received));
      if (!received) continue;
      StatusOr<transport::Message> reply = transport::DecodeMessage(std::move(frames));
      frames.clear();
      if (!reply.ok()) return DataLoss(who + " answered garbage: " + reply.status().message());
      const proto::Header& r = reply->header;
      if (r.request_id() != id) continue;  // not the answer to this request
      if (r.kind() != proto::REPLICA_TAKEOVER) {
        return DataLoss(who + " answered the takeover with " + transport::KindName(r.kind()));
      }
      if (!r.replica().holds_copy()) return FailedPrecondition(who + " cannot: " + r.error());
      return Status::Ok();
    }
  } catch (const zmq::error_t& e) {
    return Unavailable("asking " + who + " to take over: " + e.what());
  }
}

}  // namespace ringtrain::ps
