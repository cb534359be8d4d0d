#include "ringtrain/worker/ps_client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/transport/bulk_copy.h"
#include "ringtrain/transport/socket_options.h"

namespace ringtrain::worker {

using Clock = std::chrono::steady_clock;

namespace {

// Requests sent again (after a rejoin, or as detours) go out pushes first: they were gathered
// in the order their answers failed to come, and a server takes this worker's pull at clock
// c + 1 only after its push of step c (async refuses it, sync parks it). Stable: pushes keep
// their order among themselves, as do the others.
template <typename Request>
void PushesFirst(std::vector<Request>* requests) {
  std::stable_partition(requests->begin(), requests->end(),
                        [](const Request& r) { return r.kind == transport::RequestKind::kPush; });
}

std::vector<zmq::message_t> CopyFrames(std::vector<zmq::message_t>& frames) {
  std::vector<zmq::message_t> out;
  out.reserve(frames.size());
  for (zmq::message_t& f : frames) {
    zmq::message_t copy;
    copy.copy(f);  // shares the bytes (reference-counted)
    out.push_back(std::move(copy));
  }
  return out;
}

}  // namespace

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
  if (!options.direct_paths.empty()) {
    if (options.direct_paths.size() != options.endpoints.size()) {
      return InvalidArgument("ps client: " + std::to_string(options.direct_paths.size()) +
                             " direct paths for " + std::to_string(options.endpoints.size()) +
                             " servers");
    }
    if (options.credentials != nullptr) {
      return InvalidArgument(
          "ps client: direct links with credentials (CURVE does not cover them)");
    }
  }
  std::vector<zmq::socket_t> sockets;
  std::vector<zmq::socket_t> monitors;
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
      // Connection events of this socket, read in Await: a server that comes back after its
      // connection broke (a restarted server) is rejoined.
      const std::string monitor_address =
          "inproc://ringtrain-ps-client-" + nonce + "-" + std::to_string(sockets.size());
      if (zmq_socket_monitor(s.handle(), monitor_address.c_str(),
                             ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0) {
        return Internal(std::string("monitoring a worker socket: ") + zmq_strerror(zmq_errno()));
      }
      if (options.credentials != nullptr) {
        RT_RETURN_IF_ERROR(auth::ApplyClient(
            s, *options.credentials, auth::Identity::Server(static_cast<int>(sockets.size()))));
      }
      zmq::socket_t m(context, zmq::socket_type::pair);
      m.set(zmq::sockopt::linger, 0);
      m.connect(monitor_address);
      monitors.push_back(std::move(m));
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
  return std::unique_ptr<PsClient>(
      new PsClient(std::move(options), std::move(sockets), std::move(monitors)));
}

PsClient::PsClient(PsClientOptions options, std::vector<zmq::socket_t> sockets,
                   std::vector<zmq::socket_t> monitors)
    : options_(std::move(options)),
      sockets_(std::move(sockets)),
      monitors_(std::move(monitors)),
      links_(sockets_.size()),
      versions_(options_.table->partitions().size(), -1),
      sparse_versions_(sockets_.size(), -1),
      encoded_(sockets_.size()),
      sent_push_(sockets_.size()),
      segments_(sockets_.size()),
      no_shared_(sockets_.size(), false),
      shared_push_to_(sockets_.size(), false),
      no_shared_push_(sockets_.size(), false) {
  direct_.resize(sockets_.size());
  incarnations_.resize(sockets_.size(), 0);
  for (Link& link : links_) link.down_since = Clock::now();
  for (std::vector<zmq::socket_t>* group : {&sockets_, &monitors_}) {
    for (zmq::socket_t& s : *group) {
      signal_fds_.push_back({static_cast<int>(s.get(zmq::sockopt::fd)), POLLIN, 0});
    }
  }
  for (int server = 0; server < options_.table->num_servers(); ++server) {
    std::vector<uint32_t>& ids = scoped_.emplace_back();
    for (uint32_t id : options_.table->partitions_of(server)) {
      const ring::Partition& p = options_.table->partition(id);
      const bool in = options_.scope.empty() ||
                      std::any_of(options_.scope.begin(), options_.scope.end(), [&](auto r) {
                        return p.offset < r.second && r.first < p.offset + p.size;
                      });
      if (in) ids.push_back(id);
    }
    listed_.push_back(std::make_shared<const std::vector<uint32_t>>(ids));
  }
  if (options_.error_feedback)
    residual_.assign(static_cast<size_t>(options_.table->total_size()), 0);
}

PsClient::~PsClient() {
  for (zmq::socket_t& s : sockets_) zmq_socket_monitor(s.handle(), nullptr, 0);
  monitors_.clear();
}

void PsClient::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void PsClient::SayLost(int server) {
  Link& link = links_[static_cast<size_t>(server)];
  link.loss_unsaid = false;
  const auto ago = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - link.down_since);
  Log("lost the connection to parameter server " + std::to_string(server) + " (" +
      options_.endpoints[static_cast<size_t>(server)] + ")" +
      (ago.count() >= 1 ? " " + std::to_string(ago.count()) + " s ago" : "") +
      "; waiting for it to come back");
}

Status PsClient::DrainLinkEvents(int server, Pending* pending) {
  zmq::socket_t& m = monitors_[static_cast<size_t>(server)];
  while (true) {
    zmq::message_t event;
    zmq::message_t address;
    try {
      if (!m.recv(event, zmq::recv_flags::dontwait)) {
        links_[static_cast<size_t>(server)].events_unread = false;  // its signal says what comes
        return Status::Ok();
      }
      if (event.more()) (void)m.recv(address, zmq::recv_flags::none);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      return Unavailable(std::string("reading connection events: ") + e.what());
    }
    if (event.size() < sizeof(uint16_t)) continue;
    uint16_t id = 0;
    std::memcpy(&id, event.data(), sizeof(id));
    Link& link = links_[static_cast<size_t>(server)];
    if (id == ZMQ_EVENT_DISCONNECTED) {
      if (!link.down) {
        link.down = true;
        link.down_since = Clock::now();
        // Said once something waits for the server (Await) or when it comes back: a server
        // exits as soon as it has answered the job's last requests, which lost nothing. A
        // connection whose handshake never succeeded was not lost either (a refused key is
        // said below).
        link.loss_unsaid = link.connected_once;
      }
    } else if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      const bool again = link.connected_once;
      // Back before anything waited for it (a server restarted between operations): the
      // break is said now, before its rejoin.
      if (link.loss_unsaid) SayLost(server);
      link.connected_once = true;
      link.down = false;
      link.detoured = false;
      link.detour_logged = false;
      link.detour_served = false;
      // A first connection after requests were detoured (a server that started late) is
      // rejoined too: what waits for it is sent once it has answered.
      if (again || pending->Waits(server)) RT_RETURN_IF_ERROR(Rejoin(server, pending));
    } else if ((id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
                id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) &&
               !link.handshake_failure_logged) {
      // libzmq tries again on its own; said once, since it will not pass by itself.
      link.handshake_failure_logged = true;
      Log("parameter server " + std::to_string(server) + " (" +
          options_.endpoints[static_cast<size_t>(server)] + ") " +
          (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
               ? "refused this worker's key: the job's keys do not agree (RINGTRAIN_PUBLIC_KEYS)"
               : "failed the handshake: its key is not the one the job's keys give it, or it "
                 "does not speak CURVE"));
    }
  }
}

