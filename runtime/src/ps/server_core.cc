#include "ringtrain/ps/server_core.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_set>
#include <utility>

#include "ringtrain/common/check.h"

namespace ringtrain::ps {

namespace {

std::string KindName(const proto::Header& h) { return proto::MessageKind_Name(h.kind()); }

}  // namespace

StatusOr<std::unique_ptr<ServerCore>> ServerCore::Make(ServerCoreConfig config,
                                                       std::span<const float> initial_params) {
  if (config.table == nullptr) return InvalidArgument("server core: no partition table");
  if (config.optimizer == nullptr) return InvalidArgument("server core: no optimizer");
  if (config.num_workers < 1) return InvalidArgument("server core: num_workers must be >= 1");
  if (config.server_index < 0 || config.server_index >= config.table->num_servers()) {
    return InvalidArgument("server core: server index " + std::to_string(config.server_index) +
                           " outside the table's " + std::to_string(config.table->num_servers()) +
                           " servers");
  }
  if (static_cast<int64_t>(initial_params.size()) != config.table->total_size()) {
    return InvalidArgument("server core: initial parameters have " +
                           std::to_string(initial_params.size()) + " elements, the table " +
                           std::to_string(config.table->total_size()));
  }
  const int slots = config.optimizer->state_slots();
  std::vector<PartitionState> owned;
  for (uint32_t id : config.table->partitions_of(config.server_index)) {
    const auto& part = config.table->partitions()[id];
    PartitionState s;
    s.id = id;
    s.params.assign(initial_params.begin() + part.offset,
                    initial_params.begin() + part.offset + part.size);
    s.optimizer_state.assign(static_cast<size_t>(slots * part.size), 0.0f);
    s.accum.assign(static_cast<size_t>(part.size), 0.0f);
    s.last_clock.assign(static_cast<size_t>(config.num_workers), -1);
    owned.push_back(std::move(s));
  }
  return std::unique_ptr<ServerCore>(new ServerCore(std::move(config), std::move(owned)));
}

ServerCore::ServerCore(ServerCoreConfig config, std::vector<PartitionState> owned)
    : config_(std::move(config)),
      owned_(std::move(owned)),
      slot_of_partition_(config_.table->partitions().size(), -1),
      worker_done_(static_cast<size_t>(config_.num_workers), false) {
  for (size_t i = 0; i < owned_.size(); ++i) slot_of_partition_[owned_[i].id] = static_cast<int>(i);
  stats_.set_partitions_owned(static_cast<uint32_t>(owned_.size()));
}

ServerCore::~ServerCore() = default;

ServerCore::PartitionState* ServerCore::Find(uint32_t id) {
  if (id >= slot_of_partition_.size() || slot_of_partition_[id] < 0) return nullptr;
  return &owned_[static_cast<size_t>(slot_of_partition_[id])];
}

const ServerCore::PartitionState* ServerCore::Find(uint32_t id) const {
  return const_cast<ServerCore*>(this)->Find(id);
}

std::span<const float> ServerCore::params(uint32_t partition_id) const {
  const PartitionState* p = Find(partition_id);
  RT_CHECK(p != nullptr);
  return p->params;
}

int64_t ServerCore::version(uint32_t partition_id) const {
  const PartitionState* p = Find(partition_id);
  RT_CHECK(p != nullptr);
  return p->version;
}

int64_t ServerCore::owned_elements() const {
  int64_t n = 0;
  for (const PartitionState& p : owned_) n += static_cast<int64_t>(p.params.size());
  return n;
}

void ServerCore::CountUndecodable(uint64_t bytes) {
  stats_.set_messages_received(stats_.messages_received() + 1);
  stats_.set_messages_dropped(stats_.messages_dropped() + 1);
  stats_.set_bytes_received(stats_.bytes_received() + bytes);
}

void ServerCore::CountReceived(uint64_t bytes) {
  stats_.set_messages_received(stats_.messages_received() + 1);
  stats_.set_bytes_received(stats_.bytes_received() + bytes);
}

void ServerCore::CountSent(uint64_t bytes) { stats_.set_bytes_sent(stats_.bytes_sent() + bytes); }

Status ServerCore::ValidateCommon(const proto::Header& h) const {
  if (h.job() != config_.job) {
    return InvalidArgument(KindName(h) + " for job \"" + h.job() + "\", this server serves \"" +
                           config_.job + "\"");
  }
  if (h.sender() >= static_cast<uint32_t>(config_.num_workers)) {
    return InvalidArgument(KindName(h) + " from worker " + std::to_string(h.sender()) +
                           " but the job has " + std::to_string(config_.num_workers) + " workers");
  }
  return Status::Ok();
}

Status ServerCore::ValidatePartitions(const proto::Header& h) const {
  if (h.layout_fingerprint() != config_.table->fingerprint()) {
    return InvalidArgument(KindName(h) + " from worker " + std::to_string(h.sender()) +
                           " uses a different model layout or placement (fingerprint mismatch)");
  }
  if (h.partitions_size() == 0) return InvalidArgument(KindName(h) + " lists no partitions");
  std::unordered_set<uint32_t> seen;
  for (const proto::PartitionSlice& s : h.partitions()) {
    const PartitionState* p = Find(s.id());
    if (p == nullptr) {
      return InvalidArgument(KindName(h) + ": partition " + std::to_string(s.id()) +
                             " is not owned by server " + std::to_string(config_.server_index));
    }
    if (s.num_elements() != p->params.size()) {
      return InvalidArgument(KindName(h) + ": partition " + std::to_string(s.id()) + " has " +
                             std::to_string(p->params.size()) + " elements, message says " +
                             std::to_string(s.num_elements()));
    }
    if (!seen.insert(s.id()).second) {
      return InvalidArgument(KindName(h) + ": partition " + std::to_string(s.id()) +
                             " listed twice");
    }
  }
  return Status::Ok();
}

Reply ServerCore::NewReply(const std::string& peer, const proto::Header& request,
                           proto::MessageKind kind) const {
  Reply r;
  r.peer = peer;
  r.header.set_kind(kind);
  r.header.set_job(config_.job);
  r.header.set_sender(static_cast<uint32_t>(config_.server_index));
  r.header.set_request_id(request.request_id());
  return r;
}

Reply ServerCore::MakeError(const std::string& peer, const proto::Header& request,
                            const Status& s) {
  stats_.set_messages_dropped(stats_.messages_dropped() + 1);
  Reply r = NewReply(peer, request, proto::ERROR);
  r.header.set_error(s.message());
  return r;
}

void ServerCore::Handle(const std::string& peer, transport::Message msg, std::vector<Reply>* out) {
  const proto::Header& h = msg.header;
  if (h.kind() == proto::STATS) {
    Reply r = NewReply(peer, h, proto::STATS_REPLY);
    *r.header.mutable_stats() = stats_;
    out->push_back(std::move(r));
    return;
  }
  if (Status s = ValidateCommon(h); !s.ok()) {
    out->push_back(MakeError(peer, h, s));
    return;
  }
  switch (h.kind()) {
    case proto::PUSH:
      HandlePush(peer, std::move(msg), out);
      return;
    case proto::PULL:
      HandlePull(peer, std::move(msg.header), out);
      return;
    case proto::WORKER_DONE:
      HandleDone(peer, h, out);
      return;
    default:
      out->push_back(MakeError(peer, h, InvalidArgument(KindName(h) + " is not a request")));
      return;
  }
}

void ServerCore::HandlePush(const std::string& peer, transport::Message msg,
                            std::vector<Reply>* out) {
  const proto::Header& h = msg.header;
  Status s = ValidatePartitions(h);
  const size_t w = h.sender();
  if (s.ok() && worker_done_[w]) {
    s = InvalidArgument("PUSH from worker " + std::to_string(w) + " after it finished");
  }
  if (s.ok() && h.codec() != proto::CODEC_NONE) {
    s = InvalidArgument("PUSH with codec " + proto::Codec_Name(h.codec()) +
                        " is not supported by this server");
  }
  if (s.ok() && !(std::isfinite(h.learning_rate()) && h.learning_rate() >= 0)) {
    s = InvalidArgument("PUSH with learning rate " + std::to_string(h.learning_rate()));
  }
  for (int i = 0; s.ok() && i < h.partitions_size(); ++i) {
    const PartitionState* p = Find(h.partitions(i).id());
    if (p->last_clock[w] == h.clock()) {
      s = InvalidArgument("duplicate PUSH from worker " + std::to_string(w) + " for partition " +
                          std::to_string(p->id) + " at clock " + std::to_string(h.clock()));
    } else if (h.clock() != p->version) {
      s = InvalidArgument("PUSH from worker " + std::to_string(w) + " for partition " +
                          std::to_string(p->id) + " computed at version " +
                          std::to_string(h.clock()) + ", partition is at version " +
                          std::to_string(p->version));
    }
  }
  if (!s.ok()) {
    out->push_back(MakeError(peer, h, s));
    return;
  }

  const float n = static_cast<float>(h.num_samples());
  for (int i = 0; i < h.partitions_size(); ++i) {
    PartitionState& p = *Find(h.partitions(i).id());
    std::span<const float> g = msg.Floats(static_cast<size_t>(i));
    if (h.num_samples() > 0) {
      for (size_t k = 0; k < g.size(); ++k) p.accum[k] += n * g[k];
    }
    p.samples += h.num_samples();
    p.pushes += 1;
    p.last_clock[w] = h.clock();
    p.learning_rate = h.learning_rate();
    MaybeApplyRound(p);
  }
  stats_.set_pushes_accepted(stats_.pushes_accepted() + 1);

  Reply ack = NewReply(peer, h, proto::PUSH_ACK);
  out->push_back(std::move(ack));
  AnswerReadyPulls(out);
}

void ServerCore::MaybeApplyRound(PartitionState& p) {
  const int active = config_.num_workers - workers_done_;
  if (p.pushes == 0 || p.pushes < active) return;
  if (p.samples > 0) {
    const float inv = 1.0f / static_cast<float>(p.samples);
    for (float& v : p.accum) v *= inv;
    p.optimizer_steps += 1;
    config_.optimizer->Apply(p.learning_rate, p.optimizer_steps, p.accum, p.params,
                             p.optimizer_state);
    stats_.set_updates_applied(stats_.updates_applied() + 1);
  }
  std::fill(p.accum.begin(), p.accum.end(), 0.0f);
  p.pushes = 0;
  p.samples = 0;
  p.version += 1;
}

void ServerCore::HandlePull(const std::string& peer, proto::Header request,
                            std::vector<Reply>* out) {
  Status s = ValidatePartitions(request);
  if (s.ok() && request.clock() < 0) s = InvalidArgument("PULL with negative clock");
  // A worker asks at most for the version its own push completes; anything later could
  // never be answered and would sit parked forever.
  for (int i = 0; s.ok() && i < request.partitions_size(); ++i) {
    const PartitionState* p = Find(request.partitions(i).id());
    if (request.clock() > p->version + 1) {
      s = InvalidArgument("PULL of version " + std::to_string(request.clock()) + " of partition " +
                          std::to_string(p->id) + ", which is at version " +
                          std::to_string(p->version));
    }
  }
  if (!s.ok()) {
    out->push_back(MakeError(peer, request, s));
    return;
  }
  if (PullReady(request)) {
    out->push_back(MakePullReply(peer, request));
  } else {
    pending_.push_back(PendingPull{peer, std::move(request)});
  }
}

void ServerCore::HandleDone(const std::string& peer, const proto::Header& request,
                            std::vector<Reply>* out) {
  const size_t w = request.sender();
  if (!worker_done_[w]) {
    worker_done_[w] = true;
    ++workers_done_;
    stats_.set_workers_done(static_cast<uint32_t>(workers_done_));
    // Rounds that waited only for this worker are complete now.
    for (PartitionState& p : owned_) MaybeApplyRound(p);
  }
  Reply ack = NewReply(peer, request, proto::DONE_ACK);
  out->push_back(std::move(ack));
  AnswerReadyPulls(out);
}

bool ServerCore::PullReady(const proto::Header& request) const {
  for (const proto::PartitionSlice& s : request.partitions()) {
    if (Find(s.id())->version < request.clock()) return false;
  }
  return true;
}

void ServerCore::AnswerReadyPulls(std::vector<Reply>* out) {
  auto it = pending_.begin();
  while (it != pending_.end()) {
    if (PullReady(it->request)) {
      out->push_back(MakePullReply(it->peer, it->request));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

Reply ServerCore::MakePullReply(const std::string& peer, const proto::Header& request) {
  Reply r = NewReply(peer, request, proto::PULL_REPLY);
  r.header.set_codec(proto::CODEC_NONE);
  r.header.set_layout_fingerprint(config_.table->fingerprint());
  r.payloads.reserve(static_cast<size_t>(request.partitions_size()));
  for (const proto::PartitionSlice& s : request.partitions()) {
    const PartitionState& p = *Find(s.id());
    proto::PartitionSlice* slice = r.header.add_partitions();
    slice->set_id(p.id);
    slice->set_num_elements(p.params.size());
    slice->set_payload_bytes(p.params.size() * sizeof(float));
    slice->set_version(p.version);
    // A copy: the parameters change with the next round while the frame may still be queued.
    r.payloads.push_back(transport::CopyFrame(p.params.data(), p.params.size()));
  }
  stats_.set_pulls_answered(stats_.pulls_answered() + 1);
  return r;
}

}  // namespace ringtrain::ps
