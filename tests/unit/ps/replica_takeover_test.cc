// ReplicaShard taking over a lost primary's shard (ps/replica_shard.h, Taking over): a copy that
// is told REPLICA_TAKEOVER serves detoured requests as the primary would have; before that, or
// once the replacement's REPLICA_FETCH has handed the shard back, it answers NOT_SERVING; the
// hand-back carries every update it applied, forgets what it had parked, and the copy then
// follows the replacement's SYNC and forwards again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "replica_fixture.h"
#include "ringtrain/ps/replica_shard.h"
#include "ringtrain/ps/replica_wire.h"

namespace ringtrain::ps {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

using replica_test::kJob;

// The replica fixture, plus what workers send a taken-over copy (detours) and what a supervisor
// and a replacement send it.
class ReplicaTakeoverTest : public replica_test::ReplicaShardTest {
 protected:
  transport::Message Pull(uint32_t worker, int64_t clock) {
    transport::Message m;
    m.header.set_wire_version(proto::WIRE_VERSION_1);
    m.header.set_kind(proto::PULL);
    m.header.set_job(kJob);
    m.header.set_sender(worker);
    m.header.set_request_id(++next_id_);
    m.header.set_clock(clock);
    m.header.set_layout_fingerprint(table_->fingerprint());
    for (const ring::Partition& p : table_->partitions()) {
      proto::PartitionSlice* s = m.header.add_partitions();
      s->set_id(p.id);
      s->set_num_elements(static_cast<uint64_t>(p.size));
    }
    return m;
  }

  static transport::Message Copy(const transport::Message& m) {
    transport::Message c;
    c.header = m.header;
    for (const zmq::message_t& p : m.payloads) {
      zmq::message_t f;
      f.copy(const_cast<zmq::message_t&>(p));
      c.payloads.push_back(std::move(f));
    }
    return c;
  }

  // `m` handled by the primary (the reference), or detoured to the copy (as a worker would send
  // it once the primary is lost): their replies.
  std::vector<Reply> ToPrimary(transport::Message m) {
    std::vector<Reply> out;
    primary_->Handle("worker", std::move(m), &out);
    return out;
  }
  std::vector<Reply> Detour(transport::Message m) {
    m.header.mutable_detour()->set_server(0);
    std::vector<Reply> out;
    copy_->HandleDetour("worker", std::move(m), &out);
    return out;
  }

  // A replication message of `kind` about server 0's shard (a SYNC carries the primary's state).
  std::vector<Reply> Control(proto::MessageKind kind, uint64_t seq = 0) {
    transport::Message m = kind == proto::REPLICA_SYNC ? Sync(seq, 5) : transport::Message{};
    m.header.set_kind(kind);
    m.header.set_job(kJob);
    m.header.set_request_id(++next_id_);
    m.header.mutable_replica()->set_server(0);
    m.header.mutable_replica()->set_epoch(5);
    m.header.mutable_replica()->set_seq(seq);
    std::vector<Reply> out;
    copy_->Handle("supervisor", std::move(m), &out);
    return out;
  }

  static std::vector<float> Params(const ServerCore& core, uint32_t id) {
    return std::vector<float>(core.params(id).begin(), core.params(id).end());
  }
};

TEST_F(ReplicaTakeoverTest, WithoutACopyTheTakeoverIsRefusedAndDetoursAreNotServed) {
  std::vector<Reply> out = Control(proto::REPLICA_TAKEOVER);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].header.kind(), proto::REPLICA_TAKEOVER);
  EXPECT_FALSE(out[0].header.replica().holds_copy());
  EXPECT_THAT(out[0].header.error(), HasSubstr("no copy of ps-0's shard here"));
  EXPECT_FALSE(copy_->serving());
  out = Detour(Push(0, 0, 1.0f));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].header.kind(), proto::NOT_SERVING);
  EXPECT_EQ(out[0].header.detour().server(), 0u);
  EXPECT_EQ(out[0].header.request_id(), next_id_);
  EXPECT_EQ(copy_->copy().clock(0), 0) << "a refused detour changes nothing";
  EXPECT_EQ(counters_.detours_refused(), 1u);
  EXPECT_EQ(counters_.takeovers(), 0u);
}

