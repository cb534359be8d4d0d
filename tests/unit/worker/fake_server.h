// Test support for PsClient: a scripted parameter server. A real ZeroMQ ROUTER socket bound to a
// free loopback port, which the test drives by hand — it receives the client's requests and
// answers with whatever replies the test crafts (right, wrong, late, twice or never).
//
// Thread-safety: one thread at a time; construct it, then hand it to the thread that runs the
// script (starting the thread synchronises the hand-off).
#ifndef RINGTRAIN_TESTS_UNIT_WORKER_FAKE_SERVER_H_
#define RINGTRAIN_TESTS_UNIT_WORKER_FAKE_SERVER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ring/partition_table.h"
#include "ringtrain/transport/message.h"

namespace ringtrain::worker {

// A request as the fake server received it.
struct FakeRequest {
  std::string peer;  // the client's routing id
  proto::Header header;
  std::shared_ptr<transport::Message> message = nullptr;  // as decoded, frames included
};

// One partition of a crafted PULL_REPLY: every element is `value`.
struct FakeSlice {
  uint32_t id = 0;
  uint64_t num_elements = 0;
  int64_t version = 0;
  float value = 0;
};

class FakeServer {
 public:
  explicit FakeServer(zmq::context_t& context);
  // Binds `endpoint` (e.g. the one a server that went away had: a restarted server).
  FakeServer(zmq::context_t& context, const std::string& endpoint);

  // "tcp://127.0.0.1:<port>".
  const std::string& endpoint() const { return endpoint_; }

  // The next request, or nullopt when none comes within `wait` or it cannot be decoded.
  std::optional<FakeRequest> Receive(std::chrono::milliseconds wait = std::chrono::seconds(5));

  // Sends [header][payloads...] to `to.peer`, with Header.incarnation set to incarnation()
  // when that is not 0.
  Status Send(const FakeRequest& to, proto::Header header,
              std::vector<zmq::message_t> payloads = {});

  // The process this server says it is (Header.incarnation of its replies; 0, the default,
  // leaves the field as the test wrote it).
  uint64_t incarnation() const { return incarnation_; }
  void set_incarnation(uint64_t incarnation) { incarnation_ = incarnation; }

  // Sends raw frames (e.g. a header that is not Protobuf) to `to.peer`.
  Status SendRaw(const FakeRequest& to, const std::string& frame);

  // Closes the socket as a server that exits after its last replies: what was sent still goes
  // out (in the background, for at most `linger`), then the connections close.
  void Close(std::chrono::milliseconds linger = std::chrono::seconds(5));

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
  uint64_t incarnation_ = 0;
};

// The header of a reply of `kind` to request `request_id` (no partitions).
proto::Header ReplyHeader(proto::MessageKind kind, uint64_t request_id);

// A PULL_REPLY to request `request_id` carrying `slices`, with its payload frames in *payloads.
proto::Header PullReply(uint64_t request_id, const std::vector<FakeSlice>& slices,
                        std::vector<zmq::message_t>* payloads);

// Every partition of `table` in `params` holds value + its id, as SlicesFor(..., value) answers
// (gtest expectations).
void ExpectPartitionValues(const ring::PartitionTable& table, std::span<const float> params,
                           float value);

// The slices a correct server answers pull `request` with: the listed partitions at `version`,
// partition id i filled with value + i.
std::vector<FakeSlice> SlicesFor(const proto::Header& request, int64_t version, float value);

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_TESTS_UNIT_WORKER_FAKE_SERVER_H_
