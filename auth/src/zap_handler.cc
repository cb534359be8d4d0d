#include "ringtrain/auth/zap_handler.h"

#include <vector>

#include <zmq_addon.hpp>

#include "ringtrain/common/printable.h"

namespace ringtrain::auth {
namespace {

constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";
constexpr uint64_t kRefusalsLogged = 10;
constexpr std::chrono::milliseconds kPoll{100};

std::string Text(const zmq::message_t& frame) {
  return std::string(static_cast<const char*>(frame.data()), frame.size());
}

}  // namespace

StatusOr<std::unique_ptr<ZapHandler>> ZapHandler::Start(
    zmq::context_t& context, KeySet keys, std::function<void(const std::string&)> log) {
  try {
    zmq::socket_t socket(context, zmq::socket_type::rep);
    socket.set(zmq::sockopt::linger, 0);
    try {
      socket.bind(kZapEndpoint);
    } catch (const zmq::error_t& e) {
      if (e.num() == EADDRINUSE) return AlreadyExists("this context has a ZAP handler already");
      throw;
    }
    return std::unique_ptr<ZapHandler>(
        new ZapHandler(std::move(socket), std::move(keys), std::move(log)));
  } catch (const zmq::error_t& e) {
    return Internal(std::string("starting the ZAP handler: ") + e.what());
  }
}

ZapHandler::ZapHandler(zmq::socket_t socket, KeySet keys,
                       std::function<void(const std::string&)> log)
    : socket_(std::move(socket)), keys_(std::move(keys)), log_(std::move(log)) {
  thread_ = std::thread([this] { Run(); });
}

ZapHandler::~ZapHandler() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ZapHandler::Run() {
  std::vector<zmq::message_t> request;
  while (!stop_.load()) {
    try {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, kPoll) == 0) continue;
      request.clear();
      if (!zmq::recv_multipart(socket_, std::back_inserter(request), zmq::recv_flags::dontwait)) {
        continue;
      }
      Answer(request);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      if (e.num() == ETERM) return;
      // A REP socket out of step cannot recover; libzmq then refuses every handshake, which is
      // safe. Say so once.
      if (log_) log_(std::string("ZAP handler stopped: ") + e.what());
      return;
    }
  }
  socket_.close();
}

void ZapHandler::Answer(std::vector<zmq::message_t>& request) {
  // version, request id, domain, address, routing id, mechanism, credentials...
  std::string version = request.size() >= 1 ? Text(request[0]) : "";
  std::string request_id = request.size() >= 2 ? Text(request[1]) : "";
  std::string status = "400";
  std::string status_text;
  std::string user_id;
  const std::string address = request.size() >= 4 ? Text(request[3]) : "?";
  if (version != "1.0" || request.size() < 6) {
    status_text = "malformed ZAP request";
  } else if (const std::string mechanism = Text(request[5]); mechanism != "CURVE") {
    status_text = "mechanism " + mechanism + " is not admitted (CURVE only)";
  } else if (request.size() != 7 || request[6].size() != 32) {
    status_text = "malformed CURVE credentials";
  } else {
    char z85[41] = {};
    zmq_z85_encode(z85, static_cast<const uint8_t*>(request[6].data()), 32);
    if (std::optional<Identity> id = keys_.Find(z85)) {
      status = "200";
      status_text = "OK";
      user_id = Name(*id);
    } else {
      status_text = "key is not one of this job's";
    }
  }
  if (status == "200") {
    admitted_.fetch_add(1, std::memory_order_relaxed);
  } else {
    refused_.fetch_add(1, std::memory_order_relaxed);
    if (refusals_logged_ < kRefusalsLogged && log_) {
      ++refusals_logged_;
      log_("refused a connection from " + Printable(address) + ": " + status_text +
           (refusals_logged_ == kRefusalsLogged ? " (further refusals are only counted)" : ""));
    }
  }
  std::vector<zmq::message_t> reply;
  reply.emplace_back(version.data(), version.size());
  reply.emplace_back(request_id.data(), request_id.size());
  reply.emplace_back(status.data(), status.size());
  reply.emplace_back(status_text.data(), status_text.size());
  reply.emplace_back(user_id.data(), user_id.size());
  reply.emplace_back();  // metadata: none
  zmq::send_multipart(socket_, reply);
}

}  // namespace ringtrain::auth