Status PsClient::Rejoin(int server, Pending* pending) {
  // Whatever was in flight to the server may be lost with it: drop it, and send it again once
  // the server has taken this worker back.
  // A push it has not acknowledged is sent again after a JOIN at its clock: a server that
  // continues from its successor's copy (replication) or already had it acknowledges it as a
  // duplicate; one restored from an older checkpoint applies it.
  std::vector<Pending::Request>& again = pending->resend[server];
  int64_t join_clock = clock_;
  // Waiting already (a detour its successor refused, a rejoin cut short): a push among them
  // is unacknowledged too.
  for (const Pending::Request& r : again) {
    if (r.kind == transport::RequestKind::kPush) join_clock = std::min(join_clock, r.min_version);
  }
  // The push's chunks it answered go again with the rest: a server restored from an older
  // checkpoint needs all of them to complete the push; one that has them answers them again.
  // (They do not lower the JOIN's clock: with every chunk answered the push is acknowledged.)
  if (auto answered = pending->answered_chunks.find(server);
      answered != pending->answered_chunks.end()) {
    for (Pending::Request& r : answered->second) again.push_back(std::move(r));
    pending->answered_chunks.erase(answered);
  }
  for (auto it = pending->requests.begin(); it != pending->requests.end();) {
    if (it->second.server != server) {
      ++it;
      continue;
    }
    if (!it->second.rejoin) {
      again.push_back(it->second);
      if (it->second.kind == transport::RequestKind::kPush) {
        join_clock = std::min(join_clock, it->second.min_version);
      }
    }
    it = pending->requests.erase(it);
  }
  // A restarted server's versions are its checkpoint's: older than the ones last pulled. In
  // sync they are rounds, which the server moves up to this worker's as it rejoins; otherwise
  // they count updates, and the next push reports 0 (computed before the restore: the
  // staleness is all of the shard's updates) and the next pull accepts any.
  if (options_.consistency != ps::Consistency::kSync) {
    for (uint32_t id : options_.table->partitions_of(server)) versions_[id] = 0;
    sparse_versions_[static_cast<size_t>(server)] = 0;
  }
  // Its direct link, if any, is to the process that went away, or was made before the break:
  // closed unread, so that no answer on it is taken for one of the rejoined server's. A new
  // one may be made at once (nothing goes over it until the rejoin is answered).
  CloseDirect(server, Clock::time_point{});
  rejoins_ += 1;
  Log("parameter server " + std::to_string(server) + " (" +
      options_.endpoints[static_cast<size_t>(server)] + ") is back; rejoining it at clock " +
      std::to_string(join_clock));
  RT_RETURN_IF_ERROR(SendSimple(server, transport::RequestKind::kJoin, pending, join_clock));
  for (auto& [id, req] : pending->requests) {
    if (req.server == server && req.kind == transport::RequestKind::kJoin) req.rejoin = true;
  }
  return Status::Ok();
}

Status PsClient::CheckLinks() {
  Pending pending;
  // The monitors' signals, looked at with one system call; a monitor is read only when
  // signalled (or not yet read to the end).
  const size_t n = sockets_.size();
  if (std::none_of(links_.begin(), links_.end(), [](const Link& l) { return l.events_unread; }) &&
      std::chrono::steady_clock::now() - links_looked_at_ >= kLinkLookInterval) {
    RT_RETURN_IF_ERROR(PollSignals(/*sockets=*/false, std::chrono::milliseconds(0)));
  }
  for (int s = 0; s < static_cast<int>(n); ++s) {
    if (links_[static_cast<size_t>(s)].events_unread)
      RT_RETURN_IF_ERROR(DrainLinkEvents(s, &pending));
  }
  if (!pending.busy()) return Status::Ok();
  return Await(&pending, {}, nullptr, nullptr);
}

const std::vector<uint32_t>& PsClient::Listed(int server, bool whole) const {
  return whole ? options_.table->partitions_of(server) : scoped_[static_cast<size_t>(server)];
}

proto::Header PsClient::NewRequest(transport::RequestKind request, int server, bool whole) {
  proto::Header h;
  FillRequest(request, server, whole, &h);
  return h;
}

void PsClient::FillRequest(transport::RequestKind request, int server, bool whole,
                           proto::Header* out) {
  proto::Header& h = *out;
  h.Clear();  // keeps its storage: the job's string, the partition slices
  h.set_kind(transport::KindOf(request));
  h.set_job(options_.job);
  h.set_sender(static_cast<uint32_t>(options_.rank));
  h.set_request_id(next_request_id_++);
  h.set_layout_fingerprint(options_.table->fingerprint());
  const bool push = request == transport::RequestKind::kPush;
  if (push || request == transport::RequestKind::kPull) {
    for (uint32_t id : Listed(server, whole)) {
      const ring::Partition& p = options_.table->partition(id);
      proto::PartitionSlice* s = h.add_partitions();
      s->set_id(id);
      s->set_num_elements(static_cast<uint64_t>(p.size));
      if (push) s->set_version(versions_[id]);
    }
  }
}

bool PsClient::PushSegmentReady() {
  if (push_segment_ != nullptr) return true;
  if (push_segment_failed_) return false;
  push_slot_.assign(options_.table->partitions().size(), 0);
  uint64_t offset = transport::kSegmentDataOffset;
  for (const ring::Partition& p : options_.table->partitions()) {
    push_slot_[p.id] = offset;
    const uint64_t end = offset + static_cast<uint64_t>(p.size) * sizeof(float);
    offset = (end + transport::kSharedAlignment - 1) / transport::kSharedAlignment *
             transport::kSharedAlignment;
  }
  StatusOr<std::unique_ptr<transport::SharedSegment>> segment = transport::SharedSegment::Create(
      "ringtrain-worker-" + std::to_string(options_.rank), offset - transport::kSegmentDataOffset);
  if (!segment.ok()) {
    push_segment_failed_ = true;
    Log("no shared memory for this worker's pushes (" + segment.status().ToString() +
        "): pushing through the sockets");
    return false;
  }
  push_segment_ = std::move(segment).value();
  return true;
}

