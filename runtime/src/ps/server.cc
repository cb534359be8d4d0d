#include "ringtrain/ps/server.h"

#include <algorithm>
#include <optional>
#include <random>
#include <utility>

#include "ringtrain/transport/message.h"
#include "ringtrain/transport/message_kind.h"
#include "ringtrain/transport/socket_options.h"

namespace ringtrain::ps {

namespace {

// Room for the header and ZeroMQ framing above the payload of a message listing every
// partition the server owns.
constexpr int64_t kHeaderAllowance = 1 << 20;

// A random number naming this server process in its replies (Header.incarnation); never 0.
uint64_t NewIncarnation() {
  std::random_device rd;
  const uint64_t n = (static_cast<uint64_t>(rd()) << 32) | rd();
  return n == 0 ? 1 : n;
}

}  // namespace

int64_t LargestSparseFrame(const ring::PartitionTable& table) {
  uint64_t largest = 0;
  for (const ring::SparseTableSpec& t : table.sparse().tables()) {
    const uint64_t values = std::min(transport::kMaxSparseKeys * static_cast<uint64_t>(t.dim),
                                     transport::kMaxSparseValues);
    largest =
        std::max({largest, transport::kMaxSparseKeys * sizeof(uint64_t), values * sizeof(float)});
  }
  return static_cast<int64_t>(largest);
}

StatusOr<std::unique_ptr<ParameterServer>> ParameterServer::Bind(zmq::context_t& context,
                                                                 const ServerOptions& options,
                                                                 std::unique_ptr<ServerCore> core,
                                                                 Replication replication) {
  int64_t max_size = options.max_message_size;
  if (max_size <= 0) {
    max_size = core->owned_elements() * static_cast<int64_t>(sizeof(float)) + kHeaderAllowance;
    const int64_t sparse = LargestSparseFrame(*core->config().table);
    if (sparse > 0) max_size = std::max(max_size, sparse + kHeaderAllowance);
  }
  if (!options.direct_path.empty() && options.credentials != nullptr) {
    return InvalidArgument("a parameter server with credentials takes no direct links (" +
                           options.direct_path + "): they are not authenticated by CURVE");
  }
  try {
    zmq::socket_t socket(context, zmq::socket_type::router);
    RT_RETURN_IF_ERROR(
        transport::ApplySocketOptions(socket, transport::ServerSocketOptions(max_size)));
    if (options.credentials != nullptr) {
      RT_RETURN_IF_ERROR(auth::ApplyServer(socket, *options.credentials));
    }
    try {
      socket.bind(options.bind_endpoint);
    } catch (const zmq::error_t& e) {
      return Unavailable("cannot bind parameter server to " + options.bind_endpoint + ": " +
                         e.what());
    }
    RT_ASSIGN_OR_RETURN(std::string endpoint, transport::LastEndpoint(socket));
    const int workers = core->config().num_workers;
    auto server = std::unique_ptr<ParameterServer>(new ParameterServer(
        std::move(core), std::move(socket), std::move(endpoint), options, std::move(replication)));
    if (!options.direct_path.empty()) {
      // Two links a worker (one of a worker that came back, before its old one is seen
      // closed), and a few more.
      StatusOr<std::unique_ptr<DirectPeers>> direct =
          DirectPeers::Listen(options.direct_path, static_cast<uint64_t>(max_size),
                              2 * static_cast<size_t>(workers) + 8);
      if (direct.ok()) {
        server->direct_ = std::move(direct).value();
      } else {
        server->Log("no direct links (" + direct.status().ToString() +
                    "): workers on this host use the ZeroMQ socket alone");
      }
    }
    return server;
  } catch (const zmq::error_t& e) {
    return Internal(std::string("creating parameter server socket: ") + e.what());
  }
}

ParameterServer::ParameterServer(std::unique_ptr<ServerCore> core, zmq::socket_t socket,
                                 std::string endpoint, const ServerOptions& options,
                                 Replication replication)
    : core_(std::move(core)),
      socket_(std::move(socket)),
      endpoint_(std::move(endpoint)),
      poll_interval_(options.poll_interval),
      interrupted_(options.interrupted),
      between_messages_(options.between_messages),
      final_linger_(options.final_linger),
      final_wait_(options.final_wait),
      max_deferred_(options.max_deferred),
      worker_timeout_(options.worker_timeout),
      log_(options.log),
      authenticated_(options.credentials != nullptr),
      last_heard_(static_cast<size_t>(core_->config().num_workers),
                  std::chrono::steady_clock::now()),
      heard_(static_cast<size_t>(core_->config().num_workers), false),
      replication_(std::move(replication)),
      incarnation_(NewIncarnation()) {
  if (options.shared_memory) {
    publisher_ =
        std::make_unique<PullPublisher>(core_->config().table, core_->config().server_index, log_);
    push_reader_ = std::make_unique<SharedPushReader>(core_->config().num_workers);
  }
}

ParameterServer::~ParameterServer() = default;

StatusOr<FetchOutcome> ParameterServer::FetchShard() {
  if (replication_.backup == nullptr) {
    FetchOutcome none;
    none.why = "no replication";
    return none;
  }
  return replication_.backup->Fetch(core_.get(), [this] { return Drain(/*defer=*/true); });
}

Status ParameterServer::Drain(bool defer) {
  while (true) {
    bool received = false;
    RT_RETURN_IF_ERROR(transport::ReceiveMultipart(socket_, &frames_, &received));
    if (!received) return Status::Ok();
    HandleFrames(frames_, defer);
    ReleaseReceived();
    if (!defer && between_messages_) between_messages_(*core_);
  }
}

Status ParameterServer::ReceiveOne() {
  bool received = false;
  RT_RETURN_IF_ERROR(transport::ReceiveMultipart(socket_, &frames_, &received, /*wait=*/true));
  if (received) {
    HandleFrames(frames_, /*defer=*/false);
    ReleaseReceived();
  }
  if (between_messages_) between_messages_(*core_);
  return Status::Ok();
}

bool ParameterServer::Done(std::chrono::steady_clock::time_point* finished_at) const {
  if (!core_->finished()) return false;
  const bool backup_busy = replication_.backup != nullptr && replication_.backup->holding();
  // The copy of the predecessor's shard waits for its last forwards, or, served here since
  // the predecessor was lost, to be handed back to its replacement.
  const bool copy_busy = replication_.replica != nullptr && replication_.replica->synced() &&
                         (!replication_.replica->finished() || replication_.replica->serving());
  if (!backup_busy && !copy_busy) return true;
  const auto now = std::chrono::steady_clock::now();
  if (*finished_at == std::chrono::steady_clock::time_point{}) *finished_at = now;
  return now - *finished_at >= final_wait_;
}

void ParameterServer::SendReplies(std::vector<Reply>* replies) {
  for (Reply& r : *replies) {
    uint64_t sent = 0;
    if (publisher_ != nullptr) {
      publisher_->Publish(core_->generation(), &r);
    } else {
      r.header.clear_shared_ok();
    }
    r.header.set_incarnation(incarnation_);
    // A peer that went away cannot be answered; its request is simply forgotten.
    if (direct_ != nullptr && DirectPeers::Names(r.peer)) {
      direct_->Send(r.peer, &r.header, r.payloads, &sent).IgnoreError();
    } else {
      transport::SendMessage(socket_, &r.peer, &r.header, r.payloads, &sent).IgnoreError();
    }
    core_->CountSent(sent);
  }
  replies->clear();
}

Status ParameterServer::Serve() {
  // Nobody is silent for having waited while this server fetched its shard.
  std::fill(last_heard_.begin(), last_heard_.end(), std::chrono::steady_clock::now());
  // Requests that came while FetchShard() waited, in their order.
  for (auto& [peer, msg] : deferred_) HandleRequest(peer, &msg);
  deferred_.clear();
  std::vector<zmq::pollitem_t> items{{socket_.handle(), 0, ZMQ_POLLIN, 0}};
  if (replication_.backup != nullptr) {
    items.push_back({replication_.backup->socket().handle(), 0, ZMQ_POLLIN, 0});
    items.push_back({replication_.backup->monitor().handle(), 0, ZMQ_POLLIN, 0});
  }
  // With the one socket to serve, the wait is libzmq's own receive (at most poll_interval):
  // it takes a queued message without a system call and sleeps on the socket's signal
  // otherwise, where zmq_poll and a receive to the end of the queue make three or four
  // system calls more a message (a fifth of the time of a round trip of a few KiB).
  const bool receive_waits = items.size() == 1 && direct_ == nullptr;
  // The direct links' items follow (the listener's, then one a connection), made again for
  // every poll: connections come and go.
  const size_t base = items.size();
  if (receive_waits) {
    try {
      socket_.set(zmq::sockopt::rcvtimeo, static_cast<int>(poll_interval_.count()));
    } catch (const zmq::error_t& e) {
      return Internal(std::string("setting the receive timeout: ") + e.what());
    }
  }
  std::chrono::steady_clock::time_point finished_at{};
  while (!stop_.load() && !Done(&finished_at) &&
         (interrupted_ == nullptr || interrupted_->load() == 0)) {
    if (receive_waits) {
      RT_RETURN_IF_ERROR(ReceiveOne());
      RT_RETURN_IF_ERROR(ExcludeSilentWorkers());
      continue;
    }
    if (direct_ != nullptr) {
      items.resize(base);
      direct_->AddPollItems(&items);
    }
    try {
      // Whole messages a link has read already are not announced by its socket: no wait then.
      const bool buffered = direct_ != nullptr && direct_->has_buffered();
      zmq::poll(items.data(), items.size(),
                buffered ? std::chrono::milliseconds(0) : poll_interval_);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      return Unavailable(std::string("poll failed: ") + e.what());
    }
    if (between_messages_) between_messages_(*core_);
    if (replication_.backup != nullptr) {
      RT_RETURN_IF_ERROR(replication_.backup->Poll(*core_, &replies_));
      SendReplies(&replies_);
    }
    // Drain everything queued before polling again.
    RT_RETURN_IF_ERROR(Drain(/*defer=*/false));
    if (direct_ != nullptr) {
      const size_t refused =
          direct_->Service(std::span<const zmq::pollitem_t>(items).subspan(base),
                           [this](std::vector<zmq::message_t> frames) {
                             proto::ServerStats& stats = core_->mutable_stats();
                             stats.set_messages_direct(stats.messages_direct() + 1);
                             HandleFrames(frames, /*defer=*/false, /*direct=*/true);
                             msg_.ReleaseFrames();
                             if (between_messages_) between_messages_(*core_);
                           });
      for (size_t i = 0; i < refused; ++i) core_->CountUndecodable(0);
    }
    RT_RETURN_IF_ERROR(ExcludeSilentWorkers());
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

void ParameterServer::HandleFrames(std::span<zmq::message_t> frames, bool defer, bool direct) {
  uint64_t bytes = 0;
  for (const auto& f : frames) bytes += f.size();
  // A ROUTER always prepends the routing id; anything shorter is not a request.
  if (frames.size() < 2) {
    core_->CountUndecodable(bytes);
    return;
  }
  std::string& peer = peer_;
  peer.assign(static_cast<const char*>(frames[0].data()), frames[0].size());
  // A ZeroMQ peer naming itself as a direct link would have its replies sent to that link.
  if (!direct && DirectPeers::Names(peer)) {
    core_->CountUndecodable(bytes);
    return;
  }
  // Who sent it, as the connection's key says (read before the frames are consumed).
  const std::optional<auth::Identity> sender =
      authenticated_ ? auth::SenderOf(frames[1]) : std::nullopt;
  transport::Message* msg = &msg_;
  if (!transport::DecodeMessage(frames.subspan(1), msg).ok()) {
    core_->CountUndecodable(bytes);
    return;
  }
  core_->CountReceived(bytes);
  if (authenticated_ && (!sender.has_value() || !Authorized(*sender, msg->header))) {
    CountUnauthorized(sender, msg->header);
    return;
  }
  // A push's encoded sparse gradients, decoded once the sender may send it.
  if (!transport::DecodeSparseValues(msg).ok()) {
    CountDropped();
    return;
  }
  if (transport::HasSharedPartitions(msg->header)) {
    // Only a worker's own PUSH may name its memory; a forward to a backup carries frames.
    if (transport::IsReplication(msg->header.kind()) || msg->header.has_replica()) {
      CountDropped();
      return;
    }
    if (!ReadSharedPush(peer, msg)) return;
  }
  if (transport::IsReplication(msg->header.kind()) || msg->header.has_replica()) {
    // Another server's: the copy this server keeps of its predecessor's shard.
    if (replication_.replica == nullptr) {
      CountDropped();
      return;
    }
    replies_.clear();
    replication_.replica->Handle(peer, std::move(*msg), &replies_);
    SendReplies(&replies_);
    return;
  }
  if (msg->header.has_detour()) {
    // A worker's request for the predecessor's shard, which may be served here (failover).
    replies_.clear();
    if (replication_.replica != nullptr) {
      // It answers NOT_SERVING itself for another server's shard or before a takeover.
      replication_.replica->HandleDetour(peer, std::move(*msg), &replies_);
    } else {
      proto::ServerStats& stats = core_->mutable_stats();
      stats.set_detours_refused(stats.detours_refused() + 1);
      replies_.push_back(ReplicaShard::NotServing(peer, msg->header, core_->config().job));
    }
    SendReplies(&replies_);
    return;
  }
  if (defer) {
    if (deferred_.size() < max_deferred_) {
      deferred_.emplace_back(peer, std::move(*msg));
    } else {
      CountDropped();
    }
    return;
  }
  HandleRequest(peer, msg);
}

void ParameterServer::ReleaseReceived() {
  frames_.clear();
  msg_.ReleaseFrames();
}

bool ParameterServer::ReadSharedPush(const std::string& peer, transport::Message* msg) {
  const Status read = push_reader_ != nullptr
                          ? push_reader_->Resolve(msg)
                          : FailedPrecondition("this server does not read shared memory");
  if (read.ok()) return true;
  CountDropped();
  constexpr uint64_t kLogged = 10;
  if (shared_refused_logged_ < kLogged) {
    ++shared_refused_logged_;
    Log("refused " + read.ToString() + "; asked for it with frames" +
        (shared_refused_logged_ == kLogged ? " (further ones are only counted)" : ""));
  }
  replies_.clear();
  Reply& r = replies_.emplace_back();
  r.peer = peer;
  r.header.set_kind(proto::ERROR);
  r.header.set_job(core_->config().job);
  r.header.set_sender(static_cast<uint32_t>(core_->config().server_index));
  r.header.set_request_id(msg->header.request_id());
  r.header.set_error(read.message());
  r.header.set_shared_refused(true);
  SendReplies(&replies_);
  return false;
}

void ParameterServer::CountDropped() {
  proto::ServerStats& stats = core_->mutable_stats();
  stats.set_messages_dropped(stats.messages_dropped() + 1);
}

void ParameterServer::CountUnauthorized(const std::optional<auth::Identity>& sender,
                                        const proto::Header& h) {
  proto::ServerStats& stats = core_->mutable_stats();
  stats.set_messages_unauthorized(stats.messages_unauthorized() + 1);
  constexpr uint64_t kLogged = 10;
  if (unauthorized_logged_ >= kLogged) return;
  ++unauthorized_logged_;
  Log("dropped " + transport::KindName(h.kind()) + " claiming sender " +
      std::to_string(h.sender()) + " from " +
      (sender.has_value() ? auth::Name(*sender) : std::string("an unauthenticated peer")) +
      ", which may not send it" +
      (unauthorized_logged_ == kLogged ? " (further ones are only counted)" : ""));
}

bool Authorized(const auth::Identity& sender, const proto::Header& h) {
  using auth::Identity;
  if (transport::IsReplication(h.kind()) || h.has_replica()) {
    if (h.kind() == proto::REPLICA_TAKEOVER) return sender == Identity::Supervisor();
    return h.has_replica() && h.replica().server() <= uint32_t{INT32_MAX} &&
           sender == Identity::Server(static_cast<int>(h.replica().server()));
  }
  const std::optional<transport::RequestKind> request = transport::RequestOf(h.kind());
  if (!request.has_value()) return false;
  if (*request == transport::RequestKind::kStats) return true;
  return h.sender() <= uint32_t{INT32_MAX} &&
         sender == Identity::Worker(static_cast<int>(h.sender()));
}

void ParameterServer::Log(const std::string& line) const {
  if (log_) log_(line);
}

template <typename Apply>
void ParameterServer::Replicated(const transport::Message& msg, Apply apply) {
  replies_.clear();
  if (replication_.backup != nullptr) replication_.backup->Forward(msg, *core_, &replies_);
  SendReplies(&replies_);  // released because the backup went away, if any
  apply(&replies_);
  if (replication_.backup != nullptr) replication_.backup->Hold(&replies_);
  SendReplies(&replies_);
}

Status ParameterServer::ExcludeSilentWorkers() {
  if (worker_timeout_.count() <= 0) return Status::Ok();
  auto now = std::chrono::steady_clock::now();
  // Timeouts are seconds: a look every poll interval is enough, not one per batch of messages.
  if (now < next_silence_check_) return Status::Ok();
  next_silence_check_ = now + poll_interval_;
  auto note_round = [&] {
    if (core_->round() != round_) {
      round_ = core_->round();
      round_since_ = now;
    }
  };
  // How long worker w has held up the round in progress (zero for one still starting: a worker
  // that has never pushed and not been heard from here; the first round waits for every worker,
  // as sync promises, and a pod may take minutes to start).
  auto silence = [&](int w) {
    if (core_->clock(w) == 0 && !heard_[static_cast<size_t>(w)]) {
      return std::chrono::steady_clock::duration::zero();
    }
    return now - std::max(last_heard_[static_cast<size_t>(w)], round_since_);
  };
  note_round();
  const std::vector<int> holding = core_->WorkersHoldingRound();
  if (std::none_of(holding.begin(), holding.end(),
                   [&](int w) { return silence(w) >= worker_timeout_; })) {
    return Status::Ok();
  }
  // Serving one socket, Serve looks here after each message: what is still queued (perhaps the
  // silent worker's push) is read before anyone is judged silent.
  RT_RETURN_IF_ERROR(Drain(/*defer=*/false));
  now = std::chrono::steady_clock::now();  // a round that moved meanwhile starts no earlier
  note_round();
  for (int w : core_->WorkersHoldingRound()) {
    const auto silent = silence(w);
    if (silent < worker_timeout_) continue;
    // Forwarded like a request, so the backup's copy stops waiting at the same point.
    transport::Message exclude;
    exclude.header.set_kind(proto::REPLICA_EXCLUDE);
    exclude.header.set_job(core_->config().job);
    exclude.header.set_sender(static_cast<uint32_t>(w));
    const int64_t round = core_->round();
    Replicated(exclude, [&](std::vector<Reply>* out) { core_->Exclude(w, out); });
    Log("worker " + std::to_string(w) + " has sent nothing for " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) +
        " s while round " + std::to_string(round) +
        " waits for it: the rounds go on without it until it returns");
  }
  return Status::Ok();
}

void ParameterServer::HandleRequest(const std::string& peer, transport::Message* msg) {
  const proto::Header& h = msg->header;
  const std::optional<transport::RequestKind> request = transport::RequestOf(h.kind());
  const bool from_worker = request.has_value() && *request != transport::RequestKind::kStats &&
                           h.job() == core_->config().job && h.sender() < last_heard_.size();
  const size_t w = h.sender();
  const bool was_excluded = from_worker && core_->excluded(static_cast<int>(w));
  if (from_worker) {
    last_heard_[w] = std::chrono::steady_clock::now();
    heard_[w] = true;
  }
  Replicated(*msg, [&](std::vector<Reply>* out) { core_->Handle(peer, msg, out); });
  if (was_excluded && !core_->excluded(static_cast<int>(w))) {
    Log("worker " + std::to_string(w) + " is back: it continues at step " +
        std::to_string(core_->clock(static_cast<int>(w))) + " (" +
        std::to_string(core_->stats().steps_missed()) +
        " steps missed by excluded workers so far)");
  }
}

}  // namespace ringtrain::ps
