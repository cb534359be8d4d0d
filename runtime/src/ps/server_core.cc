#include "ringtrain/ps/server_core.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/transport/message_kind.h"

namespace ringtrain::ps {

namespace {

std::string KindName(const proto::Header& h) { return transport::KindName(h.kind()); }

}  // namespace

const char* ConsistencyName(Consistency c) {
  switch (c) {
    case Consistency::kSync:
      return "sync";
    case Consistency::kAsync:
      return "async";
    case Consistency::kSsp:
      return "ssp";
  }
  return "unknown";
}

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
  if (config.consistency == Consistency::kSsp && config.staleness < 0) {
    return InvalidArgument("server core: staleness must be >= 0");
  }
  if (config.staleness_aware_lr && config.consistency == Consistency::kSync) {
    return InvalidArgument("server core: staleness-aware learning rates need async or ssp");
  }
  if ((config.block_sums || config.margin_cols > 0) && config.consistency != Consistency::kSync) {
    return InvalidArgument("server core: feature-wise sharding needs sync");
  }
  if (config.margin_cols < 0 || (config.margin_cols > 0 && !config.block_sums)) {
    return InvalidArgument("server core: margins are summed only with block sums, margin_cols " +
                           std::to_string(config.margin_cols));
  }
  if (!config.table->sparse().empty()) {
    if (config.block_sums) {
      return InvalidArgument("server core: feature-wise sharding has no sparse tables");
    }
    if (!config.sparse_init.empty() &&
        config.sparse_init.size() != config.table->sparse().tables().size()) {
      return InvalidArgument("server core: " + std::to_string(config.sparse_init.size()) +
                             " sparse initialisations for " +
                             std::to_string(config.table->sparse().tables().size()) + " tables");
    }
    if (config.sparse_admit_after < 1 || config.sparse_admit_after > 255) {
      return InvalidArgument("server core: sparse_admit_after must be in [1, 255]");
    }
    if (config.sparse_expire_after < 0 || config.sparse_expire_after > kMaxExpireAfter) {
      return InvalidArgument("server core: sparse_expire_after must be in [0, 2^30]");
    }
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
    s.params = transport::SharedBuffer<float>(std::vector<float>(
        initial_params.begin() + part.offset, initial_params.begin() + part.offset + part.size));
    s.optimizer_state.assign(static_cast<size_t>(slots * part.size), 0.0f);
    if (config.consistency == Consistency::kSync)
      s.accum.assign(static_cast<size_t>(part.size), 0.0f);
    owned.push_back(std::move(s));
  }
  return std::unique_ptr<ServerCore>(new ServerCore(std::move(config), std::move(owned)));
}

ServerCore::ServerCore(ServerCoreConfig config, std::vector<PartitionState> owned)
    : config_(std::move(config)),
      owned_(std::move(owned)),
      slot_of_partition_(config_.table->partitions().size(), -1),
      worker_done_(static_cast<size_t>(config_.num_workers), false),
      worker_excluded_(static_cast<size_t>(config_.num_workers), false),
      clocks_(static_cast<size_t>(config_.num_workers), 0),
      held_push_(static_cast<size_t>(config_.num_workers)),
      partial_(static_cast<size_t>(config_.num_workers)),
      partial_count_(static_cast<size_t>(config_.num_workers), 0) {
  size_t largest = 0;
  listed_by_check_.assign(owned_.size(), 0);
  for (size_t i = 0; i < owned_.size(); ++i) {
    slot_of_partition_[owned_[i].id] = static_cast<int>(i);
    largest = std::max(largest, owned_[i].params.size());
  }
  if (config_.consistency != Consistency::kSync && config_.codec != compress::CodecType::kNone) {
    scratch_.resize(largest);
  }
  stats_.set_partitions_owned(static_cast<uint32_t>(owned_.size()));
  if (config_.keeps_data_queue) queue_.emplace(config_.num_workers);
  if (config_.margin_cols > 0) margins_.emplace(config_.num_workers, config_.margin_cols);
  if (!config_.table->sparse().empty()) {
    sparse_ = std::make_unique<SparseShard>(
        SparseShardConfig{config_.table, config_.server_index, config_.num_workers,
                          config_.optimizer.get(), config_.sparse_init, config_.sparse_seed,
                          config_.sparse_admit_after, config_.sparse_expire_after});
  }
}

int64_t ServerCore::RoundVersion() const {
  // Streamed rounds apply partitions one by one: the round in progress is the oldest.
  if (!owned_.empty()) {
    int64_t v = owned_.front().version;
    for (const PartitionState& p : owned_) v = std::min(v, p.version);
    return v;
  }
  return sparse_ != nullptr ? sparse_round_.version : 0;
}

int ServerCore::RoundPushes() const {
  if (!owned_.empty()) {
    const int64_t v = RoundVersion();
    for (const PartitionState& p : owned_) {
      if (p.version == v) return p.pushes;
    }
  }
  return sparse_ != nullptr ? sparse_round_.pushes : 0;
}

bool ServerCore::ChunksPending(size_t worker) const {
  // An excluded worker's chunks stop mattering once every partition has passed its clock.
  return partial_count_[worker] > 0 && RoundVersion() <= clocks_[worker];
}

bool ServerCore::mid_push() const {
  for (size_t w = 0; w < partial_count_.size(); ++w) {
    if (ChunksPending(w)) return true;
  }
  return false;
}

void ServerCore::ExcludeForwarded(int worker, std::vector<Reply>* out) {
  forwarded_ = true;
  Exclude(worker, out);
  forwarded_ = false;
}

void ServerCore::ClearPartial(size_t worker) {
  if (partial_count_[worker] == 0) return;
  std::fill(partial_[worker].begin(), partial_[worker].end(), 0);
  partial_count_[worker] = 0;
}

