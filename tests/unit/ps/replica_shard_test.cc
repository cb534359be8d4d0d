// ReplicaShard (the copy a backup keeps of its predecessor's shard) and the shard-state wire
// format it syncs with: a copy fed a primary's SYNC and its forwards, in sequence, ends where
// the primary is; what is out of sequence, of another epoch or about another shard is dropped,
// counted, and never applied.
#include "ringtrain/ps/replica_shard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/replica_wire.h"
#include "ringtrain/ring/hash_ring.h"

namespace ringtrain::ps {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr char kJob[] = "job";
constexpr uint64_t kEpoch = 77;

class ReplicaShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ring = ring::HashRing::Make({"ps-0"});
    table_ = std::make_shared<const ring::PartitionTable>(
        ring::PartitionTable::Build({{"w", 0, 6}}, 4, *ring).value());
    primary_ = NewCore();
    copy_ = std::make_unique<ReplicaShard>(NewCore(), &counters_,
                                           [this](const std::string& m) { log_.push_back(m); });
  }

  std::unique_ptr<ServerCore> NewCore() {
    ServerCoreConfig c;
    c.job = kJob;
    c.server_index = 0;
    c.num_workers = 2;
    c.table = table_;
    // Momentum: optimizer state that must travel too.
    c.optimizer = optim::MakeOptimizer({optim::OptimizerKind::kMomentum, 0.9, 0}).value();
    c.consistency = Consistency::kSync;
    return ServerCore::Make(std::move(c), std::vector<float>(6, 1.0f)).value();
  }

  transport::Message Push(uint32_t worker, int64_t clock, float g) {
    transport::Message m;
    proto::Header& h = m.header;
    h.set_wire_version(proto::WIRE_VERSION_1);
    h.set_kind(proto::PUSH);
    h.set_job(kJob);
    h.set_sender(worker);
    h.set_request_id(++next_id_);
    h.set_clock(clock);
    h.set_layout_fingerprint(table_->fingerprint());
    h.set_num_samples(4);
    h.set_learning_rate(0.1f);
    for (const ring::Partition& p : table_->partitions()) {
      proto::PartitionSlice* s = h.add_partitions();
      s->set_id(p.id);
      s->set_num_elements(static_cast<uint64_t>(p.size));
      s->set_payload_bytes(static_cast<uint64_t>(p.size) * 4);
      s->set_version(clock);
      std::vector<float> v(static_cast<size_t>(p.size), g + static_cast<float>(p.id));
      m.payloads.push_back(transport::CopyFrame(v.data(), v.size()));
    }
    return m;
  }

  // `m` applied by the primary, and returned as the primary forwards it.
  transport::Message Forwarded(transport::Message m, uint64_t seq, uint64_t epoch = kEpoch,
                               uint32_t server = 0) {
    transport::Message f;
    f.header = m.header;
    for (zmq::message_t& p : m.payloads) {
      zmq::message_t c;
      c.copy(p);
      f.payloads.push_back(std::move(c));
    }
    std::vector<Reply> ignored;
    primary_->Handle("worker", std::move(m), &ignored);
    f.header.mutable_replica()->set_server(server);
    f.header.mutable_replica()->set_epoch(epoch);
    f.header.mutable_replica()->set_seq(seq);
    return f;
  }

  transport::Message Sync(uint64_t seq, uint64_t epoch = kEpoch) {
    transport::Message m;
    m.header.set_kind(proto::REPLICA_SYNC);
    m.header.set_job(kJob);
    m.header.mutable_replica()->set_server(0);
    m.header.mutable_replica()->set_epoch(epoch);
    m.header.mutable_replica()->set_seq(seq);
    EncodeShardState(primary_->Snapshot(), m.header.mutable_replica()->mutable_state(),
                     &m.payloads);
    return m;
  }

  std::vector<Reply> Send(transport::Message m) {
    std::vector<Reply> out;
    copy_->Handle("primary", std::move(m), &out);
    return out;
  }

  static uint64_t AckedSeq(const std::vector<Reply>& out) {
    EXPECT_EQ(out.size(), 1u);
    if (out.size() != 1) return 0;
    EXPECT_EQ(out[0].header.kind(), proto::REPLICA_ACK);
    EXPECT_EQ(out[0].peer, "primary");
    return out[0].header.replica().seq();
  }

  void ExpectCopyEqualsPrimary() {
    const ckpt::ShardState a = primary_->Snapshot();
    const ckpt::ShardState b = copy_->copy().Snapshot();
    ASSERT_EQ(a.partitions.size(), b.partitions.size());
    for (size_t i = 0; i < a.partitions.size(); ++i) {
      EXPECT_THAT(b.partitions[i].params, ElementsAreArray(a.partitions[i].params));
      EXPECT_THAT(b.partitions[i].optimizer_state,
                  ElementsAreArray(a.partitions[i].optimizer_state));
      EXPECT_THAT(b.partitions[i].accum, ElementsAreArray(a.partitions[i].accum));
      EXPECT_EQ(b.partitions[i].version, a.partitions[i].version);
      EXPECT_EQ(b.partitions[i].round_pushes, a.partitions[i].round_pushes);
    }
    ASSERT_EQ(a.workers.size(), b.workers.size());
    for (size_t w = 0; w < a.workers.size(); ++w) {
      EXPECT_EQ(b.workers[w].clock, a.workers[w].clock) << "worker " << w;
      EXPECT_EQ(b.workers[w].excluded, a.workers[w].excluded) << "worker " << w;
    }
  }

  std::shared_ptr<const ring::PartitionTable> table_;
  std::unique_ptr<ServerCore> primary_;
  proto::ServerStats counters_;
  std::vector<std::string> log_;
  std::unique_ptr<ReplicaShard> copy_;
  uint64_t next_id_ = 0;
};

