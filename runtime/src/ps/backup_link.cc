#include "ringtrain/ps/backup_link.h"

#include <unistd.h>

#include <cstring>
#include <random>
#include <utility>

#include "ringtrain/ps/replica_wire.h"
#include "ringtrain/transport/message_kind.h"
#include "ringtrain/transport/socket_options.h"

namespace ringtrain::ps {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kFetchPoll{50};

uint64_t RandomEpoch() {
  std::random_device rd;
  const uint64_t e = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return e == 0 ? 1 : e;
}

bool ChangesState(proto::MessageKind kind) {
  return kind == proto::PUSH || kind == proto::JOIN || kind == proto::WORKER_DONE ||
         kind == proto::REPLICA_EXCLUDE;
}

std::string Seconds(std::chrono::milliseconds ms) {
  return std::to_string(ms.count() / 1000) + "." + std::to_string(ms.count() % 1000 / 100) + " s";
}

}  // namespace

StatusOr<std::unique_ptr<BackupLink>> BackupLink::Connect(zmq::context_t& context,
                                                          BackupLinkOptions options) {
  const uint64_t epoch = RandomEpoch();
  try {
    zmq::socket_t s(context, zmq::socket_type::dealer);
    RT_RETURN_IF_ERROR(
        transport::ApplySocketOptions(s, transport::BackupSocketOptions(options.max_message_size)));
    // Stable for this process: after a TCP reconnect the backup's ROUTER hands the route over.
    s.set(zmq::sockopt::routing_id, "ps" + std::to_string(options.server) + "-" +
                                        std::to_string(getpid()) + "-" + std::to_string(epoch));
    const std::string monitor_address = "inproc://ringtrain-backup-link-" + std::to_string(epoch);
    if (zmq_socket_monitor(s.handle(), monitor_address.c_str(),
                           ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0) {
      return Internal(std::string("monitoring the backup link: ") + zmq_strerror(zmq_errno()));
    }
    zmq::socket_t m(context, zmq::socket_type::pair);
    m.set(zmq::sockopt::linger, 0);
    m.connect(monitor_address);
    if (options.credentials != nullptr) {
      RT_RETURN_IF_ERROR(
          auth::ApplyClient(s, *options.credentials, auth::Identity::Server(options.successor)));
    }
    try {
      s.connect(options.successor_endpoint);
    } catch (const zmq::error_t& e) {
      return InvalidArgument("cannot connect to the backup ps-" +
                             std::to_string(options.successor) + " at " +
                             options.successor_endpoint + ": " + e.what());
    }
    return std::unique_ptr<BackupLink>(
        new BackupLink(std::move(options), std::move(s), std::move(m), epoch));
  } catch (const zmq::error_t& e) {
    return Internal(std::string("creating the backup link: ") + e.what());
  }
}

BackupLink::BackupLink(BackupLinkOptions options, zmq::socket_t socket, zmq::socket_t monitor,
                       uint64_t epoch)
    : options_(std::move(options)),
      socket_(std::move(socket)),
      monitor_(std::move(monitor)),
      epoch_(epoch) {}

BackupLink::~BackupLink() { zmq_socket_monitor(socket_.handle(), nullptr, 0); }

void BackupLink::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

Status BackupLink::Send(proto::Header header, std::vector<zmq::message_t> payloads) {
  header.set_sender(static_cast<uint32_t>(options_.server));
  return transport::SendMessage(socket_, nullptr, std::move(header), std::move(payloads));
}

StatusOr<FetchOutcome> BackupLink::Fetch(ServerCore* core,
                                         const std::function<Status()>& serve_others) {
  const std::string backup = "ps-" + std::to_string(options_.successor);
  proto::Header ask;
  ask.set_kind(proto::REPLICA_FETCH);
  ask.set_job(core->config().job);
  ask.mutable_replica()->set_server(static_cast<uint32_t>(options_.server));
  ask.mutable_replica()->set_epoch(epoch_);
  RT_RETURN_IF_ERROR(Send(std::move(ask), {}).WithContext("asking " + backup + " for its copy"));
  const auto deadline = Clock::now() + options_.fetch_timeout;
  std::vector<zmq::message_t> frames;
  while (Clock::now() < deadline) {
    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0},
                               {monitor_.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, kFetchPoll);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) return Unavailable(std::string("poll failed: ") + e.what());
    }
    RT_RETURN_IF_ERROR(serve_others());
    std::vector<Reply> none;
    RT_RETURN_IF_ERROR(DrainEvents(nullptr, &none));
    while (true) {
      bool received = false;
      RT_RETURN_IF_ERROR(transport::ReceiveMultipart(socket_, &frames, &received));
      if (!received) break;
      StatusOr<transport::Message> msg = transport::DecodeMessage(std::move(frames));
      frames.clear();
      if (!msg.ok() || msg->header.kind() != proto::REPLICA_STATE) continue;
      const proto::ReplicaInfo& info = msg->header.replica();
      FetchOutcome out;
      if (!info.holds_copy()) {
        out.why = backup +
                  " holds no copy of this shard (a new job, or it started after the "
                  "last copy was made)";
        return out;
      }
      StatusOr<ckpt::ShardState> decoded = DecodeShardState(info.state(), msg->payloads);
      if (!decoded.ok()) {
        return decoded.status().WithContext("the copy of this shard from " + backup);
      }
      ckpt::ShardState state = std::move(decoded).value();
      out.step = state.step();
      const int64_t held = core->step();
      if (out.step < held) {
        out.why = "the copy on " + backup + " is at step " + std::to_string(out.step) +
                  ", behind the " + std::to_string(held) + " restored here";
        return out;
      }
      RT_RETURN_IF_ERROR(
          core->Restore(std::move(state)).WithContext("the copy of this shard from " + backup));
      out.restored = true;
      return out;
    }
  }
  FetchOutcome out;
  out.why = "no answer from " + backup + " (" + options_.successor_endpoint + ") within " +
            Seconds(options_.fetch_timeout);
  return out;
}