bool ServerCore::PushedInChunks(const PartitionState& p) const {
  const auto slot = static_cast<size_t>(&p - owned_.data());
  bool any = false;
  for (size_t w = 0; w < clocks_.size(); ++w) {
    if (worker_done_[w] || worker_excluded_[w] || clocks_[w] > p.version) continue;
    if (clocks_[w] != p.version || partial_count_[w] == 0 || partial_[w][slot] == 0) return false;
    any = true;
  }
  return any;
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
  return p->params.view();
}

int64_t ServerCore::version(uint32_t partition_id) const {
  const PartitionState* p = Find(partition_id);
  RT_CHECK(p != nullptr);
  return p->version;
}

int64_t ServerCore::min_active_clock() const {
  int64_t m = INT64_MAX;
  for (size_t w = 0; w < clocks_.size(); ++w) {
    if (!worker_done_[w] && !worker_excluded_[w]) m = std::min(m, clocks_[w]);
  }
  return m;
}

int64_t ServerCore::step() const {
  int64_t s = -1;
  for (const int64_t c : clocks_) {
    if (s < 0 || c < s) s = c;
  }
  return std::max<int64_t>(s, 0);
}

int64_t ServerCore::active_step() const {
  const int64_t m = min_active_clock();
  if (m != INT64_MAX) return m;
  int64_t s = 0;
  for (const int64_t c : clocks_) s = std::max(s, c);
  return s;
}

std::vector<int> ServerCore::WorkersHoldingRound() const {
  std::vector<int> holding;
  if (config_.consistency != Consistency::kSync) return holding;
  // Every push is part of every owned partition's round and of the sparse tables'.
  if (RoundPushes() == 0) return holding;
  const int64_t version = RoundVersion();
  for (size_t w = 0; w < clocks_.size(); ++w) {
    if (!worker_done_[w] && !worker_excluded_[w] && clocks_[w] <= version) {
      holding.push_back(static_cast<int>(w));
    }
  }
  return holding;
}

std::vector<int> ServerCore::WorkersWaitedFor() const {
  if (config_.consistency == Consistency::kSync) {
    std::vector<int> waited = WorkersHoldingRound();
    if (margins_.has_value()) {
      for (int w : margins_->Missing(worker_done_)) {
        if (std::find(waited.begin(), waited.end(), w) == waited.end()) waited.push_back(w);
      }
      std::sort(waited.begin(), waited.end());
    }
    return waited;
  }
  std::vector<int> slowest;
  if (config_.consistency != Consistency::kSsp || pending_.empty()) return slowest;
  const int64_t min_clock = min_active_clock();
  for (size_t w = 0; w < clocks_.size(); ++w) {
    if (!worker_done_[w] && !worker_excluded_[w] && clocks_[w] == min_clock) {
      slowest.push_back(static_cast<int>(w));
    }
  }
  return slowest;
}

void ServerCore::Exclude(int worker, std::vector<Reply>* out) {
  if (config_.consistency != Consistency::kSync || config_.block_sums || worker < 0 ||
      worker >= config_.num_workers) {
    return;
  }
  const size_t w = static_cast<size_t>(worker);
  if (worker_done_[w] || worker_excluded_[w]) return;
  // Its chunks stay in their rounds, and which ones came stays known: if it is taken back before
  // the round moved on, the chunks it sends again are answered, not applied again.
  worker_excluded_[w] = true;
  stats_.set_workers_excluded(stats_.workers_excluded() + 1);
  ReturnLease(w);
  ApplyRoundsWaitingForNobody();
  ReleaseHeldPushes(out);
  AnswerReadyPulls(out);
}

void ServerCore::ApplyRoundsWaitingForNobody() {
  if (config_.consistency != Consistency::kSync) return;
  const int64_t min_clock = min_active_clock();
  for (PartitionState& p : owned_) MaybeApplyRound(p, min_clock);
  MaybeApplySparseRound(min_clock);
}