std::optional<uint64_t> PsClient::WriteSharedPush(const PushRequest& push) {
  RT_CHECK(push.gradient.size() == static_cast<size_t>(options_.table->total_size()));
  bool any = false;
  for (size_t s = 0; s < sockets_.size(); ++s) {
    // Only to a server whose own memory this worker reads: the same host and PID namespace.
    shared_push_to_[s] = options_.shared_memory && options_.consistency == ps::Consistency::kSync &&
                         options_.codec.type == compress::CodecType::kNone &&
                         segments_[s] != nullptr && !no_shared_[s] && !no_shared_push_[s] &&
                         !Listed(static_cast<int>(s), false).empty();
    any = any || shared_push_to_[s];
  }
  if (!any) return std::nullopt;
  if (!PushSegmentReady()) {
    std::fill(shared_push_to_.begin(), shared_push_to_.end(), false);
    return std::nullopt;
  }
  push_segment_->BeginWrite();
  for (size_t s = 0; s < sockets_.size(); ++s) {
    if (!shared_push_to_[s]) continue;
    for (uint32_t id : Listed(static_cast<int>(s), false)) {
      const ring::Partition& p = options_.table->partition(id);
      transport::CopyBulk(push_segment_->base() + push_slot_[id],
                          push.gradient.view().data() + p.offset,
                          static_cast<size_t>(p.size) * sizeof(float));
    }
  }
  return push_segment_->EndWrite();
}

Status PsClient::SendPush(int server, const PushRequest& push, SparsePart* sparse, Pending* pending,
                          const uint64_t* shared_seq, PushShape shape) {
  // With sparse tables every server gets every step's push (it moves the clock there).
  if (options_.table->partitions_of(server).empty() && options_.table->sparse().empty()) {
    return Status::Ok();
  }
  RT_CHECK(push.gradient.size() == static_cast<size_t>(options_.table->total_size()));
  // Built in the header kept for pushes (no allocation per push once warm).
  proto::Header& h = push_header_;
  FillRequest(transport::RequestKind::kPush, server, /*whole=*/false, &h);
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
      if (Status encoded_ok = compress::EncodeInto(codec, push.gradient.view().subspan(offset, n),
                                                   residual, out.subspan(at, size));
          !encoded_ok.ok()) {
        return encoded_ok.WithContext("encoding the gradient of partition " + std::to_string(p.id));
      }
      // Nothing writes this slice again while the frame holds the buffer.
      payloads.push_back(encoded.Frame(at, size));
      at += size;
    }
    s.set_payload_bytes(payloads.back().size());
    payload_bytes += payloads.back().size();
    dense_bytes += n * sizeof(float);
  }
  if (sparse != nullptr && !sparse->empty()) {
    // Sync: computed from the round's rows; otherwise from the rows last pulled here.
    const int64_t version =
        options_.consistency == ps::Consistency::kSync
            ? push.clock
            : std::max<int64_t>(sparse_versions_[static_cast<size_t>(server)], 0);
    const size_t first = payloads.size();
    AddPushSlices(*sparse, version, &h, &payloads);
    for (size_t i = first; i < payloads.size(); ++i) payload_bytes += payloads[i].size();
    // As float32: each key and its row's floats.
    for (const proto::SparseSlice& slice : h.sparse()) {
      dense_bytes += slice.num_keys() * (sizeof(uint64_t) + slice.dim() * sizeof(float));
    }
  }
  bytes_pushed_ += payload_bytes;
  bytes_pushed_dense_ += dense_bytes;
  if (shape == PushShape::kChunks) {
    bytes_pushed_chunked_ += payload_bytes;
    return SendChunks(server, h, std::move(payloads), pending);
  }
  // Answered with the partitions' next values, from the server's shared memory when it may.
  const bool shared_pull = shape == PushShape::kPullBack && options_.shared_memory &&
                           !no_shared_[static_cast<size_t>(server)];
  if (shape == PushShape::kPullBack) {
    h.set_pull_back(true);
    h.set_shared_ok(shared_pull);
  }
  // Kept until acknowledged: a server that comes back without it gets it again (Rejoin). The
  // last push's copy is filled again (its storage reused) once no request holds it.
  std::shared_ptr<SentPush>& sent = sent_push_[static_cast<size_t>(server)];
  if (sent == nullptr || sent.use_count() > 1) sent = std::make_shared<SentPush>();
  sent->header = h;
  sent->payloads.clear();
  for (zmq::message_t& f : payloads) sent->payloads.emplace_back().copy(f);  // shares the bytes
  Pending::Request req{server, transport::RequestKind::kPush, push.clock, false, false, sent};
  if (shape == PushShape::kPullBack) {
    req.pulled_back = listed_[static_cast<size_t>(server)];
    req.shared_asked = shared_pull;
  }
  if (shared_seq != nullptr && dense) {
    // The partitions' bytes are in this worker's segment (WriteSharedPush): the PUSH names them
    // there, and only the sparse slices' frames travel.
    req.shared_sent = true;
    payloads.erase(payloads.begin(), payloads.begin() + h.partitions_size());
    for (proto::PartitionSlice& s : *h.mutable_partitions()) {
      s.set_shared(true);
      s.set_shared_offset(push_slot_[s.id()]);
      bytes_pushed_shared_ += s.payload_bytes();
    }
    transport::SetSegment(push_segment_->address(), *shared_seq, h.mutable_segment());
  }
  return SendRequest(server, &h, std::move(payloads), req, pending);
}

PsClient::PushShape PsClient::ShapeOf(int server, const PushRequest& push, int64_t pull_min_version,
                                      bool sparse, bool shared) const {
  const std::vector<uint32_t>& ids = Listed(server, false);
  if (options_.consistency != ps::Consistency::kSync || !options_.table->sparse().empty() ||
      sparse || !options_.scope.empty() || pull_min_version != push.clock + 1 || ids.empty()) {
    return PushShape::kWhole;
  }
  if (options_.push_chunk_bytes == 0 || shared || ids.size() < 2) return PushShape::kPullBack;
  uint64_t bytes = 0;
  for (uint32_t id : ids) {
    bytes += compress::EncodedSize(options_.codec,
                                   static_cast<size_t>(options_.table->partition(id).size));
  }
  return bytes >= 2 * options_.push_chunk_bytes ? PushShape::kChunks : PushShape::kPullBack;
}