Status BackupLink::DrainEvents(proto::ServerStats* stats, std::vector<Reply>* release) {
  while (true) {
    zmq::message_t event;
    zmq::message_t address;
    try {
      if (!monitor_.recv(event, zmq::recv_flags::dontwait)) return Status::Ok();
      if (event.more()) (void)monitor_.recv(address, zmq::recv_flags::none);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      return Unavailable(std::string("reading the backup link's events: ") + e.what());
    }
    if (event.size() < sizeof(uint16_t)) continue;
    uint16_t id = 0;
    std::memcpy(&id, event.data(), sizeof(id));
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      connected_ = true;
    } else if (id == ZMQ_EVENT_DISCONNECTED) {
      connected_ = false;
      if (in_sync_) {
        Degrade("lost the connection to the backup ps-" + std::to_string(options_.successor), stats,
                release);
      }
    }
  }
}

void BackupLink::Degrade(const std::string& why, proto::ServerStats* stats,
                         std::vector<Reply>* release) {
  uint64_t replies = 0;
  for (Held& h : held_) {
    replies += h.replies.size();
    for (Reply& r : h.replies) release->push_back(std::move(r));
  }
  held_.clear();
  in_sync_ = false;
  acked_ = seq_;
  if (stats != nullptr) stats->set_replies_unreplicated(stats->replies_unreplicated() + replies);
  Log(why + ": serving without a copy of this shard until it is back (" + std::to_string(replies) +
      " replies released unreplicated)");
}

void BackupLink::Release(uint64_t acked, std::vector<Reply>* release) {
  if (acked > acked_) acked_ = acked;
  while (!held_.empty() && held_.front().seq <= acked_) {
    for (Reply& r : held_.front().replies) release->push_back(std::move(r));
    held_.pop_front();
  }
}

Status BackupLink::Sync(ServerCore& core) {
  proto::Header h;
  h.set_kind(proto::REPLICA_SYNC);
  h.set_job(core.config().job);
  proto::ReplicaInfo* info = h.mutable_replica();
  info->set_server(static_cast<uint32_t>(options_.server));
  info->set_epoch(epoch_);
  info->set_seq(seq_ + 1);
  ckpt::ShardState state = core.Snapshot();
  const int64_t step = state.step();
  std::vector<zmq::message_t> frames;
  EncodeShardState(std::move(state), info->mutable_state(), &frames);
  // libzmq limits each frame (the backup's socket: ServerOptions::max_message_size, which this
  // link's limit equals); a larger one would be dropped with the connection, unacknowledged.
  for (const zmq::message_t& f : frames) {
    if (options_.max_message_size > 0 &&
        f.size() > static_cast<size_t>(options_.max_message_size)) {
      Log("this shard is not replicated: a frame of its state has " + std::to_string(f.size()) +
          " bytes, more than a message to the backup ps-" + std::to_string(options_.successor) +
          " may carry (" + std::to_string(options_.max_message_size) +
          "); serving without a copy, trying again in " + Seconds(options_.ack_timeout));
      next_sync_ = Clock::now() + options_.ack_timeout;
      return Status::Ok();
    }
  }
  if (Status s = Send(std::move(h), std::move(frames)); !s.ok()) {
    Log("could not send this shard to the backup ps-" + std::to_string(options_.successor) + ": " +
        s.message());
    return Status::Ok();  // tried again at the next connection
  }
  ++seq_;
  in_sync_ = true;
  proto::ServerStats& stats = core.mutable_stats();
  stats.set_replica_syncs_sent(stats.replica_syncs_sent() + 1);
  Log("sent this shard (step " + std::to_string(step) + ") to the backup ps-" +
      std::to_string(options_.successor) + "; replicating every update to it");
  return Status::Ok();
}

