#include "ringtrain/worker/ps_client.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/transport/socket_options.h"

namespace ringtrain::worker {

using Clock = std::chrono::steady_clock;

struct PsClient::Pending {
  struct Request {
    int server;
    transport::RequestKind kind;
    int64_t min_version;
  };
  std::map<uint64_t, Request> requests;
};

StatusOr<std::unique_ptr<PsClient>> PsClient::Connect(zmq::context_t& context,
                                                      PsClientOptions options) {
  if (options.table == nullptr) return InvalidArgument("ps client: no partition table");
  if (Status s = compress::ValidateOptions(options.codec); !s.ok()) {
    return InvalidArgument("ps client: " + s.message());
  }
  if (options.error_feedback && options.codec.type == compress::CodecType::kNone) {
    return InvalidArgument("ps client: error feedback needs a codec");
  }
  if (options.topk_warmup_steps < 0) {
    return InvalidArgument("ps client: topk warm-up steps must be >= 0");
  }
  if (static_cast<int>(options.endpoints.size()) != options.table->num_servers()) {
    return InvalidArgument("ps client: " + std::to_string(options.endpoints.size()) +
                           " endpoints for " + std::to_string(options.table->num_servers()) +
                           " servers");
  }
  std::vector<zmq::socket_t> sockets;
  char nonce_buf[17];
  std::snprintf(
      nonce_buf, sizeof(nonce_buf), "%016llx",
      static_cast<unsigned long long>(std::random_device{}()) << 32 | std::random_device{}());
  const std::string nonce = nonce_buf;
  try {
    for (const std::string& endpoint : options.endpoints) {
      zmq::socket_t s(context, zmq::socket_type::dealer);
      RT_RETURN_IF_ERROR(transport::ApplySocketOptions(s, transport::WorkerSocketOptions()));
      // A stable routing id: after a TCP reconnect the server (ROUTER_HANDOVER) still knows
      // where to send the replies to requests parked before the break.
      s.set(zmq::sockopt::routing_id,
            "w" + std::to_string(options.rank) + "-" + std::to_string(getpid()) + "-" + nonce);
      try {
        s.connect(endpoint);
      } catch (const zmq::error_t& e) {
        return InvalidArgument("cannot connect to parameter server at " + endpoint + ": " +
                               e.what());
      }
      sockets.push_back(std::move(s));
    }
  } catch (const zmq::error_t& e) {
    return Internal(std::string("creating worker sockets: ") + e.what());
  }
  return std::unique_ptr<PsClient>(new PsClient(std::move(options), std::move(sockets)));
}

PsClient::PsClient(PsClientOptions options, std::vector<zmq::socket_t> sockets)
    : options_(std::move(options)),
      sockets_(std::move(sockets)),
      versions_(options_.table->partitions().size(), -1),
      encoded_(sockets_.size()) {
  if (options_.error_feedback)
    residual_.assign(static_cast<size_t>(options_.table->total_size()), 0);
}

PsClient::~PsClient() = default;

proto::Header PsClient::NewRequest(transport::RequestKind request, int server) {
  proto::Header h;
  h.set_kind(transport::KindOf(request));
  h.set_job(options_.job);
  h.set_sender(static_cast<uint32_t>(options_.rank));
  h.set_request_id(next_request_id_++);
  h.set_layout_fingerprint(options_.table->fingerprint());
  const bool push = request == transport::RequestKind::kPush;
  if (push || request == transport::RequestKind::kPull) {
    for (uint32_t id : options_.table->partitions_of(server)) {
      const ring::Partition& p = options_.table->partition(id);
      proto::PartitionSlice* s = h.add_partitions();
      s->set_id(id);
      s->set_num_elements(static_cast<uint64_t>(p.size));
      if (push) s->set_version(versions_[id]);
    }
  }
  return h;
}

Status PsClient::SendPush(int server, const PushRequest& push, Pending* pending) {
  if (options_.table->partitions_of(server).empty()) return Status::Ok();
  RT_CHECK(push.gradient.size() == static_cast<size_t>(options_.table->total_size()));
  proto::Header h = NewRequest(transport::RequestKind::kPush, server);
  h.set_clock(push.clock);
  h.set_num_samples(push.num_samples);
  h.set_learning_rate(push.learning_rate);
  compress::CodecOptions codec = options_.codec;
  transport::SetCodec(compress::SpecOf(codec), &h);
  if (codec.type == compress::CodecType::kTopK && options_.topk_warmup_steps > 0) {
    codec.ratio = compress::TopKRatioAt({codec.ratio, options_.topk_warmup_steps}, push.clock);
  }
  const bool dense = codec.type == compress::CodecType::kNone;
  // With a codec, every partition's encoding goes into one buffer per server, reused from push
  // to push once libzmq has sent the previous one's frames (each frame is a slice of it).
  transport::SharedBuffer<uint8_t>& encoded = encoded_[static_cast<size_t>(server)];
  std::span<uint8_t> out;
  if (!dense) {
    size_t total = 0;
    for (const proto::PartitionSlice& s : h.partitions()) {
      total +=
          compress::EncodedSize(codec, static_cast<size_t>(options_.table->partition(s.id()).size));
    }
    out = encoded.Overwrite(total);
  }
  std::vector<zmq::message_t> payloads;
  payloads.reserve(static_cast<size_t>(h.partitions_size()));
  uint64_t payload_bytes = 0;
  uint64_t dense_bytes = 0;
  size_t at = 0;  // where the next encoding starts in `out`
  for (proto::PartitionSlice& s : *h.mutable_partitions()) {
    const ring::Partition& p = options_.table->partition(s.id());
    const auto offset = static_cast<size_t>(p.offset);
    const auto n = static_cast<size_t>(p.size);
    if (dense) {
      payloads.push_back(push.gradient.Frame(offset, n));
    } else {
      std::span<float> residual;
      if (!residual_.empty()) residual = std::span<float>(residual_.data() + offset, n);
      const size_t size = compress::EncodedSize(codec, n);
      RT_RETURN_IF_ERROR(
          compress::EncodeInto(codec, push.gradient.view().subspan(offset, n), residual,
                               out.subspan(at, size))
              .WithContext("encoding the gradient of partition " + std::to_string(p.id)));
      // Nothing writes this slice again while the frame holds the buffer.
      payloads.push_back(encoded.Frame(at, size));
      at += size;
    }
    s.set_payload_bytes(payloads.back().size());
    payload_bytes += payloads.back().size();
    dense_bytes += n * sizeof(float);
  }
  const uint64_t id = h.request_id();
  RT_RETURN_IF_ERROR(transport::SendMessage(sockets_[static_cast<size_t>(server)], nullptr,
                                            std::move(h), std::move(payloads))
                         .WithContext("push to parameter server " + std::to_string(server)));
  bytes_pushed_ += payload_bytes;
  bytes_pushed_dense_ += dense_bytes;
  pending->requests[id] = {server, transport::RequestKind::kPush, 0};
  return Status::Ok();
}

Status PsClient::SendPull(int server, int64_t min_version, Pending* pending, bool final_model) {
  if (options_.table->partitions_of(server).empty()) return Status::Ok();
  proto::Header h = NewRequest(transport::RequestKind::kPull, server);
  h.set_clock(min_version);
  h.set_final_model(final_model);
  const uint64_t id = h.request_id();
  RT_RETURN_IF_ERROR(
      transport::SendMessage(sockets_[static_cast<size_t>(server)], nullptr, std::move(h), {})
          .WithContext("pull from parameter server " + std::to_string(server)));
  pending->requests[id] = {server, transport::RequestKind::kPull, min_version};
  return Status::Ok();
}

Status PsClient::SendSimple(int server, transport::RequestKind request, Pending* pending) {
  proto::Header h = NewRequest(request, server);
  const uint64_t id = h.request_id();
  RT_RETURN_IF_ERROR(
      transport::SendMessage(sockets_[static_cast<size_t>(server)], nullptr, std::move(h), {})
          .WithContext("request to parameter server " + std::to_string(server)));
  pending->requests[id] = {server, request, 0};
  return Status::Ok();
}

Status PsClient::Pull(int64_t min_version, std::span<float> params, int64_t* version_out) {
  Pending pending;
  if (version_out != nullptr) *version_out = INT64_MAX;
  for (int s = 0; s < static_cast<int>(sockets_.size()); ++s) {
    RT_RETURN_IF_ERROR(SendPull(s, min_version, &pending));
  }
  return Await(&pending, params, version_out, nullptr);
}

Status PsClient::PushPull(const PushRequest& push, int64_t pull_min_version,
                          std::span<float> params, int64_t* version_out) {
  Pending pending;
  if (version_out != nullptr) *version_out = INT64_MAX;
  for (int s = 0; s < static_cast<int>(sockets_.size()); ++s) {
    RT_RETURN_IF_ERROR(SendPush(s, push, &pending));
    RT_RETURN_IF_ERROR(SendPull(s, pull_min_version, &pending));
  }
  return Await(&pending, params, version_out, nullptr);
}

Status PsClient::Done() {
  Pending pending;
  for (int s = 0; s < static_cast<int>(sockets_.size()); ++s) {
    RT_RETURN_IF_ERROR(SendSimple(s, transport::RequestKind::kWorkerDone, &pending));
  }
  return Await(&pending, {}, nullptr, nullptr);
}

Status PsClient::DoneWithFinalModel(std::span<float> params) {
  Pending pending;
  for (int s = 0; s < static_cast<int>(sockets_.size()); ++s) {
    // One connection per server keeps the order: the pull is parked before this worker counts
    // as done, so the server cannot finish (and exit) without answering it.
    RT_RETURN_IF_ERROR(SendPull(s, 0, &pending, /*final_model=*/true));
    RT_RETURN_IF_ERROR(SendSimple(s, transport::RequestKind::kWorkerDone, &pending));
  }
  // The slowest worker sets the pace here, not one server's answer: the longer timeout.
  const std::chrono::milliseconds timeout = options_.timeout;
  options_.timeout = options_.final_model_timeout;
  Status s = Await(&pending, params, nullptr, nullptr);
  options_.timeout = timeout;
  return s;
}

StatusOr<proto::ServerStats> PsClient::Stats(int index) {
  if (index < 0 || index >= static_cast<int>(sockets_.size())) {
    return InvalidArgument("no parameter server " + std::to_string(index));
  }
  Pending pending;
  RT_RETURN_IF_ERROR(SendSimple(index, transport::RequestKind::kStats, &pending));
  proto::ServerStats stats;
  RT_RETURN_IF_ERROR(Await(&pending, {}, nullptr, &stats));
  return stats;
}

Status PsClient::Await(Pending* pending, std::span<float> params, int64_t* version_out,
                       proto::ServerStats* stats_out) {
  const auto deadline = Clock::now() + options_.timeout;
  std::vector<zmq::pollitem_t> items;
  for (auto& s : sockets_) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
  std::vector<zmq::message_t> frames;
  while (!pending->requests.empty()) {
    const auto now = Clock::now();
    if (now >= deadline) {
      const int server = pending->requests.begin()->second.server;
      return DeadlineExceeded("no reply from parameter server " + std::to_string(server) + " (" +
                              options_.endpoints[static_cast<size_t>(server)] + ") within " +
                              std::to_string(options_.timeout.count()) + " ms");
    }
    // Rounded up: a wait cut to whole milliseconds downwards would give up before the timeout.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    try {
      zmq::poll(items.data(), items.size(), left);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      return Unavailable(std::string("poll failed: ") + e.what());
    }
    for (size_t i = 0; i < items.size(); ++i) {
      if ((items[i].revents & ZMQ_POLLIN) == 0) continue;
      while (true) {
        bool received = false;
        RT_RETURN_IF_ERROR(transport::ReceiveMultipart(sockets_[i], &frames, &received));
        if (!received) break;
        StatusOr<transport::Message> msg = transport::DecodeMessage(std::move(frames));
        frames.clear();
        if (!msg.ok()) {
          return DataLoss("malformed reply from parameter server " + std::to_string(i) + ": " +
                          msg.status().message());
        }
        RT_RETURN_IF_ERROR(HandleReply(static_cast<int>(i), std::move(msg).value(), pending, params,
                                       version_out, stats_out));
      }
    }
  }
  return Status::Ok();
}

