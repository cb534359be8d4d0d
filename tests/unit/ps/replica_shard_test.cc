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

#include "replica_fixture.h"
#include "ringtrain/ps/replica_wire.h"

namespace ringtrain::ps {
namespace {

using replica_test::kEpoch;
using replica_test::kJob;
using replica_test::ReplicaShardTest;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

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

// Streamed rounds: which chunks of a worker's push are in travels with the copy, so the copy
// answers them again rather than applying them twice.
TEST_F(ReplicaShardTest, APushPartlyInSurvivesTheWire) {
  std::vector<Reply> ignored;
  transport::Message chunk = Push(1, 0, 2.0f);
  chunk.header.set_partial(true);
  chunk.header.mutable_partitions()->DeleteSubrange(1, chunk.header.partitions_size() - 1);
  chunk.payloads.resize(1);
  primary_->Handle("w", std::move(chunk), &ignored);
  ASSERT_TRUE(primary_->mid_push());
  proto::ShardStateMeta meta;
  std::vector<zmq::message_t> frames;
  EncodeShardState(primary_->Snapshot(), &meta, &frames);
  StatusOr<ckpt::ShardState> after = DecodeShardState(meta, frames);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_THAT(after->workers[1].partial, ::testing::ElementsAre(0u));
  EXPECT_TRUE(after->workers[0].partial.empty());
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
