#include "ringtrain/ps/replica_shard.h"

#include <utility>

#include "ringtrain/ps/replica_wire.h"
#include "ringtrain/transport/message_kind.h"

namespace ringtrain::ps {

namespace {

// Drops are logged up to this many times (then only counted): a peer sending garbage must not
// flood the log.
constexpr uint64_t kDropsLogged = 10;

}  // namespace

ReplicaShard::ReplicaShard(std::unique_ptr<ServerCore> copy, proto::ServerStats* counters,
                           std::function<void(const std::string&)> log)
    : copy_(std::move(copy)), counters_(counters), log_(std::move(log)) {}

void ReplicaShard::Drop(const std::string& why) {
  counters_->set_replica_dropped(counters_->replica_dropped() + 1);
  if (drops_logged_ < kDropsLogged && log_) {
    ++drops_logged_;
    log_("replication message dropped: " + why);
  }
}

Reply ReplicaShard::Ack(const std::string& peer, uint64_t seq) const {
  Reply r;
  r.peer = peer;
  r.header.set_kind(proto::REPLICA_ACK);
  r.header.set_job(copy_->config().job);
  r.header.mutable_replica()->set_server(static_cast<uint32_t>(server()));
  r.header.mutable_replica()->set_epoch(epoch_);
  r.header.mutable_replica()->set_seq(seq);
  return r;
}

void ReplicaShard::Handle(const std::string& peer, transport::Message msg,
                          std::vector<Reply>* out) {
  const proto::Header& h = msg.header;
  if (h.job() != copy_->config().job) {
    Drop("job \"" + h.job() + "\" is not this job");
    return;
  }
  if (!h.has_replica() || h.replica().server() != static_cast<uint32_t>(server())) {
    Drop(transport::KindName(h.kind()) + " about the shard of server " +
         std::to_string(h.replica().server()) + ": this server keeps a copy of server " +
         std::to_string(server()) + "'s only");
    return;
  }
  switch (h.kind()) {
    case proto::REPLICA_SYNC:
      HandleSync(peer, std::move(msg), out);
      return;
    case proto::REPLICA_FETCH:
      HandleFetch(peer, h, out);
      return;
    case proto::REPLICA_TAKEOVER:
      HandleTakeover(peer, h, out);
      return;
    case proto::PUSH:
    case proto::JOIN:
    case proto::WORKER_DONE:
    case proto::REPLICA_EXCLUDE:
      HandleForward(peer, std::move(msg), out);
      return;
    default:
      Drop(transport::KindName(h.kind()) + " is not sent to a backup");
      return;
  }
}

void ReplicaShard::HandleSync(const std::string& peer, transport::Message msg,
                              std::vector<Reply>* out) {
  const proto::ReplicaInfo& info = msg.header.replica();
  StatusOr<ckpt::ShardState> state = DecodeShardState(info.state(), msg.payloads);
  if (!state.ok()) {
    Drop("REPLICA_SYNC: " + state.status().message());
    synced_ = false;
    return;
  }
  const int64_t step = state->step();
  if (Status s = copy_->Restore(std::move(state).value()); !s.ok()) {
    Drop("REPLICA_SYNC: " + s.message());
    synced_ = false;
    return;
  }
  if (serving_) HandBack("ps-" + std::to_string(server()) + " synced without fetching it first");
  const bool again = synced_;
  synced_ = true;
  epoch_ = info.epoch();
  last_seq_ = info.seq();
  if (log_) {
    log_(std::string(again ? "synced again" : "synced") + " with ps-" + std::to_string(server()) +
         ": keeping a copy of its shard from step " + std::to_string(step));
  }
  out->push_back(Ack(peer, last_seq_));
}

void ReplicaShard::HandleForward(const std::string& peer, transport::Message msg,
                                 std::vector<Reply>* out) {
  const proto::ReplicaInfo& info = msg.header.replica();
  if (!synced_) {
    Drop("a forwarded request before any REPLICA_SYNC");
    return;
  }
  if (serving_) {
    Drop("a forward from ps-" + std::to_string(server()) + ", whose shard this server serves");
    return;
  }
  if (info.epoch() != epoch_ || info.seq() != last_seq_ + 1) {
    Drop("forward " + std::to_string(info.seq()) + " of epoch " + std::to_string(info.epoch()) +
         " where " + std::to_string(last_seq_ + 1) + " of epoch " + std::to_string(epoch_) +
         " was next");
    return;
  }
  const uint64_t seq = info.seq();
  msg.header.clear_replica();
  discarded_.clear();
  if (msg.header.kind() == proto::REPLICA_EXCLUDE) {
    copy_->ExcludeForwarded(static_cast<int>(msg.header.sender()), &discarded_);
  } else {
    copy_->HandleForwarded(peer, std::move(msg), &discarded_);
  }
  last_seq_ = seq;
  counters_->set_replica_applied(counters_->replica_applied() + 1);
  out->push_back(Ack(peer, seq));
}

Reply ReplicaShard::Answer(const std::string& peer, const proto::Header& request,
                           proto::MessageKind kind) const {
  Reply r;
  r.peer = peer;
  r.header.set_kind(kind);
  r.header.set_job(copy_->config().job);
  r.header.set_request_id(request.request_id());
  r.header.mutable_replica()->set_server(static_cast<uint32_t>(server()));
  return r;
}

void ReplicaShard::HandleFetch(const std::string& peer, const proto::Header& h,
                               std::vector<Reply>* out) {
  Reply r = Answer(peer, h, proto::REPLICA_STATE);
  proto::ReplicaInfo* info = r.header.mutable_replica();
  info->set_holds_copy(synced_);
  const std::string who = "ps-" + std::to_string(server()) + " asked for its shard: ";
  if (serving_) HandBack("its replacement fetches it");
  if (synced_) {
    ckpt::ShardState state = copy_->Snapshot();
    if (log_) log_(who + "sending the copy at step " + std::to_string(state.step()));
    EncodeShardState(std::move(state), info->mutable_state(), &r.payloads);
  } else if (log_) {
    log_(who + "no copy here yet");
  }
  out->push_back(std::move(r));
}

void ReplicaShard::HandleTakeover(const std::string& peer, const proto::Header& h,
                                  std::vector<Reply>* out) {
  Reply r = Answer(peer, h, proto::REPLICA_TAKEOVER);
  const std::string whose = "ps-" + std::to_string(server()) + "'s shard";
  if (!synced_) {
    r.header.set_error("no copy of " + whose + " here: it never synced");
    if (log_) log_("asked to take over " + whose + ", but " + r.header.error());
  } else if (!serving_) {
    serving_ = true;
    served_ = 0;
    counters_->set_takeovers(counters_->takeovers() + 1);
    if (log_) {
      log_("taking over " + whose + " from step " + std::to_string(copy_->step()) +
           ": serving it from the copy until its replacement fetches it");
    }
  }
  r.header.mutable_replica()->set_holds_copy(serving_);
  out->push_back(std::move(r));
}

void ReplicaShard::HandBack(const std::string& why) {
  serving_ = false;
  const size_t forgotten = copy_->DropParked();
  if (log_) {
    log_("handing ps-" + std::to_string(server()) + "'s shard back at step " +
         std::to_string(copy_->step()) + " (" + why + ") after serving " + std::to_string(served_) +
         " requests for it" +
         (forgotten > 0 ? "; " + std::to_string(forgotten) + " parked ones go to it again" : ""));
  }
}

Reply ReplicaShard::NotServing(const std::string& peer, const proto::Header& request,
                               const std::string& job) {
  Reply r;
  r.peer = peer;
  r.header.set_kind(proto::NOT_SERVING);
  r.header.set_job(job);
  r.header.set_request_id(request.request_id());
  *r.header.mutable_detour() = request.detour();
  r.header.set_error("this server does not serve ps-" + std::to_string(request.detour().server()) +
                     "'s shard");
  return r;
}

void ReplicaShard::HandleDetour(const std::string& peer, transport::Message msg,
                                std::vector<Reply>* out) {
  if (!serving_ || msg.header.detour().server() != static_cast<uint32_t>(server()) ||
      msg.header.job() != copy_->config().job) {
    counters_->set_detours_refused(counters_->detours_refused() + 1);
    out->push_back(NotServing(peer, msg.header, copy_->config().job));
    return;
  }
  counters_->set_detours_served(counters_->detours_served() + 1);
  ++served_;
  msg.header.clear_detour();
  copy_->Handle(peer, std::move(msg), out);
}

}  // namespace ringtrain::ps
