#include "ringtrain/ps/server.h"

#include <utility>

#include "ringtrain/transport/message.h"
#include "ringtrain/transport/socket_options.h"

namespace ringtrain::ps {

namespace {

// Room for the header and ZeroMQ framing above the payload of a message listing every
// partition the server owns.
constexpr int64_t kHeaderAllowance = 1 << 20;

}  // namespace

StatusOr<std::unique_ptr<ParameterServer>> ParameterServer::Bind(zmq::context_t& context,
                                                                 const ServerOptions& options,
                                                                 std::unique_ptr<ServerCore> core) {
  int64_t max_size = options.max_message_size;
  if (max_size <= 0) {
    max_size = core->owned_elements() * static_cast<int64_t>(sizeof(float)) + kHeaderAllowance;
  }
  try {
    zmq::socket_t socket(context, zmq::socket_type::router);
    RT_RETURN_IF_ERROR(
        transport::ApplySocketOptions(socket, transport::ServerSocketOptions(max_size)));
    try {
      socket.bind(options.bind_endpoint);
    } catch (const zmq::error_t& e) {
      return Unavailable("cannot bind parameter server to " + options.bind_endpoint + ": " +
                         e.what());
    }
    RT_ASSIGN_OR_RETURN(std::string endpoint, transport::LastEndpoint(socket));
    return std::unique_ptr<ParameterServer>(
        new ParameterServer(std::move(core), std::move(socket), std::move(endpoint), options));
  } catch (const zmq::error_t& e) {
    return Internal(std::string("creating parameter server socket: ") + e.what());
  }
}

ParameterServer::ParameterServer(std::unique_ptr<ServerCore> core, zmq::socket_t socket,
                                 std::string endpoint, const ServerOptions& options)
    : core_(std::move(core)),
      socket_(std::move(socket)),
      endpoint_(std::move(endpoint)),
      poll_interval_(options.poll_interval),
      interrupted_(options.interrupted),
      between_messages_(options.between_messages),
      final_linger_(options.final_linger) {}

ParameterServer::~ParameterServer() = default;

Status ParameterServer::Serve() {
  std::vector<zmq::message_t> frames;
  while (!stop_.load() && !core_->finished() &&
         (interrupted_ == nullptr || interrupted_->load() == 0)) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, poll_interval_);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      return Unavailable(std::string("poll failed: ") + e.what());
    }
    if (between_messages_) between_messages_(*core_);
    // Drain everything queued before polling again.
    while (true) {
      bool received = false;
      RT_RETURN_IF_ERROR(transport::ReceiveMultipart(socket_, &frames, &received));
      if (!received) break;
      HandleFrames(std::move(frames));
      frames.clear();
      if (between_messages_) between_messages_(*core_);
    }
  }
  if (core_->finished()) {
    // The last replies may still be queued: closing must not drop them (final_linger).
    try {
      socket_.set(zmq::sockopt::linger, static_cast<int>(final_linger_.count()));
    } catch (const zmq::error_t& e) {
      return Internal(std::string("setting the final linger: ") + e.what());
    }
  }
  return Status::Ok();
}

void ParameterServer::HandleFrames(std::vector<zmq::message_t> frames) {
  uint64_t bytes = 0;
  for (const auto& f : frames) bytes += f.size();
  // A ROUTER always prepends the routing id; anything shorter is not a request.
  if (frames.size() < 2) {
    core_->CountUndecodable(bytes);
    return;
  }
  std::string peer(static_cast<const char*>(frames[0].data()), frames[0].size());
  std::vector<zmq::message_t> body;
  body.reserve(frames.size() - 1);
  for (size_t i = 1; i < frames.size(); ++i) body.push_back(std::move(frames[i]));
  StatusOr<transport::Message> msg = transport::DecodeMessage(std::move(body));
  if (!msg.ok()) {
    core_->CountUndecodable(bytes);
    return;
  }
  core_->CountReceived(bytes);
  replies_.clear();
  core_->Handle(peer, std::move(msg).value(), &replies_);
  for (Reply& r : replies_) {
    uint64_t sent = 0;
    // A peer that went away cannot be answered; its request is simply forgotten.
    transport::SendMessage(socket_, &r.peer, std::move(r.header), std::move(r.payloads), &sent)
        .IgnoreError();
    core_->CountSent(sent);
  }
}

}  // namespace ringtrain::ps