TEST_F(ReplicaTakeoverTest, ATakenOverCopyAnswersAsThePrimaryWouldHaveAndHandsEverythingBack) {
  ASSERT_EQ(Control(proto::REPLICA_SYNC, 1).size(), 1u);
  // Synced but not taken over: the primary is alive as far as the copy knows.
  ASSERT_EQ(Detour(Pull(0, 0)).at(0).header.kind(), proto::NOT_SERVING);
  std::vector<Reply> out = Control(proto::REPLICA_TAKEOVER);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].header.replica().holds_copy());
  EXPECT_TRUE(copy_->serving());
  EXPECT_EQ(counters_.takeovers(), 1u);
  ASSERT_FALSE(log_.empty());
  EXPECT_THAT(log_.back(), HasSubstr("taking over ps-0's shard from step 0"));
  // Told twice (a supervisor retrying): still one takeover.
  EXPECT_TRUE(Control(proto::REPLICA_TAKEOVER).at(0).header.replica().holds_copy());
  EXPECT_EQ(counters_.takeovers(), 1u);

  // Two rounds, each request given to the primary (the reference) and detoured to the copy:
  // the same replies, the same state.
  for (int64_t round = 0; round < 2; ++round) {
    for (uint32_t w = 0; w < 2; ++w) {
      transport::Message push = Push(w, round, 0.5f * static_cast<float>(w + round + 1));
      std::vector<Reply> a = ToPrimary(Copy(push));
      std::vector<Reply> b = Detour(std::move(push));
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(b[i].header.kind(), a[i].header.kind());
    }
  }
  std::vector<Reply> pulled = Detour(Pull(1, 2));
  ASSERT_EQ(pulled.size(), 1u);
  EXPECT_EQ(pulled[0].header.kind(), proto::PULL_REPLY);
  EXPECT_EQ(pulled[0].header.partitions(0).version(), 2);
  for (const ring::Partition& p : table_->partitions()) {
    EXPECT_THAT(Params(copy_->copy(), p.id), ElementsAreArray(Params(*primary_, p.id)));
  }
  EXPECT_EQ(counters_.detours_served(), 5u);
  // Worker 0 pushes round 2 and pulls round 3, which waits for worker 1: parked. Round 2 is not
  // applied before the hand-back.
  transport::Message push = Push(0, 2, 3.0f);
  ToPrimary(Copy(push));
  ASSERT_EQ(Detour(std::move(push)).at(0).header.kind(), proto::PUSH_ACK);
  EXPECT_TRUE(Detour(Pull(0, 3)).empty());

  // The replacement fetches: the shard as served, every detoured update in it.
  out = Control(proto::REPLICA_FETCH);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].header.replica().holds_copy());
  EXPECT_FALSE(copy_->serving());
  EXPECT_THAT(log_.back(), HasSubstr("sending the copy at step 2"));
  EXPECT_THAT(log_[log_.size() - 2], HasSubstr("handing ps-0's shard back at step 2"));
  EXPECT_THAT(log_[log_.size() - 2], HasSubstr("after serving 7 requests"));
  EXPECT_THAT(log_[log_.size() - 2], HasSubstr("1 parked ones go to it again"));
  StatusOr<ckpt::ShardState> state =
      DecodeShardState(out[0].header.replica().state(), out[0].payloads);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  std::unique_ptr<ServerCore> replacement = NewCore();
  ASSERT_TRUE(replacement->Restore(std::move(state).value()).ok());
  for (const ring::Partition& p : table_->partitions()) {
    EXPECT_THAT(Params(*replacement, p.id), ElementsAreArray(Params(*primary_, p.id)));
  }
  EXPECT_EQ(replacement->clock(0), 3);
  EXPECT_EQ(replacement->clock(1), 2);
  EXPECT_THAT(replacement->Snapshot().partitions[0].accum,
              ElementsAreArray(primary_->Snapshot().partitions[0].accum));

  // Handed back: later detours are refused, and the replacement's SYNC is accepted (the copy
  // parked nothing it could not be replaced with).
  EXPECT_EQ(Detour(Push(1, 2, 1.0f)).at(0).header.kind(), proto::NOT_SERVING);
  EXPECT_EQ(copy_->copy().clock(1), 2);
  out = Control(proto::REPLICA_SYNC, 40);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].header.kind(), proto::REPLICA_ACK);
  EXPECT_EQ(counters_.replica_dropped(), 0u);
}

TEST_F(ReplicaTakeoverTest, ForwardsOfTheLostPrimaryAreDroppedAndASyncEndsTheTakeover) {
  ASSERT_EQ(Control(proto::REPLICA_SYNC, 1).size(), 1u);
  ASSERT_TRUE(Control(proto::REPLICA_TAKEOVER).at(0).header.replica().holds_copy());
  ASSERT_EQ(Detour(Push(0, 0, 1.0f)).at(0).header.kind(), proto::PUSH_ACK);
  // A forward of the old primary's epoch, late: not applied over what the copy served.
  transport::Message late = Push(1, 0, 7.0f);
  late.header.mutable_replica()->set_server(0);
  late.header.mutable_replica()->set_epoch(5);
  late.header.mutable_replica()->set_seq(2);
  std::vector<Reply> out;
  copy_->Handle("primary", std::move(late), &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(copy_->copy().clock(1), 0);
  EXPECT_EQ(counters_.replica_dropped(), 1u);
  // A replacement that syncs without fetching ends the takeover: its state is the shard's.
  out = Control(proto::REPLICA_SYNC, 9);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(copy_->serving());
  EXPECT_EQ(copy_->copy().clock(0), 0) << "the copy is the replacement's state now";
  EXPECT_THAT(log_[log_.size() - 2], HasSubstr("synced without fetching it first"));
}

}  // namespace
}  // namespace ringtrain::ps