Status PsClient::SendChunks(int server, const proto::Header& h,
                            std::vector<zmq::message_t> payloads, Pending* pending) {
  int first = 0;
  while (first < h.partitions_size()) {
    // Whole partitions up to push_chunk_bytes (at least one); the last chunk takes what is left
    // if that is under half a chunk, so no chunk is tiny.
    int end = first;
    uint64_t bytes = 0;
    while (end < h.partitions_size() && (end == first || bytes < options_.push_chunk_bytes)) {
      bytes += payloads[static_cast<size_t>(end)].size();
      ++end;
    }
    uint64_t rest = 0;
    for (int i = end; i < h.partitions_size(); ++i) rest += payloads[static_cast<size_t>(i)].size();
    if (rest < options_.push_chunk_bytes / 2) end = h.partitions_size();
    proto::Header chunk = h;
    chunk.set_request_id(next_request_id_++);
    chunk.set_partial(first > 0 || end < h.partitions_size());
    chunk.set_pull_back(true);
    chunk.clear_partitions();
    auto ids = std::make_shared<std::vector<uint32_t>>();
    std::vector<zmq::message_t> frames;
    for (int i = first; i < end; ++i) {
      *chunk.add_partitions() = h.partitions(i);
      ids->push_back(h.partitions(i).id());
      frames.push_back(std::move(payloads[static_cast<size_t>(i)]));
    }
    auto sent = std::make_shared<SentPush>();
    sent->header = chunk;
    sent->payloads = CopyFrames(frames);
    Pending::Request req{server,         transport::RequestKind::kPush, h.clock(), false, false,
                         std::move(sent)};
    req.pulled_back = std::move(ids);
    RT_RETURN_IF_ERROR(SendRequest(server, &chunk, std::move(frames), req, pending));
    first = end;
  }
  return Status::Ok();
}

Status PsClient::SendPull(int server, int64_t min_version, Pending* pending, bool final_model,
                          bool whole, std::shared_ptr<SparsePart> sparse, bool frames_only) {
  whole = whole || final_model;
  if (sparse != nullptr && sparse->empty()) sparse = nullptr;
  if (Listed(server, whole).empty() && sparse == nullptr) return Status::Ok();
  proto::Header h = NewRequest(transport::RequestKind::kPull, server, whole);
  h.set_clock(min_version);
  h.set_final_model(final_model);
  const bool shared = options_.shared_memory && options_.consistency == ps::Consistency::kSync &&
                      !frames_only && !no_shared_[static_cast<size_t>(server)];
  h.set_shared_ok(shared);
  std::vector<zmq::message_t> frames;
  if (sparse != nullptr) AddPullSlices(*sparse, &h, &frames);
  Pending::Request req{server, transport::RequestKind::kPull, min_version, false, final_model};
  req.whole = whole;
  req.sparse = std::move(sparse);
  req.frames_only = frames_only;
  req.shared_asked = shared;
  return SendRequest(server, &h, std::move(frames), std::move(req), pending);
}

Status PsClient::SendSimple(int server, transport::RequestKind request, Pending* pending,
                            int64_t clock) {
  proto::Header h = NewRequest(request, server);
  h.set_clock(clock);
  return SendRequest(server, &h, {}, {server, request, clock}, pending);
}

Status PsClient::SendTask(int server, std::shared_ptr<const proto::TaskInfo> task,
                          Pending* pending) {
  proto::Header h = NewRequest(transport::RequestKind::kTask, server);
  *h.mutable_task() = *task;
  Pending::Request req{server, transport::RequestKind::kTask, 0};
  req.task = std::move(task);
  return SendRequest(server, &h, {}, std::move(req), pending);
}

bool PsClient::Lost(int server) const {
  if (!options_.detours || sockets_.size() < 2) return false;
  const Link& link = links_[static_cast<size_t>(server)];
  return (link.down || !link.connected_once) &&
         Clock::now() - link.down_since >= options_.detour_after;
}

int PsClient::Via(int server) const {
  if (!links_[static_cast<size_t>(server)].detoured || !Lost(server)) return -1;
  return (server + 1) % static_cast<int>(sockets_.size());
}

Status PsClient::SendRequest(int server, proto::Header* header,
                             std::vector<zmq::message_t> payloads, Pending::Request req,
                             Pending* pending) {
  proto::Header& h = *header;
  req.via = Via(server);
  req.direct = false;  // a request sent again goes where this send decides
  const int to = req.via >= 0 ? req.via : server;
  if (req.via >= 0) {
    h.mutable_detour()->set_server(static_cast<uint32_t>(server));
    ++detours_sent_;
  }
  const uint64_t id = h.request_id();
  if (req.via < 0 && DirectEligible(server, req, *pending)) {
    if (transport::StreamLink* link = DirectLink(server); link != nullptr) {
      const Status sent = transport::SendMessage(*link, &h, payloads);
      if (sent.ok()) {
        req.direct = true;
        ++direct_sent_;
        pending->requests[id] = std::move(req);
        return Status::Ok();
      }
      // Nothing else was in flight on it: this request goes through ZeroMQ instead.
      RT_RETURN_IF_ERROR(DirectBroken(server, sent, pending));
    }
  }
  // Set first: a send (even one that fails) may take the socket's signal.
  links_[static_cast<size_t>(to)].replies_unread = true;
  // (The context is built only for an error: naming the kind looks up its descriptor.)
  if (Status sent = transport::SendMessage(sockets_[static_cast<size_t>(to)], nullptr, &h,
                                           std::span(payloads));
      !sent.ok()) {
    return sent.WithContext(transport::KindName(req.kind) + " to parameter server " +
                            std::to_string(to));
  }
  pending->requests[id] = std::move(req);
  return Status::Ok();
}

bool PsClient::DirectEligible(int server, const Pending::Request& req,
                              const Pending& pending) const {
  if (options_.direct_paths.empty() || options_.direct_paths[static_cast<size_t>(server)].empty()) {
    return false;
  }
  const Link& link = links_[static_cast<size_t>(server)];
  return req.kind == transport::RequestKind::kPush && req.pulled_back != nullptr &&
         req.shared_sent && link.connected_once && !link.down && !link.events_unread &&
         !pending.Needs(server);
}

transport::StreamLink* PsClient::DirectLink(int server) {
  Direct& d = direct_[static_cast<size_t>(server)];
  if (d.link != nullptr) return d.link.get();
  const auto now = Clock::now();
  if (now < d.retry_at) return nullptr;
  // Replies may carry the server's partitions in frames (when its shared memory refused).
  const uint64_t largest =
      static_cast<uint64_t>(options_.table->total_size()) * sizeof(float) + (uint64_t{1} << 20);
  StatusOr<std::unique_ptr<transport::StreamLink>> made =
      transport::StreamLink::Connect(options_.direct_paths[static_cast<size_t>(server)], largest);
  if (!made.ok()) {
    d.retry_at = now + std::chrono::seconds(1);
    if (!d.refused_said) {
      d.refused_said = true;
      Log("no direct link to parameter server " + std::to_string(server) + " (" +
          made.status().message() + "): its requests go through ZeroMQ");
    }
    return nullptr;
  }
  d.link = std::move(made).value();
  return d.link.get();
}