TEST_F(ReplicaShardTest, ShardStateSurvivesTheWire) {
  std::vector<Reply> ignored;
  primary_->Handle("w", Push(0, 0, 1.0f), &ignored);
  primary_->Handle("w", Push(1, 0, 2.0f), &ignored);
  primary_->Handle("w", Push(0, 1, 3.0f), &ignored);  // a round in progress
  const ckpt::ShardState before = primary_->Snapshot();
  proto::ShardStateMeta meta;
  std::vector<zmq::message_t> frames;
  EncodeShardState(primary_->Snapshot(), &meta, &frames);
  ASSERT_EQ(frames.size(), 3 * before.partitions.size());
  StatusOr<ckpt::ShardState> after = DecodeShardState(meta, frames);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->partitions.size(), before.partitions.size());
  for (size_t i = 0; i < before.partitions.size(); ++i) {
    EXPECT_THAT(after->partitions[i].params, ElementsAreArray(before.partitions[i].params));
    EXPECT_THAT(after->partitions[i].optimizer_state,
                ElementsAreArray(before.partitions[i].optimizer_state));
    EXPECT_THAT(after->partitions[i].accum, ElementsAreArray(before.partitions[i].accum));
    EXPECT_EQ(after->partitions[i].round_pushes, 1u);
    EXPECT_EQ(after->partitions[i].version, 1);
  }
  EXPECT_EQ(after->step(), 1);
}

TEST_F(ReplicaShardTest, ADecodedShardStateMustMatchItsFrames) {
  proto::ShardStateMeta meta;
  std::vector<zmq::message_t> frames;
  EncodeShardState(primary_->Snapshot(), &meta, &frames);
  std::vector<zmq::message_t> fewer;
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    zmq::message_t c;
    c.copy(frames[i]);
    fewer.push_back(std::move(c));
  }
  EXPECT_THAT(DecodeShardState(meta, fewer).status().message(), HasSubstr("needs 6 frames, got 5"));
  proto::ShardStateMeta lying = meta;
  lying.mutable_partitions(1)->set_params(3);
  EXPECT_THAT(DecodeShardState(lying, frames).status().message(),
              HasSubstr("partition 1 parameters: the header says 3 floats, the frame has 8 bytes"));
  lying = meta;
  lying.mutable_partitions(0)->set_params(uint64_t{1} << 40);
  EXPECT_THAT(DecodeShardState(lying, frames).status().message(),
              HasSubstr("beyond any partition"));
}

TEST_F(ReplicaShardTest, ASyncedCopyFollowsTheForwardsInSequenceAndAcknowledgesEach) {
  EXPECT_EQ(AckedSeq(Send(Sync(5))), 5u);
  EXPECT_TRUE(copy_->synced());
  EXPECT_EQ(AckedSeq(Send(Forwarded(Push(0, 0, 1.0f), 6))), 6u);
  EXPECT_EQ(AckedSeq(Send(Forwarded(Push(1, 0, 2.0f), 7))), 7u);  // applies round 0
  EXPECT_EQ(AckedSeq(Send(Forwarded(Push(1, 1, 5.0f), 8))), 8u);  // round 1 in progress
  ExpectCopyEqualsPrimary();
  EXPECT_EQ(primary_->version(0), 1);
  EXPECT_EQ(counters_.replica_applied(), 3u);
  EXPECT_EQ(counters_.replica_dropped(), 0u);
}

TEST_F(ReplicaShardTest, ForwardsBeforeASyncOutOfSequenceOrOfAnotherEpochAreDroppedNotApplied) {
  EXPECT_TRUE(Send(Forwarded(Push(0, 0, 1.0f), 1)).empty());  // no SYNC yet
  EXPECT_FALSE(copy_->synced());
  EXPECT_EQ(AckedSeq(Send(Sync(1))), 1u);                     // includes the push above
  EXPECT_TRUE(Send(Forwarded(Push(1, 0, 2.0f), 3)).empty());  // 2 is next
  EXPECT_EQ(copy_->copy().clock(1), 0) << "a forward out of sequence is not applied";
  EXPECT_TRUE(Send(Forwarded(Push(1, 1, 2.0f), 2, kEpoch + 1)).empty());  // another incarnation
  EXPECT_TRUE(Send(Forwarded(Push(0, 1, 2.0f), 2, kEpoch, /*server=*/3)).empty());
  EXPECT_EQ(counters_.replica_dropped(), 4u);
  EXPECT_EQ(counters_.replica_applied(), 0u);
  EXPECT_EQ(copy_->copy().clock(0), 1);
  ASSERT_FALSE(log_.empty());
  EXPECT_THAT(log_.back(), HasSubstr("this server keeps a copy of server 0's only"));
  // The primary, hearing no acknowledgement, syncs again: the copy catches up at once.
  EXPECT_EQ(AckedSeq(Send(Sync(9, kEpoch + 1))), 9u);
  ExpectCopyEqualsPrimary();
}