void ServerCore::TakeBack(size_t worker) {
  if (!worker_excluded_[worker]) return;
  worker_excluded_[worker] = false;
  stats_.set_workers_returned(stats_.workers_returned() + 1);
  int64_t round = clocks_[worker];
  for (const PartitionState& p : owned_) round = std::max(round, p.version);
  if (sparse_ != nullptr) round = std::max(round, sparse_round_.version);
  stats_.set_steps_missed(stats_.steps_missed() + static_cast<uint64_t>(round - clocks_[worker]));
  if (round != clocks_[worker]) ClearPartial(worker);  // chunks of a round gone by
  clocks_[worker] = round;
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

Status ServerCore::ValidateLayout(const proto::Header& h) const {
  if (h.layout_fingerprint() != config_.table->fingerprint()) {
    return InvalidArgument(KindName(h) + " from worker " + std::to_string(h.sender()) +
                           " uses a different model layout or placement (fingerprint mismatch)");
  }
  return Status::Ok();
}

Status ServerCore::ValidatePartitions(const proto::Header& h) const {
  RT_RETURN_IF_ERROR(ValidateLayout(h));
  // A block's push may touch none of the partitions here; it still moves the clock.
  // A push to a server with sparse tables may carry no keys either.
  const bool may_be_empty = (config_.block_sums || sparse_ != nullptr) && h.kind() == proto::PUSH;
  if (h.partitions_size() == 0 && h.sparse_size() == 0 && !may_be_empty) {
    return InvalidArgument(KindName(h) + " lists no partitions");
  }
  if (h.sparse_size() > 0) {
    if (sparse_ == nullptr)
      return InvalidArgument(KindName(h) + ": the model has no sparse tables");
  }
  // Partition slot i was listed by this message when listed_by_check_[i] == check (no set to
  // build and free for every request).
  const uint64_t check = ++partition_checks_;
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
    uint64_t& listed = listed_by_check_[static_cast<size_t>(slot_of_partition_[s.id()])];
    const bool twice = listed == check;
    listed = check;
    if (twice) {
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

void ServerCore::HandleForwarded(const std::string& peer, transport::Message msg,
                                 std::vector<Reply>* out) {
  forwarded_ = true;
  Handle(peer, &msg, out);
  forwarded_ = false;
}

void ServerCore::Handle(const std::string& peer, transport::Message msg, std::vector<Reply>* out) {
  Handle(peer, &msg, out);
}

void ServerCore::Handle(const std::string& peer, transport::Message* msg, std::vector<Reply>* out) {
  const proto::Header& h = msg->header;
  const std::optional<transport::RequestKind> request = transport::RequestOf(h.kind());
  if (!request.has_value()) {
    out->push_back(MakeError(peer, h, InvalidArgument(KindName(h) + " is not a request")));
    return;
  }
  // Counters are answered before the checks a reader of counters need not pass.
  if (*request == transport::RequestKind::kStats) {
    Reply r = NewReply(peer, h, proto::STATS_REPLY);
    *r.header.mutable_stats() = stats_;
    out->push_back(std::move(r));
    return;
  }
  if (Status s = ValidateCommon(h); !s.ok()) {
    out->push_back(MakeError(peer, h, s));
    return;
  }
  switch (*request) {
    case transport::RequestKind::kPush:
      HandlePush(peer, msg, out);
      return;
    case transport::RequestKind::kPull:
      HandlePull(peer, msg, out);
      return;
    case transport::RequestKind::kWorkerDone:
      HandleDone(peer, h, out);
      return;
    case transport::RequestKind::kJoin:
      HandleJoin(peer, h, out);
      return;
    case transport::RequestKind::kTask:
      HandleTask(peer, h, out);
      return;
    case transport::RequestKind::kMargins:
      HandleMargins(peer, *msg, out);
      return;
    case transport::RequestKind::kStats:  // answered above
      return;
  }
}

Status ServerCore::ValidateStreaming(const proto::Header& h, bool partitions_checked) const {
  if (!h.partial() && !h.pull_back()) return Status::Ok();
  if (config_.consistency != Consistency::kSync || sparse_ != nullptr || config_.block_sums ||
      h.sparse_size() > 0) {
    return InvalidArgument("PUSH from worker " + std::to_string(h.sender()) +
                           (h.partial() ? " in chunks" : " asking for a pull back") +
                           ": only a dense model's sync rounds without block sums stream (this "
                           "server: " +
                           ConsistencyName(config_.consistency) +
                           (sparse_ != nullptr ? ", sparse tables" : "") +
                           (config_.block_sums ? ", block sums" : "") + ")");
  }
  // What a pull back answers with: partitions owned here.
  if (!partitions_checked) RT_RETURN_IF_ERROR(ValidatePartitions(h));
  if (h.partitions_size() == 0) {
    return InvalidArgument("PUSH from worker " + std::to_string(h.sender()) +
                           " streams no partitions");
  }
  return Status::Ok();
}

Status ServerCore::ValidatePush(const transport::Message& msg,
                                std::vector<compress::ValidatedPayload>* payloads,
                                bool* ahead) const {
  const proto::Header& h = msg.header;
  RT_RETURN_IF_ERROR(ValidatePartitions(h));
  const size_t w = h.sender();
  // Message prefixes, built only when a check fails (this runs for every push).
  const auto from = [&] { return "PUSH from worker " + std::to_string(w); };
  const bool sync = config_.consistency == Consistency::kSync;
  RT_RETURN_IF_ERROR(ValidateStreaming(h, /*partitions_checked=*/true));  // above
  if (h.partial()) {
    if (h.clock() == clocks_[w] && partial_count_[w] > 0) {
      for (const proto::PartitionSlice& slice : h.partitions()) {
        const auto slot = static_cast<size_t>(slot_of_partition_[slice.id()]);
        if (partial_[w][slot] != 0) {
          return InvalidArgument(from() + " at clock " + std::to_string(h.clock()) +
                                 ": a chunk lists partition " + std::to_string(slice.id()) +
                                 ", which an earlier chunk of the push had");
        }
      }
    }
  } else if (h.clock() == clocks_[w] && partial_count_[w] > 0) {
    return InvalidArgument(from() + " at clock " + std::to_string(h.clock()) +
                           " is whole, but chunks of that push are in already");
  } else if (h.partitions_size() != static_cast<int>(owned_.size()) && !config_.block_sums) {
    return InvalidArgument(from() + " lists " + std::to_string(h.partitions_size()) +
                           " partitions; it must cover all " + std::to_string(owned_.size()) +
                           " owned by server " + std::to_string(config_.server_index));
  }
  if (worker_done_[w]) return InvalidArgument(from() + " after it finished");
  if (msg.codec.type != config_.codec) {
    return InvalidArgument(from() + " encoded with " +
                           proto::Codec_Name(transport::ToProto(msg.codec.type)) +
                           ", this job's codec is " + compress::CodecName(config_.codec));
  }
  if (!(std::isfinite(h.learning_rate()) && h.learning_rate() >= 0)) {
    return InvalidArgument(from() + " with learning rate " + std::to_string(h.learning_rate()));
  }
  if (h.clock() != clocks_[w]) {  // below it is a duplicate, acknowledged before validation
    return InvalidArgument("out-of-order " + from() + " at clock " + std::to_string(h.clock()) +
                           "; its next is " + std::to_string(clocks_[w]));
  }
  if (msg.payloads.size() != static_cast<size_t>(h.partitions_size())) {
    return InvalidArgument(from() + " carries " + std::to_string(msg.payloads.size()) +
                           " payloads for " + std::to_string(h.partitions_size()) + " partitions");
  }
  for (int i = 0; i < h.partitions_size(); ++i) {
    const proto::PartitionSlice& slice = h.partitions(i);
    const PartitionState* p = Find(slice.id());
    const auto part = [&] { return from() + " for partition " + std::to_string(p->id); };
    if (sync && h.clock() > p->version && slice.version() == h.clock()) {
      // A round this shard has not reached: it was restored and waits for other workers to
      // rejoin it. Held until then (HandlePush), once everything else checks out.
      *ahead = true;
    } else if (sync ? slice.version() != p->version
                    : slice.version() < 0 || slice.version() > p->version) {
      return InvalidArgument(part() + " computed at version " + std::to_string(slice.version()) +
                             ", partition is at version " + std::to_string(p->version));
    }
    if (sync && !*ahead && h.clock() != p->version) {
      return InvalidArgument(part() + " at clock " + std::to_string(h.clock()) +
                             ", partition is in round " + std::to_string(p->version));
    }
    // The one check of the payload's bytes, against the partition's real size; what it
    // returns is all HandlePush reads.
    StatusOr<compress::ValidatedPayload> payload =
        compress::ValidatePayload(msg.codec, msg.Bytes(static_cast<size_t>(i)), p->params.size());
    if (!payload.ok()) return InvalidArgument(part() + ": " + payload.status().message());
    payloads->push_back(std::move(payload).value());
  }
  if (sparse_ != nullptr && config_.consistency == Consistency::kSync) {
    // Every push is part of the sparse tables' round, with keys or without.
    if (h.clock() > sparse_round_.version) {
      *ahead = true;  // as for a partition (above)
    } else if (h.clock() != sparse_round_.version) {
      return InvalidArgument(from() + " at clock " + std::to_string(h.clock()) +
                             ", the sparse tables are in round " +
                             std::to_string(sparse_round_.version));
    }
  }
  if (h.sparse_size() > 0) {
    RT_RETURN_IF_ERROR(sparse_->ValidateKeys(msg));
    const int64_t version = sparse_round_.version;
    for (const proto::SparseSlice& slice : h.sparse()) {
      const bool valid =
          sync ? slice.version() == h.clock() : slice.version() >= 0 && slice.version() <= version;
      if (!valid) {
        return InvalidArgument(from() + " for sparse table " + std::to_string(slice.table()) +
                               " computed at version " + std::to_string(slice.version()) +
                               ", the sparse tables are at version " + std::to_string(version));
      }
    }
    RT_RETURN_IF_ERROR(sparse_->ValidatePush(static_cast<int>(w), msg, forwarded_));
  }
  return Status::Ok();
}

void ServerCore::HandlePush(const std::string& peer, transport::Message* pushed,
                            std::vector<Reply>* out) {
  transport::Message& msg = *pushed;
  const proto::Header& h = msg.header;
  if (h.layout_fingerprint() == config_.table->fingerprint()) TakeBack(h.sender());
  const size_t sender = h.sender();
  if (h.clock() >= 0 && h.clock() < clocks_[sender] &&
      h.layout_fingerprint() == config_.table->fingerprint()) {
    // A step this shard already has: a replacement worker, or a job restored from checkpoints,
    // replaying from the smallest clock any server holds for it. Acknowledged, not applied, so
    // no shard applies a step twice. What a pull back would answer is checked first.
    if (Status s = ValidateStreaming(h); !s.ok()) {
      out->push_back(MakeError(peer, h, s));
      return;
    }
    stats_.set_pushes_duplicate(stats_.pushes_duplicate() + 1);
    AnswerPush(peer, h, out);
    return;
  }
  if (h.partial() && h.clock() == clocks_[sender] && partial_count_[sender] > 0 &&
      ValidateStreaming(h).ok() &&
      std::all_of(
          h.partitions().begin(), h.partitions().end(), [&](const proto::PartitionSlice& slice) {
            return partial_[sender][static_cast<size_t>(slot_of_partition_[slice.id()])] != 0;
          })) {
    // A chunk this shard already has (sent again after a broken connection): answered again,
    // not applied.
    stats_.set_pushes_duplicate(stats_.pushes_duplicate() + 1);
    AnswerPush(peer, h, out);
    return;
  }
  std::vector<compress::ValidatedPayload> payloads;
  payloads.reserve(owned_.size());
  bool ahead = false;
  if (Status s = ValidatePush(msg, &payloads, &ahead); !s.ok()) {
    out->push_back(MakeError(peer, h, s));
    return;
  }
  const size_t w = h.sender();
  if (ahead) {
    // At most one push per worker (its next would be out of order until this one is
    // applied), or the chunks of one: no more than the partitions owned, all of one clock.
    std::deque<HeldPush>& held = held_push_[w];
    // The same push, or chunk, sent again after a broken connection (PsClient::Rejoin): it
    // takes the held one's place, so that its answer goes to the connection the worker has now
    // (a push is named by its clock, a chunk by its clock and partitions: the client sends a
    // chunk again exactly as it first did). A chunk that shares partitions with a held one
    // without being it is refused: applying both would apply a partition twice.
    const auto same_ids = [](const proto::Header& a, const proto::Header& b) {
      return std::equal(a.partitions().begin(), a.partitions().end(), b.partitions().begin(),
                        b.partitions().end(),
                        [](const proto::PartitionSlice& x, const proto::PartitionSlice& y) {
                          return x.id() == y.id();
                        });
    };
    const auto same = std::find_if(held.begin(), held.end(), [&](const HeldPush& p) {
      const proto::Header& ph = p.msg.header;
      return ph.clock() == h.clock() && ph.partial() == h.partial() &&
             (!h.partial() || same_ids(ph, h));
    });
    if (same != held.end()) {
      stats_.set_pushes_duplicate(stats_.pushes_duplicate() + 1);
      *same = HeldPush{peer, std::move(msg)};
      return;
    }
    bool overlaps = false;
    if (h.partial()) {
      std::vector<uint8_t> in_held(owned_.size(), 0);
      for (const HeldPush& p : held) {
        if (!p.msg.header.partial() || p.msg.header.clock() != h.clock()) continue;
        for (const proto::PartitionSlice& x : p.msg.header.partitions()) {
          in_held[static_cast<size_t>(slot_of_partition_[x.id()])] = 1;
        }
      }
      overlaps = std::any_of(h.partitions().begin(), h.partitions().end(),
                             [&](const proto::PartitionSlice& y) {
                               return in_held[static_cast<size_t>(slot_of_partition_[y.id()])] != 0;
                             });
    }
    const bool fits =
        !overlaps && (held.empty() || (h.partial() && held.front().msg.header.partial() &&
                                       held.front().msg.header.clock() == h.clock() &&
                                       held.size() < owned_.size()));
    if (!fits) {
      out->push_back(
          MakeError(peer, h,
                    InvalidArgument("PUSH from worker " + std::to_string(w) +
                                    (overlaps ? " sharing partitions with a held chunk it is not"
                                              : " while its previous one is held"))));
      return;
    }
    stats_.set_pushes_held(stats_.pushes_held() + 1);
    held.push_back(HeldPush{peer, std::move(msg)});
    return;
  }
  const bool dense = msg.codec.type == compress::CodecType::kNone;
  for (int i = 0; i < h.partitions_size(); ++i) {
    const proto::PartitionSlice& slice = h.partitions(i);
    PartitionState& p = *Find(slice.id());
    const compress::ValidatedPayload& payload = payloads[static_cast<size_t>(i)];
    stats_.set_payload_bytes_received(stats_.payload_bytes_received() + payload.bytes().size());
    if (config_.consistency == Consistency::kSync) {
      if (h.num_samples() > 0) {
        // Block sums add the blocks' gradients; otherwise weighted by their samples.
        const float n = config_.block_sums ? 1.0f : static_cast<float>(h.num_samples());
        if (dense) {
          // The validated frame, read in place as the floats DecodeMessage aligned: by the
          // round's apply if this push completes the round, else added to accum below.
          p.deferred = msg.Floats(static_cast<size_t>(i));
          p.deferred_weight = n;
          p.has_deferred = true;
        } else {
          if (p.accum_clear) std::fill(p.accum.begin(), p.accum.end(), 0.0f);
          compress::DecodeAdd(payload, p.accum, n);
          p.accum_clear = false;
        }
      }
    } else if (h.num_samples() > 0) {
      std::span<const float> g;
      if (dense) {
        g = msg.Floats(static_cast<size_t>(i));
      } else {
        std::span<float> decoded(scratch_.data(), p.params.size());
        compress::Decode(payload, decoded);
        g = decoded;
      }
      ApplyNow(p, slice, g, h);
    }
  }
  if (sparse_ != nullptr && h.sparse_size() > 0 && h.num_samples() > 0) {
    if (config_.consistency == Consistency::kSync) {
      sparse_->Accumulate(msg, static_cast<float>(h.num_samples()));
    } else {
      ApplySparseNow(msg);
    }
  }
  bool complete = true;
  if (h.partial()) {
    // A chunk: part of its partitions' rounds only; the clock moves with the last one.
    std::vector<uint8_t>& in = partial_[w];
    if (in.empty()) in.assign(owned_.size(), 0);
    for (const proto::PartitionSlice& slice : h.partitions()) {
      const auto slot = static_cast<size_t>(slot_of_partition_[slice.id()]);
      PartitionState& p = owned_[slot];
      p.samples += h.num_samples();
      p.pushes += 1;
      p.learning_rate = h.learning_rate();
      in[slot] = 1;
    }
    partial_count_[w] += static_cast<size_t>(h.partitions_size());
    complete = partial_count_[w] == owned_.size();
    if (complete) ClearPartial(w);
    stats_.set_push_chunks(stats_.push_chunks() + 1);
  }
  if (complete) clocks_[w] += 1;
  if (config_.consistency == Consistency::kSync) {
    // The push is part of every owned partition's round, listed or not (block sums), and of
    // the sparse tables' round, with keys or without.
    for (PartitionState& p : owned_) {
      if (h.partial()) break;  // counted above
      p.samples += h.num_samples();
      p.pushes += 1;
      p.learning_rate = h.learning_rate();
    }
    if (sparse_ != nullptr) {
      sparse_round_.samples += h.num_samples();
      sparse_round_.pushes += 1;
      sparse_round_.learning_rate = h.learning_rate();
    }
    const int64_t min_clock = min_active_clock();
    for (PartitionState& p : owned_) {
      MaybeApplyRound(p, min_clock);
      AddDeferred(p);  // the frame is not kept: a round still open sums it now
    }
    MaybeApplySparseRound(min_clock);
  }
  if (sparse_ != nullptr) sparse_->CountInto(&stats_);
  if (complete) stats_.set_pushes_accepted(stats_.pushes_accepted() + 1);

  AnswerPush(peer, h, out);
  ReleaseHeldPushes(out);
  AnswerReadyPulls(out);
}

void ServerCore::AnswerPush(const std::string& peer, const proto::Header& push,
                            std::vector<Reply>* out) {
  // A forwarded push's answer is the primary's to give (a copy's replies are dropped): nothing
  // is parked for it here.
  if (!push.pull_back() || forwarded_) {
    out->push_back(NewReply(peer, push, proto::PUSH_ACK));
    return;
  }
  // The pull the worker would send next, for these partitions: answered now, or parked like one.
  // (A pull back is of a dense model's sync round, ValidateStreaming: its partitions decide.)
  if (config_.consistency == Consistency::kSync && PartitionsAt(push, push.clock() + 1)) {
    out->push_back(MakePartitionsReply(peer, push, push.clock() + 1));
    stats_.set_pulls_answered(stats_.pulls_answered() + 1);
    return;
  }
  transport::Message pull;
  proto::Header& h = pull.header;
  h.set_kind(proto::PULL);
  h.set_job(push.job());
  h.set_sender(push.sender());
  h.set_request_id(push.request_id());
  h.set_layout_fingerprint(push.layout_fingerprint());
  h.set_clock(push.clock() + 1);
  h.set_shared_ok(push.shared_ok());  // the worker can read this server's shared memory
  if (push.has_detour()) *h.mutable_detour() = push.detour();
  for (const proto::PartitionSlice& slice : push.partitions()) {
    proto::PartitionSlice* s = h.add_partitions();
    s->set_id(slice.id());
    s->set_num_elements(slice.num_elements());
  }
  stats_.set_pulls_parked(stats_.pulls_parked() + 1);
  pending_.push_back(ParkedPull{peer, std::move(pull)});
}

void ServerCore::ReleaseHeldPushes(std::vector<Reply>* out) {
  if (config_.consistency != Consistency::kSync || (owned_.empty() && sparse_ == nullptr)) return;
  for (std::deque<HeldPush>& held : held_push_) {
    while (!held.empty() && held.front().msg.header.clock() <= RoundVersion()) {
      HeldPush push = std::move(held.front());
      held.pop_front();
      HandlePush(push.peer, &push.msg, out);
    }
  }
}

void ServerCore::ApplyNow(PartitionState& p, const proto::PartitionSlice& slice,
                          std::span<const float> g, const proto::Header& h) {
  const int64_t tau = p.version - slice.version();
  stats_.set_staleness_sum(stats_.staleness_sum() + static_cast<uint64_t>(tau));
  stats_.set_staleness_max(std::max<uint64_t>(stats_.staleness_max(), static_cast<uint64_t>(tau)));
  stats_.set_staleness_count(stats_.staleness_count() + 1);
  // One push is one worker's share of a global step: the rate is divided by the workers (as a
  // sync round weighs each worker's gradient), or by the push's measured staleness.
  float lr = h.learning_rate();
  if (config_.staleness_aware_lr) {
    if (tau > 1) lr /= static_cast<float>(tau);
  } else {
    lr /= static_cast<float>(config_.num_workers);
  }
  p.optimizer_steps += 1;
  config_.optimizer->Apply(lr, p.optimizer_steps, g, Writable(p), p.optimizer_state);
  p.version += 1;
  stats_.set_updates_applied(stats_.updates_applied() + 1);
}

void ServerCore::ApplySparseNow(const transport::Message& msg) {
  const proto::Header& h = msg.header;
  // The staleness of the push's keys: updates applied to the sparse tables since the version
  // they were computed from (every slice of a push says the same; the first is taken).
  const int64_t tau = sparse_round_.version - h.sparse(0).version();
  float lr = h.learning_rate();
  if (config_.staleness_aware_lr) {
    if (tau > 1) lr /= static_cast<float>(tau);
  } else {
    lr /= static_cast<float>(config_.num_workers);
  }
  sparse_->ApplyNow(msg, lr);
  sparse_round_.version += 1;
  stats_.set_updates_applied(stats_.updates_applied() + 1);
}

void ServerCore::MaybeApplySparseRound(int64_t min_clock) {
  if (sparse_ == nullptr || sparse_round_.pushes == 0 || min_clock <= sparse_round_.version) {
    return;
  }
  if (sparse_round_.samples > 0) {
    sparse_->ApplyRound(sparse_round_.learning_rate, static_cast<float>(sparse_round_.samples));
    stats_.set_updates_applied(stats_.updates_applied() + 1);
  } else {
    sparse_->ClearRound();
  }
  sparse_round_.pushes = 0;
  sparse_round_.samples = 0;
  sparse_round_.version += 1;
  sparse_->CountInto(&stats_);
}

std::span<float> ServerCore::Writable(PartitionState& p) {
  bool copied = false;
  std::span<float> params = p.params.MutableContents(&copied);
  if (copied) stats_.set_param_copies(stats_.param_copies() + 1);
  return params;
}

void ServerCore::MaybeApplyRound(PartitionState& p, int64_t min_clock) {
  // A worker that pushed to the round and then finished leaves its gradient in and no longer
  // counts in min_clock.
  if (p.pushes == 0 || (min_clock <= p.version && !PushedInChunks(p))) return;
  if (p.samples > 0) {
    // The mean (sum / samples), scaled as the optimizer reads the sum: one pass, not two.
    const float scale = config_.block_sums ? 1.0f : 1.0f / static_cast<float>(p.samples);
    p.optimizer_steps += 1;
    if (p.has_deferred) {
      // The completing push's gradient read from its frame, added to the sum as it is read.
      const std::span<const float> sum =
          p.accum_clear ? std::span<const float>() : std::span<const float>(p.accum);
      config_.optimizer->ApplySum(p.learning_rate, p.optimizer_steps, scale, sum, p.deferred_weight,
                                  p.deferred, Writable(p), p.optimizer_state);
    } else {
      // A round whose pushes listed no gradient for this partition (block sums) applies zeros.
      if (p.accum_clear) std::fill(p.accum.begin(), p.accum.end(), 0.0f);
      config_.optimizer->ApplyScaled(p.learning_rate, p.optimizer_steps, scale, p.accum,
                                     Writable(p), p.optimizer_state);
    }
    stats_.set_updates_applied(stats_.updates_applied() + 1);
  }
  p.has_deferred = false;  // applied, or (no samples) nothing to add
  p.deferred = {};
  p.accum_clear = true;  // the next round's first sum overwrites it
  p.pushes = 0;
  p.samples = 0;
  p.version += 1;
}

void ServerCore::AddDeferred(PartitionState& p) {
  if (!p.has_deferred) return;
  // The round's first sum overwrites what the last round left: 0 + n * g, as adding to zeros
  // gave (a -0 gradient sums to +0, as in a copy restored with zeros).
  const std::span<const float> g = p.deferred;
  const float n = p.deferred_weight;
  if (p.accum_clear) {
    for (size_t k = 0; k < g.size(); ++k) p.accum[k] = 0.0f + n * g[k];
  } else {
    for (size_t k = 0; k < g.size(); ++k) p.accum[k] += n * g[k];
  }
  p.accum_clear = false;
  p.has_deferred = false;
  p.deferred = {};
}

void ServerCore::HandlePull(const std::string& peer, transport::Message* pulled,
                            std::vector<Reply>* out) {
  transport::Message& msg = *pulled;
  const proto::Header& request = msg.header;
  Status s = ValidatePartitions(request);
  if (s.ok() && request.sparse_size() > 0) s = sparse_->ValidateKeys(msg);
  if (s.ok() && request.clock() < 0) s = InvalidArgument("PULL with negative clock");
  // A worker's clock is the pushes it has made; a pull claiming more could never be answered
  // and would sit parked forever.
  const size_t w = request.sender();
  const int64_t pushed = clocks_[w] + (held_push_[w].empty() ? 0 : 1);
  if (s.ok() && request.clock() > pushed) {
    s = InvalidArgument("PULL at clock " + std::to_string(request.clock()) + " from worker " +
                        std::to_string(w) + ", which has pushed " + std::to_string(pushed) +
                        " steps");
  }
  if (!s.ok()) {
    out->push_back(MakeError(peer, request, s));
    return;
  }
  if (request.sparse_size() > 0) sparse_->RecordPull(static_cast<int>(w), msg);
  if (PullReady(request, request.clock())) {
    out->push_back(MakePullReply(peer, msg));
  } else {
    stats_.set_pulls_parked(stats_.pulls_parked() + 1);
    pending_.push_back(ParkedPull{peer, std::move(msg)});
  }
}

void ServerCore::HandleDone(const std::string& peer, const proto::Header& request,
                            std::vector<Reply>* out) {
  const size_t w = request.sender();
  TakeBack(w);
  if (!worker_done_[w]) {
    worker_done_[w] = true;
    ClearPartial(w);  // its chunks stay in their rounds
    ++workers_done_;
    stats_.set_workers_done(static_cast<uint32_t>(workers_done_));
    // Rounds that waited only for this worker are complete now.
    ApplyRoundsWaitingForNobody();
    if (margins_.has_value() && margins_->Complete(worker_done_)) AnswerMargins(out);
  }
  Reply ack = NewReply(peer, request, proto::DONE_ACK);
  out->push_back(std::move(ack));
  ReleaseHeldPushes(out);
  AnswerReadyPulls(out);
}

void ServerCore::HandleJoin(const std::string& peer, const proto::Header& request,
                            std::vector<Reply>* out) {
  if (Status s = ValidateLayout(request); !s.ok()) {
    out->push_back(MakeError(peer, request, s));
    return;
  }
  if (request.clock() < 0) {
    out->push_back(MakeError(peer, request, InvalidArgument("JOIN with negative clock")));
    return;
  }
  const size_t w = request.sender();
  TakeBack(w);
  // A worker process that starts holds no task: its predecessor's goes back. A rejoin after a
  // broken connection keeps the task the worker is reading.
  if (request.first_join()) ReturnLease(w);
  if (!worker_done_[w] && request.clock() > clocks_[w]) {
    stats_.set_pushes_lost(stats_.pushes_lost() +
                           static_cast<uint64_t>(request.clock() - clocks_[w]));
    clocks_[w] = request.clock();
    ClearPartial(w);  // a push at a clock it moved past
    if (config_.consistency == Consistency::kSync) FastForwardRounds();
  }
  ReleaseHeldPushes(out);
  stats_.set_joins(stats_.joins() + 1);
  Reply r = NewReply(peer, request, proto::JOIN_REPLY);
  r.header.set_clock(clocks_[w]);
  r.header.set_worker_done(worker_done_[w]);
  out->push_back(std::move(r));
  AnswerReadyPulls(out);
}

void ServerCore::ReturnLease(size_t worker) {
  if (queue_.has_value() && queue_->Return(static_cast<int>(worker))) CountQueue();
}

void ServerCore::CountQueue() {
  const ckpt::DataQueueState& q = queue_->state();
  stats_.set_tasks_handed_out(q.handed_out);
  stats_.set_tasks_finished(q.finished);
  stats_.set_tasks_requeued(q.requeued);
  stats_.set_tasks_finished_again(q.finished_again);
}

void ServerCore::HandleTask(const std::string& peer, const proto::Header& request,
                            std::vector<Reply>* out) {
  if (!queue_.has_value()) {
    out->push_back(
        MakeError(peer, request,
                  FailedPrecondition("TASK to server " + std::to_string(config_.server_index) +
                                     ", which does not keep the data queue")));
    return;
  }
  const proto::TaskInfo& t = request.task();
  std::optional<DataQueue::Lease> finished;
  if (t.finished()) finished = DataQueue::Lease{t.finished_epoch(), t.finished_position(), -1};
  const size_t w = request.sender();
  StatusOr<TaskAnswer> answer =
      queue_->Next(static_cast<int>(w), t.tasks(), static_cast<int>(t.epochs()), finished);
  if (!answer.ok()) {
    out->push_back(MakeError(peer, request, answer.status()));
    return;
  }
  CountQueue();
  Reply r = NewReply(peer, request, proto::TASK_REPLY);
  proto::TaskInfo* reply = r.header.mutable_task();
  switch (answer->kind) {
    case TaskAnswer::Kind::kLease:
      reply->set_answer(proto::TASK_LEASE);
      reply->set_epoch(answer->epoch);
      reply->set_position(answer->position);
      break;
    case TaskAnswer::Kind::kWait:
      reply->set_answer(proto::TASK_WAIT);
      break;
    case TaskAnswer::Kind::kEnd:
      reply->set_answer(proto::TASK_END);
      break;
  }
  out->push_back(std::move(r));
}

void ServerCore::HandleMargins(const std::string& peer, const transport::Message& msg,
                               std::vector<Reply>* out) {
  const proto::Header& h = msg.header;
  if (!margins_.has_value()) {
    out->push_back(
        MakeError(peer, h,
                  FailedPrecondition("MARGINS to server " + std::to_string(config_.server_index) +
                                     ", which does not sum margins")));
    return;
  }
  if (Status s = ValidateLayout(h); !s.ok()) {
    out->push_back(MakeError(peer, h, s));
    return;
  }
  if (h.margin_cols() != static_cast<uint32_t>(margins_->cols())) {
    out->push_back(
        MakeError(peer, h,
                  InvalidArgument("MARGINS from worker " + std::to_string(h.sender()) + " with " +
                                  std::to_string(h.margin_cols()) + " columns; the model has " +
                                  std::to_string(margins_->cols()) + " classes")));
    return;
  }
  StatusOr<MarginRounds::Answer> answer = margins_->Add(
      static_cast<int>(h.sender()), h.clock(), h.margin_rows(), msg.Floats(0), worker_done_);
  if (!answer.ok()) {
    out->push_back(MakeError(peer, h, answer.status()));
    return;
  }
  switch (*answer) {
    case MarginRounds::Answer::kRepeat:
      stats_.set_margins_repeated(stats_.margins_repeated() + 1);
      out->push_back(MakeMarginsReply(peer, h, margins_->Kept(h.clock())));
      return;
    case MarginRounds::Answer::kWait:
      margin_waiters_.push_back(PendingPull{peer, h});
      return;
    case MarginRounds::Answer::kComplete:
      margin_waiters_.push_back(PendingPull{peer, h});
      AnswerMargins(out);
      return;
  }
}

void ServerCore::AnswerMargins(std::vector<Reply>* out) {
  stats_.set_margin_rounds(stats_.margin_rounds() + 1);
  for (const PendingPull& waiting : margin_waiters_) {
    out->push_back(MakeMarginsReply(waiting.peer, waiting.request, margins_->sum()));
  }
  margin_waiters_.clear();
}

Reply ServerCore::MakeMarginsReply(const std::string& peer, const proto::Header& request,
                                   std::span<const float> sum) {
  Reply r = NewReply(peer, request, proto::MARGINS_REPLY);
  r.header.set_clock(request.clock());
  r.header.set_margin_rows(request.margin_rows());
  r.header.set_margin_cols(request.margin_cols());
  r.payloads.emplace_back(sum.data(), sum.size_bytes());
  return r;
}

void ServerCore::FastForwardRounds() {
  const int64_t min_clock = min_active_clock();
  if (min_clock == INT64_MAX) return;
  for (PartitionState& p : owned_) {
    // The round in progress is applied with the pushes it has (as when a worker finishes);
    // the rounds after it, which no unfinished worker will ever push to, are skipped.
    MaybeApplyRound(p, min_clock);
    if (p.pushes == 0 && p.version < min_clock) p.version = min_clock;
  }
  if (sparse_ != nullptr) {
    MaybeApplySparseRound(min_clock);
    if (sparse_round_.pushes == 0 && sparse_round_.version < min_clock) {
      sparse_round_.version = min_clock;
    }
  }
}

bool ServerCore::PartitionsAt(const proto::Header& request, int64_t clock) const {
  for (const proto::PartitionSlice& s : request.partitions()) {
    if (Find(s.id())->version < clock) return false;
  }
  return true;
}

bool ServerCore::PullReady(const proto::Header& request, int64_t clock) const {
  if (request.final_model()) return finished();
  switch (config_.consistency) {
    case Consistency::kSync:
      return PartitionsAt(request, clock) &&
             (request.sparse_size() == 0 || sparse_round_.version >= clock);
    case Consistency::kAsync:
      return true;
    case Consistency::kSsp:
      return min_active_clock() >= clock - config_.staleness;
  }
  return true;
}

size_t ServerCore::DropParked() {
  size_t n = pending_.size() + margin_waiters_.size();
  pending_.clear();
  margin_waiters_.clear();
  for (std::deque<HeldPush>& held : held_push_) {
    n += held.size();
    held.clear();
  }
  return n;
}

void ServerCore::AnswerReadyPulls(std::vector<Reply>* out) {
  auto it = pending_.begin();
  while (it != pending_.end()) {
    if (PullReady(it->msg.header, it->msg.header.clock())) {
      out->push_back(MakePullReply(it->peer, it->msg));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

Reply ServerCore::MakePullReply(const std::string& peer, const transport::Message& msg) {
  const proto::Header& request = msg.header;
  Reply r = MakePartitionsReply(peer, request, request.clock());
  if (request.sparse_size() > 0) {
    sparse_->AnswerPull(msg, sparse_round_.version, &r.header, &r.payloads);
    sparse_->CountInto(&stats_);
  }
  stats_.set_pulls_answered(stats_.pulls_answered() + 1);
  return r;
}

Reply ServerCore::MakePartitionsReply(const std::string& peer, const proto::Header& request,
                                      int64_t clock) {
  const int64_t slowest = min_active_clock();
  if (slowest != INT64_MAX && clock > slowest) {
    stats_.set_max_clock_lead(
        std::max<uint64_t>(stats_.max_clock_lead(), static_cast<uint64_t>(clock - slowest)));
  }
  Reply r = NewReply(peer, request, proto::PULL_REPLY);
  r.header.set_codec(proto::CODEC_NONE);
  r.header.set_layout_fingerprint(config_.table->fingerprint());
  r.header.set_shared_ok(request.shared_ok());
  r.payloads.reserve(static_cast<size_t>(request.partitions_size()));
  for (const proto::PartitionSlice& s : request.partitions()) {
    const PartitionState& p = *Find(s.id());
    proto::PartitionSlice* slice = r.header.add_partitions();
    slice->set_id(p.id);
    slice->set_num_elements(p.params.size());
    slice->set_payload_bytes(p.params.size() * sizeof(float));
    slice->set_version(p.version);
    // No copy: the frame holds the buffer, and the next update copies it if still queued.
    r.payloads.push_back(p.params.Frame());
  }
  return r;
}

}  // namespace ringtrain::ps
