#include "ringtrain/transport/status_server.h"

#include <utility>
#include <vector>

#include "ringtrain/transport/socket_options.h"

namespace ringtrain::transport {

namespace {

// A status request is a few dozen bytes; anything larger is not one.
constexpr int64_t kMaxRequestBytes = 4096;

}  // namespace

StatusOr<std::unique_ptr<StatusServer>> StatusServer::Start(zmq::context_t& context,
                                                            const std::string& bind,
                                                            std::string job,
                                                            StatusSnapshot snapshot,
                                                            const auth::Credentials* credentials) {
  if (!snapshot) return InvalidArgument("status server: no snapshot function");
  try {
    zmq::socket_t socket(context, zmq::socket_type::rep);
    SocketOptions options;
    options.linger_ms = 0;
    options.receive_hwm = 100;
    options.max_message_size = kMaxRequestBytes;
    RT_RETURN_IF_ERROR(ApplySocketOptions(socket, options));
    socket.set(zmq::sockopt::sndtimeo, 1000);
    if (credentials != nullptr) RT_RETURN_IF_ERROR(auth::ApplyServer(socket, *credentials));
    socket.bind(bind);
    RT_ASSIGN_OR_RETURN(std::string endpoint, LastEndpoint(socket));
    return std::unique_ptr<StatusServer>(new StatusServer(std::move(socket), std::move(endpoint),
                                                          std::move(job), std::move(snapshot),
                                                          credentials != nullptr));
  } catch (const zmq::error_t& e) {
    return Unavailable("status server: cannot bind " + bind + ": " + e.what());
  }
}

StatusServer::StatusServer(zmq::socket_t socket, std::string endpoint, std::string job,
                           StatusSnapshot snapshot, bool authenticated)
    : socket_(std::move(socket)),
      endpoint_(std::move(endpoint)),
      job_(std::move(job)),
      snapshot_(std::move(snapshot)),
      authenticated_(authenticated) {
  thread_ = std::thread([this] { Loop(); });
}

StatusServer::~StatusServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

proto::StatusReply StatusServer::Answer(const std::vector<zmq::message_t>& frames) const {
  proto::StatusReply reply;
  proto::StatusRequest request;
  if (frames.size() != 1 ||
      !request.ParseFromArray(frames[0].data(), static_cast<int>(frames[0].size()))) {
    reply.set_error("malformed status request");
  } else if (authenticated_ && auth::SenderOf(frames[0]) != auth::Identity::Supervisor()) {
    reply.set_error("status is answered to the job's supervisor only");
  } else if (request.wire_version() != proto::WIRE_VERSION_1) {
    reply.set_error("unsupported wire version " + std::to_string(request.wire_version()));
  } else if (request.job() != job_) {
    reply.set_error("this process belongs to job \"" + job_ + "\", not \"" + request.job() + "\"");
  } else {
    reply = snapshot_();
    reply.set_job(job_);
  }
  return reply;
}

void StatusServer::Loop() {
  while (!stop_) {
    try {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
      // REP: read every frame of the request, then answer exactly once.
      std::vector<zmq::message_t> frames;
      do {
        zmq::message_t frame;
        if (!socket_.recv(frame, zmq::recv_flags::dontwait)) break;
        frames.push_back(std::move(frame));
      } while (frames.back().more());
      if (frames.empty()) continue;
      const proto::StatusReply reply = Answer(frames);
      if (!reply.error().empty()) ++dropped_;
      const std::string bytes = reply.SerializeAsString();
      if (socket_.send(zmq::buffer(bytes), zmq::send_flags::none)) ++answered_;
    } catch (const zmq::error_t&) {
      ++dropped_;  // e.g. the peer vanished mid-reply; REP resets for the next request
    }
  }
}

}  // namespace ringtrain::transport