void PsClient::CloseDirect(int server, Clock::time_point retry_at) {
  Direct& d = direct_[static_cast<size_t>(server)];
  d.link.reset();
  d.readable = false;
  d.flush_failed = false;
  d.retry_at = retry_at;
}

Status PsClient::DirectBroken(int server, const Status& why, Pending* pending) {
  CloseDirect(server, Clock::now() + std::chrono::seconds(1));
  ++direct_breaks_;
  std::vector<Pending::Request> again;
  for (auto it = pending->requests.begin(); it != pending->requests.end();) {
    if (it->second.direct && it->second.server == server) {
      ++direct_resent_;
      again.push_back(it->second);
      it = pending->requests.erase(it);
    } else {
      ++it;
    }
  }
  // Said when it cost something (a server that exits at the job's end closes it with nothing
  // in flight) or brought something malformed.
  if (!again.empty() || why.code() == StatusCode::kDataLoss) {
    Log("the direct link to parameter server " + std::to_string(server) + " closed (" +
        why.message() + ")" +
        (again.empty() ? std::string()
                       : "; sending the " + std::to_string(again.size()) +
                             " request(s) in flight on it through ZeroMQ"));
  }
  for (Pending::Request& r : again) {
    r.direct = false;
    RT_RETURN_IF_ERROR(Resend(server, r, pending));
  }
  return Status::Ok();
}

Status PsClient::ReadDirect(int server, Pending* pending, std::span<float> params,
                            int64_t* version_out, proto::ServerStats* stats_out) {
  Direct& d = direct_[static_cast<size_t>(server)];
  if (d.link == nullptr) {
    d.readable = false;
    return Status::Ok();
  }
  if (d.flush_failed) return DirectBroken(server, Unavailable("writing to it failed"), pending);
  constexpr size_t kMaxMessages = 64;
  direct_received_.clear();
  const Status read = d.link->Receive(&direct_received_, kMaxMessages);
  // Read to the end, but for whole messages left in its buffer (it stopped at kMaxMessages):
  // the poll says when more comes to the socket.
  d.readable = read.ok() && d.link->has_whole_message();
  for (std::vector<zmq::message_t>& frames : direct_received_) {
    if (Status decoded = transport::DecodeMessage(std::span(frames), &reply_); !decoded.ok()) {
      direct_received_.clear();
      return DirectBroken(server, DataLoss("malformed reply: " + decoded.message()), pending);
    }
    const transport::Message* msg = &reply_;
    // Only the process its ZeroMQ socket answers from: a link made to another (a server that
    // replaced it, before its rejoin) is closed unread, and what was in flight on it goes
    // through ZeroMQ, where the rejoin sorts it out.
    if (msg->header.incarnation() == 0 ||
        msg->header.incarnation() != incarnations_[static_cast<size_t>(server)]) {
      direct_received_.clear();
      return DirectBroken(server,
                          FailedPrecondition("it answers from another process than the server's "
                                             "ZeroMQ socket"),
                          pending);
    }
    const Status handled = HandleReply(server, *msg, pending, params, version_out, stats_out);
    reply_.ReleaseFrames();
    RT_RETURN_IF_ERROR(handled);
  }
  direct_received_.clear();
  if (!read.ok()) return DirectBroken(server, read, pending);
  return Status::Ok();
}

Status PsClient::Resend(int server, const Pending::Request& r, Pending* pending) {
  if (r.kind == transport::RequestKind::kMargins) {
    proto::Header h = r.push->header;
    return SendRequest(server, &h, CopyFrames(r.push->payloads), r, pending);
  }
  if (r.kind == transport::RequestKind::kPush) {
    // As it was sent, request id included (but below); outside sync its versions may be newer than
    // a shard restored from a checkpoint holds: like the next push, it reports 0 (Rejoin). With
    // frames, whether or not it first went through shared memory (SentPush keeps those).
    proto::Header resent = r.push->header;
    if (options_.consistency != ps::Consistency::kSync) {
      for (proto::PartitionSlice& slice : *resent.mutable_partitions()) slice.set_version(0);
      for (proto::SparseSlice& slice : *resent.mutable_sparse()) slice.set_version(0);
    }
    // A pull back asked again with frames (its shared memory could not be read), under a new
    // request id: an answer the server still owes the first try (in shared memory, after a
    // rejoin) is then a stale reply, passed over. The server knows a duplicate by its clock.
    if (r.frames_only) {
      resent.set_shared_ok(false);
      resent.set_request_id(next_request_id_++);
    }
    Pending::Request framed = r;
    framed.shared_sent = false;
    if (r.frames_only) framed.shared_asked = false;
    return SendRequest(server, &resent, CopyFrames(r.push->payloads), framed, pending);
  }
  if (r.kind == transport::RequestKind::kPull) {
    return SendPull(server, r.min_version, pending, r.final_model, r.whole, r.sparse,
                    r.frames_only);
  }
  if (r.kind == transport::RequestKind::kTask) return SendTask(server, r.task, pending);
  return SendSimple(server, r.kind, pending, r.min_version);
}

Status PsClient::DetourLost(Pending* pending) {
  const auto now = Clock::now();
  for (int server = 0; server < static_cast<int>(sockets_.size()); ++server) {
    Link& link = links_[static_cast<size_t>(server)];
    if (!Lost(server) || now < link.next_detour) continue;
    // What waits for the server itself: in flight to it, or to be sent again once it rejoins.
    std::vector<Pending::Request> waiting;
    for (auto it = pending->requests.begin(); it != pending->requests.end();) {
      if (it->second.server != server || it->second.via >= 0) {
        ++it;
        continue;
      }
      // A rejoin's JOIN needs no detour: the successor's copy has every clock the server had.
      if (!it->second.rejoin) waiting.push_back(it->second);
      it = pending->requests.erase(it);
    }
    if (auto again = pending->resend.find(server); again != pending->resend.end()) {
      for (Pending::Request& r : again->second) waiting.push_back(std::move(r));
      pending->resend.erase(again);
    }
    if (waiting.empty()) continue;
    link.next_detour = now + options_.detour_retry;
    const int successor = (server + 1) % static_cast<int>(sockets_.size());
    if (!link.detour_logged) {
      link.detour_logged = true;
      Log("parameter server " + std::to_string(server) + " (" +
          options_.endpoints[static_cast<size_t>(server)] + ") unreachable for " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::milliseconds>(now - link.down_since)
                  .count()) +
          " ms: asking its successor, parameter server " + std::to_string(successor) +
          ", to serve its shard");
    }
    // Sent as detours whether or not the successor serves yet: it answers NOT_SERVING if not.
    link.detoured = true;
    PushesFirst(&waiting);
    for (const Pending::Request& r : waiting) RT_RETURN_IF_ERROR(Resend(server, r, pending));
  }
  return Status::Ok();
}