Status BackupLink::Poll(ServerCore& core, std::vector<Reply>* release) {
  RT_RETURN_IF_ERROR(DrainEvents(&core.mutable_stats(), release));
  std::vector<zmq::message_t> frames;
  while (true) {
    bool received = false;
    RT_RETURN_IF_ERROR(transport::ReceiveMultipart(socket_, &frames, &received));
    if (!received) break;
    StatusOr<transport::Message> msg = transport::DecodeMessage(std::move(frames));
    frames.clear();
    // Acknowledgements of this incarnation only; a late REPLICA_STATE is of no use any more.
    if (!msg.ok() || msg->header.kind() != proto::REPLICA_ACK ||
        msg->header.replica().epoch() != epoch_ || msg->header.replica().seq() > seq_) {
      continue;
    }
    if (in_sync_) Release(msg->header.replica().seq(), release);
  }
  const auto now = Clock::now();
  if (in_sync_ && !held_.empty() && now - held_.front().since >= options_.ack_timeout) {
    Degrade("the backup ps-" + std::to_string(options_.successor) +
                " has not acknowledged an update for " + Seconds(options_.ack_timeout),
            &core.mutable_stats(), release);
    next_sync_ = now + options_.ack_timeout;
  }
  if (connected_ && !in_sync_ && now >= next_sync_ && !core.has_held_pushes()) {
    RT_RETURN_IF_ERROR(Sync(core));
  }
  return Status::Ok();
}

void BackupLink::Forward(const transport::Message& msg, ServerCore& core,
                         std::vector<Reply>* release) {
  // Another job's request changes nothing (the core refuses it), and the copy would drop it
  // unacknowledged, stalling every forward after it until the ack timeout.
  if (!in_sync_ || !ChangesState(msg.header.kind()) || msg.header.has_replica() ||
      msg.header.job() != core.config().job) {
    return;
  }
  proto::Header h = msg.header;
  proto::ReplicaInfo* info = h.mutable_replica();
  info->set_server(static_cast<uint32_t>(options_.server));
  info->set_epoch(epoch_);
  info->set_seq(seq_ + 1);
  // The partitions' frames, then the sparse slices' (the order a message has on the wire).
  std::vector<zmq::message_t> payloads;
  payloads.reserve(msg.payloads.size() + msg.sparse.size());
  for (const auto* frames : {&msg.payloads, &msg.sparse}) {
    for (const zmq::message_t& p : *frames) {
      zmq::message_t copy;
      copy.copy(const_cast<zmq::message_t&>(p));  // shares the bytes (reference-counted)
      payloads.push_back(std::move(copy));
    }
  }
  // The header keeps the worker as its sender: the copy counts the push as that worker's.
  if (Status s = transport::SendMessage(socket_, nullptr, std::move(h), std::move(payloads));
      !s.ok()) {
    Degrade("could not forward to the backup ps-" + std::to_string(options_.successor) + ": " +
                s.message(),
            &core.mutable_stats(), release);
    next_sync_ = Clock::now() + options_.ack_timeout;
    return;
  }
  ++seq_;
  proto::ServerStats& stats = core.mutable_stats();
  stats.set_replica_forwards(stats.replica_forwards() + 1);
}

void BackupLink::Hold(std::vector<Reply>* replies) {
  if (!in_sync_ || acked_ >= seq_ || replies->empty()) return;
  if (!held_.empty() && held_.back().seq == seq_) {
    for (Reply& r : *replies) held_.back().replies.push_back(std::move(r));
  } else {
    held_.push_back({seq_, Clock::now(), std::move(*replies)});
  }
  replies->clear();
}

}  // namespace ringtrain::ps
