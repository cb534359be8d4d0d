#include "fake_server.h"

#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "ringtrain/transport/socket_options.h"

namespace ringtrain::worker {

FakeServer::FakeServer(zmq::context_t& context) : socket_(context, zmq::socket_type::router) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("tcp://127.0.0.1:0");
  endpoint_ = transport::LastEndpoint(socket_).value();
}

FakeServer::FakeServer(zmq::context_t& context, const std::string& endpoint)
    : socket_(context, zmq::socket_type::router) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(endpoint);
  endpoint_ = transport::LastEndpoint(socket_).value();
}

std::optional<FakeRequest> FakeServer::Receive(std::chrono::milliseconds wait) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, wait) == 0) return std::nullopt;
  std::vector<zmq::message_t> frames;
  bool received = false;
  if (!transport::ReceiveMultipart(socket_, &frames, &received).ok() || !received ||
      frames.size() < 2) {
    return std::nullopt;
  }
  FakeRequest request;
  request.peer = frames[0].to_string();
  frames.erase(frames.begin());
  StatusOr<transport::Message> msg = transport::DecodeMessage(std::move(frames));
  if (!msg.ok()) return std::nullopt;
  request.header = msg->header;
  request.message = std::make_shared<transport::Message>(std::move(msg).value());
  return request;
}

Status FakeServer::Send(const FakeRequest& to, proto::Header header,
                        std::vector<zmq::message_t> payloads) {
  if (incarnation_ != 0) header.set_incarnation(incarnation_);
  return transport::SendMessage(socket_, &to.peer, std::move(header), std::move(payloads));
}

Status FakeServer::SendRaw(const FakeRequest& to, const std::string& frame) {
  if (!socket_.send(zmq::buffer(to.peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait) ||
      !socket_.send(zmq::buffer(frame), zmq::send_flags::dontwait)) {
    return Unavailable("fake server: cannot queue a frame");
  }
  return Status::Ok();
}

void FakeServer::Close(std::chrono::milliseconds linger) {
  socket_.set(zmq::sockopt::linger, static_cast<int>(linger.count()));
  socket_.close();
}

proto::Header ReplyHeader(proto::MessageKind kind, uint64_t request_id) {
  proto::Header h;
  h.set_kind(kind);
  h.set_job("j");
  h.set_request_id(request_id);
  return h;
}

proto::Header PullReply(uint64_t request_id, const std::vector<FakeSlice>& slices,
                        std::vector<zmq::message_t>* payloads) {
  proto::Header h = ReplyHeader(proto::PULL_REPLY, request_id);
  for (const FakeSlice& s : slices) {
    proto::PartitionSlice* p = h.add_partitions();
    p->set_id(s.id);
    p->set_num_elements(s.num_elements);
    p->set_version(s.version);
    p->set_payload_bytes(s.num_elements * sizeof(float));
    const std::vector<float> values(static_cast<size_t>(s.num_elements), s.value);
    payloads->push_back(transport::CopyFrame(values.data(), values.size()));
  }
  return h;
}

std::vector<FakeSlice> SlicesFor(const proto::Header& request, int64_t version, float value) {
  std::vector<FakeSlice> slices;
  for (const proto::PartitionSlice& p : request.partitions()) {
    slices.push_back({p.id(), p.num_elements(), version, value + static_cast<float>(p.id())});
  }
  return slices;
}

void ExpectPartitionValues(const ring::PartitionTable& table, std::span<const float> params,
                           float value) {
  for (uint32_t id = 0; id < table.partitions().size(); ++id) {
    const ring::Partition& p = table.partition(id);
    for (int64_t j = 0; j < p.size; ++j) {
      EXPECT_EQ(params[static_cast<size_t>(p.offset + j)], value + static_cast<float>(id))
          << "partition " << id << ", element " << j;
    }
  }
}

}  // namespace ringtrain::worker