Status PsClient::Pull(int64_t min_version, std::span<float> params, int64_t* version_out,
                      bool whole) {
  RT_RETURN_IF_ERROR(CheckLinks());
  Pending pending;
  if (version_out != nullptr) *version_out = INT64_MAX;
  for (int s = 0; s < static_cast<int>(sockets_.size()); ++s) {
    RT_RETURN_IF_ERROR(SendPull(s, min_version, &pending, /*final_model=*/false, whole));
  }
  return Await(&pending, params, version_out, nullptr);
}

Status PsClient::PullRows(int64_t min_version, std::span<float> params,
                          std::span<const SparseRows> rows, int64_t* version_out) {
  RT_RETURN_IF_ERROR(CheckLinks());
  Pending pending;
  pending.rows = rows;
  if (version_out != nullptr) *version_out = INT64_MAX;
  std::vector<SparsePart> parts =
      RouteRows(options_.table->sparse(), static_cast<int>(sockets_.size()), rows);
  for (int s = 0; s < static_cast<int>(sockets_.size()); ++s) {
    RT_RETURN_IF_ERROR(SendPull(s, min_version, &pending, false, false,
                                std::make_shared<SparsePart>(std::move(parts[s]))));
  }
  return Await(&pending, params, version_out, nullptr);
}

Status PsClient::PushPull(const PushRequest& push, int64_t pull_min_version,
                          std::span<float> params, int64_t* version_out) {
  return PushPullRows(push, pull_min_version, params, {}, version_out);
}

Status PsClient::PushPullRows(const PushRequest& push, int64_t pull_min_version,
                              std::span<float> params, std::span<const SparseRows> rows,
                              int64_t* version_out) {
  const Status done = PushPullOnce(push, pull_min_version, params, rows, version_out);
  // The copies kept for a server that comes back (SentPush) let go of the push's frames once no
  // request holds them, as they did when they ended with the operation: the caller's gradient
  // buffer is then overwritten in place by the next step (SharedBuffer::Overwrite), not copied.
  for (std::shared_ptr<SentPush>& sent : sent_push_) {
    if (sent != nullptr && sent.use_count() == 1) sent->payloads.clear();
  }
  return done;
}

Status PsClient::PushPullOnce(const PushRequest& push, int64_t pull_min_version,
                              std::span<float> params, std::span<const SparseRows> rows,
                              int64_t* version_out) {
  RT_RETURN_IF_ERROR(CheckLinks());
  Pending pending;
  pending.rows = rows;
  if (version_out != nullptr) *version_out = INT64_MAX;
  const int servers = static_cast<int>(sockets_.size());
  std::vector<SparsePart> pushed;
  if (!push.sparse.empty()) {
    RT_ASSIGN_OR_RETURN(
        pushed, RouteGradients(options_.table->sparse(), servers, push.sparse, options_.codec));
  }
  std::vector<SparsePart> pulled;
  if (!rows.empty()) pulled = RouteRows(options_.table->sparse(), servers, rows);
  // Counted as sent from here on: a server lost during the push is rejoined past it.
  clock_ = push.clock + 1;
  const std::optional<uint64_t> shared_seq = WriteSharedPush(push);
  for (int s = 0; s < servers; ++s) {
    const bool shared = shared_seq.has_value() && shared_push_to_[static_cast<size_t>(s)];
    const PushShape shape =
        ShapeOf(s, push, pull_min_version, !pushed.empty() || !pulled.empty(), shared);
    RT_RETURN_IF_ERROR(SendPush(s, push, pushed.empty() ? nullptr : &pushed[s], &pending,
                                shared ? &*shared_seq : nullptr, shape));
    if (shape != PushShape::kWhole) continue;  // the push's answer is its pull
    std::shared_ptr<SparsePart> keys;
    if (!pulled.empty()) keys = std::make_shared<SparsePart>(std::move(pulled[s]));
    RT_RETURN_IF_ERROR(SendPull(s, pull_min_version, &pending, false, false, std::move(keys)));
  }
  return Await(&pending, params, version_out, nullptr);
}

Status PsClient::Done() {
  RT_RETURN_IF_ERROR(CheckLinks());
  Pending pending;
  for (int s = 0; s < static_cast<int>(sockets_.size()); ++s) {
    RT_RETURN_IF_ERROR(SendSimple(s, transport::RequestKind::kWorkerDone, &pending));
  }
  return Await(&pending, {}, nullptr, nullptr);
}

StatusOr<proto::TaskInfo> PsClient::NextTask(int server, const proto::TaskInfo& request) {
  if (server < 0 || server >= static_cast<int>(sockets_.size())) {
    return InvalidArgument("no parameter server " + std::to_string(server));
  }
  RT_RETURN_IF_ERROR(CheckLinks());
  Pending pending;
  RT_RETURN_IF_ERROR(SendTask(server, std::make_shared<const proto::TaskInfo>(request), &pending));
  RT_RETURN_IF_ERROR(Await(&pending, {}, nullptr, nullptr));
  if (!pending.task.has_value()) {
    return DataLoss("parameter server " + std::to_string(server) + " did not answer TASK");
  }
  return *pending.task;
}

Status PsClient::SumMargins(int server, int64_t step, uint32_t rows, uint32_t cols,
                            std::span<float> margins) {
  if (server < 0 || server >= static_cast<int>(sockets_.size())) {
    return InvalidArgument("no parameter server " + std::to_string(server));
  }
  RT_CHECK(margins.size() == static_cast<size_t>(rows) * cols);
  RT_RETURN_IF_ERROR(CheckLinks());
  Pending pending;
  pending.margins = margins;
  auto sent = std::make_shared<SentPush>();
  sent->header = NewRequest(transport::RequestKind::kMargins, server);
  sent->header.set_clock(step);
  sent->header.set_margin_rows(rows);
  sent->header.set_margin_cols(cols);
  sent->payloads.emplace_back(margins.data(), margins.size_bytes());
  Pending::Request req{server, transport::RequestKind::kMargins, step};
  req.push = sent;
  proto::Header h = sent->header;
  RT_RETURN_IF_ERROR(SendRequest(server, &h, CopyFrames(sent->payloads), std::move(req), &pending));
  RT_RETURN_IF_ERROR(Await(&pending, {}, nullptr, nullptr));
  if (!pending.margins_answered) {
    return DataLoss("parameter server " + std::to_string(server) + " did not answer MARGINS");
  }
  return Status::Ok();
}