TEST_F(ReplicaShardTest, AFetchGetsTheCopyOnceThereIsOne) {
  proto::Header fetch;
  fetch.set_kind(proto::REPLICA_FETCH);
  fetch.set_job(kJob);
  fetch.mutable_replica()->set_server(0);
  transport::Message m;
  m.header = fetch;
  std::vector<Reply> out = Send(std::move(m));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].header.kind(), proto::REPLICA_STATE);
  EXPECT_FALSE(out[0].header.replica().holds_copy());
  EXPECT_TRUE(out[0].payloads.empty());

  Send(Sync(1));
  Send(Forwarded(Push(0, 0, 1.0f), 2));
  Send(Forwarded(Push(1, 0, 3.0f), 3));
  m = {};
  m.header = fetch;
  out = Send(std::move(m));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].header.replica().holds_copy());
  StatusOr<ckpt::ShardState> state =
      DecodeShardState(out[0].header.replica().state(), out[0].payloads);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  // A replaced primary restores it and is where the old one was.
  std::unique_ptr<ServerCore> replaced = NewCore();
  ASSERT_TRUE(replaced->Restore(std::move(state).value()).ok());
  EXPECT_THAT(
      std::vector<float>(replaced->params(0).begin(), replaced->params(0).end()),
      ElementsAreArray(std::vector<float>(primary_->params(0).begin(), primary_->params(0).end())));
  EXPECT_EQ(replaced->clock(0), 1);
  EXPECT_EQ(replaced->clock(1), 1);
}

TEST_F(ReplicaShardTest, MessagesOfAnotherJobOrKindAreDropped) {
  transport::Message m = Sync(1);
  m.header.set_job("other");
  EXPECT_TRUE(Send(std::move(m)).empty());
  m = {};
  m.header.set_kind(proto::PULL);
  m.header.set_job(kJob);
  m.header.mutable_replica()->set_server(0);
  EXPECT_TRUE(Send(std::move(m)).empty());
  EXPECT_EQ(counters_.replica_dropped(), 2u);
  EXPECT_FALSE(copy_->synced());
}

// A silent worker the primary stopped waiting for is excluded in the copy at the same point of
// the sequence (REPLICA_EXCLUDE), and taken back there by its next forwarded push; a SYNC
// carries the exclusion too.
TEST_F(ReplicaShardTest, TheCopyExcludesAndTakesBackASilentWorkerWhereThePrimaryDid) {
  EXPECT_EQ(AckedSeq(Send(Sync(0))), 0u);
  EXPECT_EQ(AckedSeq(Send(Forwarded(Push(0, 0, 1.0f), 1))), 1u);  // round 0 waits for worker 1
  transport::Message exclude;
  exclude.header.set_kind(proto::REPLICA_EXCLUDE);
  exclude.header.set_job(kJob);
  exclude.header.set_sender(1);
  exclude.header.mutable_replica()->set_server(0);
  exclude.header.mutable_replica()->set_epoch(kEpoch);
  exclude.header.mutable_replica()->set_seq(2);
  std::vector<Reply> ignored;
  primary_->Exclude(1, &ignored);
  EXPECT_EQ(AckedSeq(Send(std::move(exclude))), 2u);
  EXPECT_TRUE(copy_->copy().excluded(1));
  EXPECT_EQ(copy_->copy().version(0), 1) << "round 0 applied without worker 1";
  EXPECT_EQ(AckedSeq(Send(Forwarded(Push(0, 1, 2.0f), 3))), 3u);
  ExpectCopyEqualsPrimary();
  // Worker 1 returns with the push it was computing: taken back in both, not applied.
  EXPECT_EQ(AckedSeq(Send(Forwarded(Push(1, 0, 9.0f), 4))), 4u);
  EXPECT_FALSE(copy_->copy().excluded(1));
  EXPECT_EQ(copy_->copy().clock(1), 2);
  ExpectCopyEqualsPrimary();
  // Excluded again, and a SYNC (the copy replaced) keeps it so.
  primary_->Exclude(1, &ignored);
  auto fresh = std::make_unique<ReplicaShard>(NewCore(), &counters_, nullptr);
  copy_ = std::move(fresh);
  EXPECT_EQ(AckedSeq(Send(Sync(10))), 10u);
  EXPECT_TRUE(copy_->copy().excluded(1));
  EXPECT_EQ(counters_.replica_dropped(), 0u);
}

}  // namespace
}  // namespace ringtrain::ps
