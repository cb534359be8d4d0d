#include <zmq.hpp>

#include "ringtrain/operator/progress_source.h"
#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::op {

namespace {

constexpr int64_t kMaxReplyBytes = 64 * 1024;

class ZmqProgressSource final : public ProgressSource {
 public:
  StatusOr<Progress> Fetch(const std::string& endpoint, const std::string& job,
                           std::chrono::milliseconds timeout) override {
    proto::StatusReply reply;
    try {
      zmq::socket_t socket(context_, zmq::socket_type::req);
      socket.set(zmq::sockopt::linger, 0);
      socket.set(zmq::sockopt::maxmsgsize, kMaxReplyBytes);
      socket.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
      socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
      socket.set(zmq::sockopt::connect_timeout, static_cast<int>(timeout.count()));
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
    const proto::Event& e = reply.progress();
    Progress p;
    p.step = e.step();
    p.total_steps = e.total_steps();
    p.epoch = e.epoch();
    p.loss = e.loss();
    if (reply.evaluated()) p.accuracy = e.accuracy();
    p.samples_per_second = reply.samples_per_second();
    p.global_batch_size = reply.global_batch_size();
    return p;
  }

 private:
  zmq::context_t context_{1};  // thread-safe; sockets are per call
};

}  // namespace

std::unique_ptr<ProgressSource> MakeZmqProgressSource() {
  return std::make_unique<ZmqProgressSource>();
}

}  // namespace ringtrain::op