StatusOr<JoinResult> PsClient::Join() {
  RT_RETURN_IF_ERROR(CheckLinks());
  // Where does this worker stand on each server?
  Pending asked;
  for (int s = 0; s < static_cast<int>(sockets_.size()); ++s) {
    proto::Header h = NewRequest(transport::RequestKind::kJoin, s);
    h.set_clock(0);
    h.set_first_join(true);
    RT_RETURN_IF_ERROR(SendRequest(s, &h, {}, {s, transport::RequestKind::kJoin, 0}, &asked));
  }
  RT_RETURN_IF_ERROR(Await(&asked, {}, nullptr, nullptr));
  JoinResult result;
  result.done_everywhere = true;
  result.clock = INT64_MAX;
  for (const auto& [server, answer] : asked.joined) {
    result.furthest = std::max(result.furthest, answer.first);
    result.done_everywhere = result.done_everywhere && answer.second;
    // Continue from the smallest clock of the servers this worker has not finished with: the
    // servers ahead acknowledge the replayed steps without applying them (ps/server_core.h).
    if (!answer.second) result.clock = std::min(result.clock, answer.first);
  }
  if (result.clock == INT64_MAX) result.clock = result.furthest;
  clock_ = result.clock;
  return result;
}

Status PsClient::DoneWithFinalModel(std::span<float> params) {
  RT_RETURN_IF_ERROR(CheckLinks());
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

const transport::SegmentReader* PsClient::SegmentOf(int from, const proto::Header& h) {
  const transport::SegmentAddress address = transport::AddressOf(h.segment());
  std::unique_ptr<transport::SegmentReader>& reader = segments_[static_cast<size_t>(from)];
  if (reader != nullptr && reader->address() == address) return reader.get();
  reader.reset();  // a server that restarted: its new process's segment
  StatusOr<std::unique_ptr<transport::SegmentReader>> opened =
      transport::SegmentReader::Open(address);
  if (!opened.ok()) {
    if (!no_shared_[static_cast<size_t>(from)]) {
      Log("parameter server " + std::to_string(from) + ": cannot read its shared memory (" +
          opened.status().ToString() + "): pulling through the socket");
    }
    no_shared_[static_cast<size_t>(from)] = true;
    return nullptr;
  }
  reader = std::move(opened).value();
  return reader.get();
}

Status PsClient::HandleReply(int from, const transport::Message& msg, Pending* pending,
                             std::span<float> params, int64_t* version_out,
                             proto::ServerStats* stats_out) {
  const proto::Header& h = msg.header;
  auto it = pending->requests.find(h.request_id());
  // A reply to a request this operation did not send (a late answer to an earlier,
  // timed-out operation, or from where a request was sent before it was sent elsewhere)
  // carries nothing we still need.
  if (it == pending->requests.end() ||
      (it->second.via >= 0 ? it->second.via : it->second.server) != from) {
    return Status::Ok();
  }
  // Taken out of the table: every path below erases the entry, or fails the operation.
  const Pending::Request req = std::move(it->second);
  const int server = req.server;  // whose shard the reply is about
  // Who answered, for errors and logs only (built when one is said).
  const auto who = [&] {
    return "parameter server " + std::to_string(server) + " (" +
           options_.endpoints[static_cast<size_t>(server)] + ")" +
           (req.via >= 0 ? " via its successor " + std::to_string(from) : std::string());
  };
  if (req.via >= 0) {
    Link& link = links_[static_cast<size_t>(server)];
    if (h.kind() == proto::NOT_SERVING) {
      // The successor has not taken the shard over (yet), or has handed it back: the request
      // waits for the server, or for the next detour.
      pending->requests.erase(it);
      link.detoured = false;
      // While the server's rejoin is in flight, the request waits for it with the others, so
      // that they reach the server after the JOIN and pushes first.
      const bool rejoining = std::any_of(
          pending->requests.begin(), pending->requests.end(), [server](const auto& entry) {
            return entry.second.server == server && entry.second.rejoin;
          });
      if (!Lost(server) && !rejoining) return Resend(server, req, pending);
      Pending::Request waiting = req;
      waiting.via = -1;
      pending->resend[server].push_back(std::move(waiting));
      return Status::Ok();
    }
    if (!link.detour_served) {
      link.detour_served = true;
      Log("parameter server " + std::to_string(from) + " serves the shard of parameter server " +
          std::to_string(server) + " while it is away");
    }
    link.detoured = true;
    ++detours_served_;
  }
  if (h.kind() == proto::ERROR && h.shared_refused() && req.shared_sent) {
    // It could not read this worker's memory: nothing was applied; frames from now on.
    if (!no_shared_push_[static_cast<size_t>(server)]) {
      Log("parameter server " + std::to_string(from) +
          " cannot read this worker's shared memory (" + h.error() +
          "): pushing to it through the socket");
    }
    no_shared_push_[static_cast<size_t>(server)] = true;
    for (const proto::PartitionSlice& s : req.push->header.partitions()) {
      bytes_pushed_shared_ -= std::min(bytes_pushed_shared_, s.payload_bytes());
    }
    pending->requests.erase(it);
    return Resend(server, req, pending);
  }
  if (h.kind() == proto::ERROR) {
    return FailedPrecondition(who() + " rejected " + transport::KindName(req.kind) + ": " +
                              h.error());
  }
  const proto::MessageKind expected =
      req.pulled_back != nullptr ? proto::PULL_REPLY : transport::ReplyKindOf(req.kind);
  if (h.kind() != expected) {
    return DataLoss(who() + " answered " + transport::KindName(req.kind) + " with " +
                    transport::KindName(h.kind()));
  }
  if (h.kind() == proto::STATS_REPLY && stats_out != nullptr) *stats_out = h.stats();
  if (h.kind() == proto::JOIN_REPLY) {
    if (h.clock() < 0) {
      return DataLoss(who() + " answered JOIN with clock " + std::to_string(h.clock()));
    }
    pending->joined[server] = {h.clock(), h.worker_done()};
  }
  if (h.kind() == proto::MARGINS_REPLY) {
    if (h.clock() != req.min_version || msg.payloads.size() != 1 ||
        msg.Floats(0).size() != pending->margins.size()) {
      return DataLoss(who() + " answered MARGINS of step " + std::to_string(req.min_version) +
                      " with the sum of step " + std::to_string(h.clock()) + " (" +
                      std::to_string(h.margin_rows()) + " x " + std::to_string(h.margin_cols()) +
                      ")");
    }
    std::span<const float> sum = msg.Floats(0);
    std::copy(sum.begin(), sum.end(), pending->margins.begin());
    pending->margins_answered = true;
  }
  if (h.kind() == proto::TASK_REPLY) {
    const proto::TaskInfo& t = h.task();
    const bool known = t.answer() == proto::TASK_LEASE || t.answer() == proto::TASK_WAIT ||
                       t.answer() == proto::TASK_END;
    if (!known || t.epoch() < 0 || t.position() < 0) {
      return DataLoss(who() + " answered TASK with " + t.ShortDebugString());
    }
    pending->task = t;
  }
  if (req.rejoin) {
    pending->requests.erase(it);
    auto again = pending->resend.find(server);
    if (again == pending->resend.end()) return Status::Ok();
    std::vector<Pending::Request> requests = std::move(again->second);
    pending->resend.erase(again);
    PushesFirst(&requests);
    for (const Pending::Request& r : requests) RT_RETURN_IF_ERROR(Resend(server, r, pending));
    return Status::Ok();
  }
  if (h.kind() == proto::PULL_REPLY) {
    const std::vector<uint32_t>& ids =
        req.pulled_back != nullptr ? *req.pulled_back : Listed(server, req.whole);
    // A pulled-back push's (or chunk's) answer brings its partitions at the round after the one
    // pushed.
    const int64_t asked = req.pulled_back != nullptr ? req.min_version + 1 : req.min_version;
    // DecodeMessage has checked that parameters travel as CODEC_NONE, one frame of
    // num_elements floats per listed partition.
    if (h.partitions_size() != static_cast<int>(ids.size())) {
      return DataLoss(who() + " sent a PULL_REPLY with " + std::to_string(h.partitions_size()) +
                      " partitions, expected " + std::to_string(ids.size()));
    }
    // Every partition and sparse slice is checked before any is copied, so a rejected reply
    // changes neither the caller's parameters nor the versions the next push reports.
    int64_t sparse_version = INT64_MAX;
    if (req.sparse != nullptr) {
      const int64_t least =
          options_.consistency == ps::Consistency::kSync
              ? asked
              : std::max<int64_t>(sparse_versions_[static_cast<size_t>(server)], 0);
      RT_RETURN_IF_ERROR(CheckReply(*req.sparse, msg, least, who(), &sparse_version));
    } else if (h.sparse_size() > 0) {
      return DataLoss(who() + " sent sparse rows nobody asked for");
    }
    for (int i = 0; i < h.partitions_size(); ++i) {
      const proto::PartitionSlice& s = h.partitions(i);
      const ring::Partition& p = options_.table->partition(ids[static_cast<size_t>(i)]);
      if (s.id() != p.id || s.num_elements() != static_cast<uint64_t>(p.size)) {
        return DataLoss(who() + " sent partition " + std::to_string(s.id()) + " of " +
                        std::to_string(s.num_elements()) + " elements where partition " +
                        std::to_string(p.id) + " of " + std::to_string(p.size) + " was expected");
      }
      // In sync mode versions are rounds, so the pull asks for one; otherwise they count
      // updates and can only grow.
      const int64_t least = options_.consistency == ps::Consistency::kSync
                                ? asked
                                : std::max<int64_t>(versions_[p.id], 0);
      if (s.version() < least) {
        return DataLoss(who() + " sent partition " + std::to_string(p.id) + " at version " +
                        std::to_string(s.version()) + " where version >= " + std::to_string(least) +
                        " was expected");
      }
      if (s.shared()) {
        // DecodeMessage has checked num_elements floats lie inside the segment.
        if (!req.shared_asked) {
          return DataLoss(who() + " sent partition " + std::to_string(p.id) +
                          " in shared memory to a pull that did not ask for it");
        }
      } else if (msg.Bytes(static_cast<size_t>(i)).size() !=
                 static_cast<size_t>(p.size) * sizeof(float)) {
        return DataLoss(who() + " sent " +
                        std::to_string(msg.Bytes(static_cast<size_t>(i)).size()) +
                        " bytes for partition " + std::to_string(p.id) + " of " +
                        std::to_string(p.size) + " floats");
      }
    }
    const bool any_shared = std::any_of(h.partitions().begin(), h.partitions().end(),
                                        [](const proto::PartitionSlice& s) { return s.shared(); });
    const transport::SegmentReader* segment = nullptr;
    if (any_shared) {
      segment = SegmentOf(from, h);
      if (segment == nullptr) {  // said; asked again with frames
        Pending::Request again = req;
        again.frames_only = true;
        pending->requests.erase(it);
        return Resend(server, again, pending);
      }
    }
    // Where partition i's bytes are: its frame, or its place in the server's segment.
    auto source = [&](int i) -> std::span<const std::byte> {
      const proto::PartitionSlice& s = h.partitions(i);
      return s.shared() ? segment->Bytes(s.shared_offset(), s.payload_bytes())
                        : std::as_bytes(msg.Bytes(static_cast<size_t>(i)));
    };
    // Checked before any is copied (no allocation on this per-step path).
    for (int i = 0; i < h.partitions_size(); ++i) {
      if (source(i).size() != h.partitions(i).num_elements() * sizeof(float)) {
        return DataLoss(who() + " sent partition " + std::to_string(h.partitions(i).id()) +
                        " outside its shared memory");
      }
    }
    for (int i = 0; i < h.partitions_size(); ++i) {
      const ring::Partition& p = options_.table->partition(h.partitions(i).id());
      const std::span<const std::byte> src = source(i);
      transport::CopyBulk(params.data() + p.offset, src.data(), src.size());
    }
    if (segment != nullptr && !segment->Unchanged(h.segment().seq())) {
      // The server wrote its segment while this worker copied from it: ask again with frames.
      ++shared_retries_;
      Pending::Request again = req;
      again.frames_only = true;
      pending->requests.erase(it);
      return Resend(server, again, pending);
    }
    for (int i = 0; i < h.partitions_size(); ++i) {
      const proto::PartitionSlice& s = h.partitions(i);
      versions_[s.id()] = s.version();
      const uint64_t bytes = s.num_elements() * sizeof(float);
      bytes_pulled_ += bytes;
      if (s.shared()) bytes_pulled_shared_ += bytes;
      if (version_out != nullptr) *version_out = std::min(*version_out, s.version());
    }
    if (req.sparse != nullptr) {
      ScatterReply(*req.sparse, msg, pending->rows);
      sparse_versions_[static_cast<size_t>(server)] = sparse_version;
      for (const SparsePart::Slice& slice : req.sparse->slices) {
        bytes_pulled_ += slice.positions.size() * slice.dim * sizeof(float);
      }
      if (version_out != nullptr) *version_out = std::min(*version_out, sparse_version);
    }
  }
  if (req.pulled_back != nullptr && req.push->header.partial()) {
    pending->answered_chunks[server].push_back(req);
  }
  pending->requests.erase(it);
  return Status::Ok();
}

}  // namespace ringtrain::worker