Status PsClient::HandleReply(int server, transport::Message msg, Pending* pending,
                             std::span<float> params, int64_t* version_out,
                             proto::ServerStats* stats_out) {
  const proto::Header& h = msg.header;
  auto it = pending->requests.find(h.request_id());
  // A reply to a request this operation did not send (a late answer to an earlier,
  // timed-out operation) carries nothing we still need.
  if (it == pending->requests.end() || it->second.server != server) return Status::Ok();
  const Pending::Request req = it->second;
  const std::string who = "parameter server " + std::to_string(server) + " (" +
                          options_.endpoints[static_cast<size_t>(server)] + ")";
  if (h.kind() == proto::ERROR) {
    return FailedPrecondition(who + " rejected " + transport::KindName(req.kind) + ": " +
                              h.error());
  }
  if (h.kind() != transport::ReplyKindOf(req.kind)) {
    return DataLoss(who + " answered " + transport::KindName(req.kind) + " with " +
                    transport::KindName(h.kind()));
  }
  if (h.kind() == proto::STATS_REPLY && stats_out != nullptr) *stats_out = h.stats();
  if (h.kind() == proto::PULL_REPLY) {
    const std::vector<uint32_t>& ids = options_.table->partitions_of(server);
    // DecodeMessage has checked that parameters travel as CODEC_NONE, one frame of
    // num_elements floats per listed partition.
    if (h.partitions_size() != static_cast<int>(ids.size())) {
      return DataLoss(who + " sent a PULL_REPLY with " + std::to_string(h.partitions_size()) +
                      " partitions, expected " + std::to_string(ids.size()));
    }
    // Every partition is checked before any is copied, so a rejected reply changes neither
    // the caller's parameters nor the versions the next push reports.
    for (int i = 0; i < h.partitions_size(); ++i) {
      const proto::PartitionSlice& s = h.partitions(i);
      const ring::Partition& p = options_.table->partition(ids[static_cast<size_t>(i)]);
      if (s.id() != p.id || s.num_elements() != static_cast<uint64_t>(p.size)) {
        return DataLoss(who + " sent partition " + std::to_string(s.id()) + " of " +
                        std::to_string(s.num_elements()) + " elements where partition " +
                        std::to_string(p.id) + " of " + std::to_string(p.size) + " was expected");
      }
      // In sync mode versions are rounds, so the pull asks for one; otherwise they count
      // updates and can only grow.
      const int64_t least = options_.consistency == ps::Consistency::kSync
                                ? req.min_version
                                : std::max<int64_t>(versions_[p.id], 0);
      if (s.version() < least) {
        return DataLoss(who + " sent partition " + std::to_string(p.id) + " at version " +
                        std::to_string(s.version()) + " where version >= " + std::to_string(least) +
                        " was expected");
      }
      if (msg.Floats(static_cast<size_t>(i)).size() != static_cast<size_t>(p.size)) {
        return DataLoss(who + " sent " + std::to_string(msg.Bytes(static_cast<size_t>(i)).size()) +
                        " bytes for partition " + std::to_string(p.id) + " of " +
                        std::to_string(p.size) + " floats");
      }
    }
    for (int i = 0; i < h.partitions_size(); ++i) {
      const proto::PartitionSlice& s = h.partitions(i);
      const ring::Partition& p = options_.table->partition(s.id());
      versions_[p.id] = s.version();
      std::span<const float> src = msg.Floats(static_cast<size_t>(i));
      std::memcpy(params.data() + p.offset, src.data(), src.size_bytes());
      bytes_pulled_ += src.size_bytes();
      if (version_out != nullptr) *version_out = std::min(*version_out, s.version());
    }
  }
  pending->requests.erase(it);
  return Status::Ok();
}

}  // namespace ringtrain::worker
