#include <algorithm>

#include <zmq.hpp>

#include "ringtrain/auth/curve.h"
#include "ringtrain/operator/progress_source.h"
#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::op {

namespace {

constexpr int64_t kMaxReplyBytes = 64 * 1024;
constexpr int64_t kMaxUnixMs = 253402300799000;  // 9999-12-31T23:59:59Z

class ZmqProgressSource final : public ProgressSource {
 public:
  StatusOr<Progress> Fetch(const std::string& endpoint, const std::string& job,
                           std::chrono::milliseconds timeout, const PeerAuth& auth) override {
    RT_ASSIGN_OR_RETURN(proto::StatusReply reply, Ask(endpoint, job, timeout, auth));
    const proto::Event& e = reply.progress();
    Progress p;
    p.step = e.step();
    p.total_steps = e.total_steps();
    p.epoch = e.epoch();
    p.loss = e.loss();
    if (reply.evaluated()) p.accuracy = e.accuracy();
    if (e.has_test_auc()) p.auc = e.test_auc();
    p.samples_per_second = reply.samples_per_second();
    p.global_batch_size = reply.global_batch_size();
    p.records_skipped = static_cast<int64_t>(
        std::min<uint64_t>(e.records_skipped(), static_cast<uint64_t>(INT64_MAX)));
    return p;
  }

  StatusOr<ServerReport> FetchServer(const std::string& endpoint, const std::string& job,
                                     std::chrono::milliseconds timeout,
                                     const PeerAuth& auth) override {
    RT_ASSIGN_OR_RETURN(proto::StatusReply reply, Ask(endpoint, job, timeout, auth));
    ServerReport report;
    for (const uint32_t w : reply.waiting_for()) {
      if (w <= static_cast<uint32_t>(INT32_MAX)) report.waiting_for.push_back(static_cast<int>(w));
    }
    if (!reply.has_checkpoint()) return report;
    const proto::CheckpointInfo& info = reply.checkpoint();
    ServerCheckpoint c;
    c.step = info.step();
    // Within what RFC 3339 can say (years 1970-9999), so any number converts without overflow.
    c.time = Time(std::chrono::milliseconds(std::clamp<int64_t>(info.unix_ms(), 0, kMaxUnixMs)));
    c.location = info.location();
    c.final = info.final();
    report.checkpoint = std::move(c);
    return report;
  }

 private:
  // One request, one reply: the reply of the status socket at `endpoint` for `job`.
  StatusOr<proto::StatusReply> Ask(const std::string& endpoint, const std::string& job,
                                   std::chrono::milliseconds timeout, const PeerAuth& auth) {
    proto::StatusReply reply;
    try {
      zmq::socket_t socket(context_, zmq::socket_type::req);
      socket.set(zmq::sockopt::linger, 0);
      socket.set(zmq::sockopt::maxmsgsize, kMaxReplyBytes);
      socket.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
      socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
      socket.set(zmq::sockopt::connect_timeout, static_cast<int>(timeout.count()));
      if (auth.enabled()) {
        RT_RETURN_IF_ERROR(
            auth::ApplyClient(socket, {auth.own_public, auth.own_secret}, auth.peer_public));
      }
      socket.connect(endpoint);
      proto::StatusRequest request;
      request.set_wire_version(proto::WIRE_VERSION_1);
      request.set_job(job);
      const std::string bytes = request.SerializeAsString();
      if (!socket.send(zmq::buffer(bytes), zmq::send_flags::none)) {
        return DeadlineExceeded("status of " + job + " at " + endpoint + ": no connection within " +
                                std::to_string(timeout.count()) + " ms");
      }
      zmq::message_t answer;
      if (!socket.recv(answer, zmq::recv_flags::none)) {
        return DeadlineExceeded("status of " + job + " at " + endpoint + ": no answer within " +
                                std::to_string(timeout.count()) + " ms");
      }
      if (answer.more() || !reply.ParseFromArray(answer.data(), static_cast<int>(answer.size()))) {
        return DataLoss("status of " + job + " at " + endpoint + ": the answer does not parse");
      }
    } catch (const zmq::error_t& e) {
      return Unavailable("status of " + job + " at " + endpoint + ": " + e.what());
    }
    if (!reply.error().empty()) {
      return FailedPrecondition("status of " + job + " at " + endpoint + ": " + reply.error());
    }
    if (reply.job() != job) {
      return FailedPrecondition("status of " + job + " at " + endpoint + ": answered for job \"" +
                                reply.job() + "\"");
    }
    return reply;
  }

  zmq::context_t context_{1};  // thread-safe; sockets are per call
};

}  // namespace

std::unique_ptr<ProgressSource> MakeZmqProgressSource() {
  return std::make_unique<ZmqProgressSource>();
}

}  // namespace ringtrain::op
