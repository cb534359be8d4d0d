// Silent workers in sync mode (ServerCore::Exclude, WorkersHoldingRound, and taking a worker
// back): the rounds stop waiting for an excluded worker and go on with the others; its next
// PUSH, JOIN or WORKER_DONE takes it back at the round in progress, counting the steps it
// missed; pushes for rounds applied meanwhile are acknowledged, not applied; the exclusion is
// part of the shard's state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ringtrain/ps/server_core.h"
#include "server_core_fixture.h"

namespace ringtrain::ps {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::IsEmpty;

class SilentWorkerTest : public core_test::ServerCoreJoinTest {
 protected:
  void SetUp() override { Make(/*workers=*/3, /*size=*/6, /*partition_size=*/4); }

  std::vector<Reply> Exclude(int worker) {
    std::vector<Reply> out;
    core_->Exclude(worker, &out);
    return out;
  }
};

TEST_F(SilentWorkerTest, NobodyHoldsARoundNobodyHasPushedTo) {
  EXPECT_THAT(core_->WorkersHoldingRound(), IsEmpty());
}

TEST_F(SilentWorkerTest, TheWorkersARoundWaitsForAreThoseThatHaveNotPushedToIt) {
  Handle("a", Push(0, 0, 1.0f, 1));
  EXPECT_THAT(core_->WorkersHoldingRound(), ElementsAre(1, 2));
  EXPECT_THAT(core_->WorkersWaitedFor(), ElementsAre(1, 2)) << "in sync, the same";
  Handle("b", Push(1, 0, 1.0f, 1));
  EXPECT_THAT(core_->WorkersHoldingRound(), ElementsAre(2));
  Handle("c", Done(2));
  EXPECT_THAT(core_->WorkersHoldingRound(), IsEmpty()) << "round 0 was applied";
  EXPECT_EQ(core_->version(0), 1);
}

TEST_F(SilentWorkerTest, ExcludingTheLastWorkerARoundWaitsForAppliesItAndAnswersThePulls) {
  Handle("a", Push(0, 0, 2.0f, 1));
  Handle("b", Push(1, 0, 4.0f, 3));
  EXPECT_THAT(Handle("a", Pull(0, 1)), IsEmpty()) << "worker 2 has not pushed";
  std::vector<Reply> r = Exclude(2);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::PULL_REPLY);
  EXPECT_EQ(r[0].peer, "a");
  EXPECT_EQ(core_->version(0), 1);
  // The round's sample-weighted mean of the pushes it had: 1 - 0.5 * (2 + 12) / 4.
  EXPECT_THAT(core_->params(0), Each(FloatEq(-0.75f)));
  EXPECT_TRUE(core_->excluded(2));
  EXPECT_EQ(core_->stats().workers_excluded(), 1u);
  EXPECT_EQ(core_->min_active_clock(), 1);
  // The next rounds need workers 0 and 1 only.
  Handle("a", Push(0, 1, 0.0f, 1));
  Handle("b", Push(1, 1, 0.0f, 1));
  EXPECT_EQ(core_->version(0), 2);
  EXPECT_THAT(core_->WorkersHoldingRound(), IsEmpty());
}

TEST_F(SilentWorkerTest, ExcludingIsIdempotentAndNeverAppliesToAFinishedWorker) {
  Handle("c", Done(2));
  EXPECT_THAT(Exclude(2), IsEmpty());
  EXPECT_FALSE(core_->excluded(2));
  Exclude(1);
  Exclude(1);
  Exclude(7);   // out of range: ignored
  Exclude(-1);  // likewise
  EXPECT_EQ(core_->stats().workers_excluded(), 1u);
}

TEST_F(SilentWorkerTest, OutsideSyncNobodyIsExcluded) {
  Make(/*workers=*/2, /*size=*/6, /*partition_size=*/4, {.consistency = Consistency::kAsync});
  Handle("a", Push(0, 0, 1.0f, 1));
  EXPECT_THAT(core_->WorkersHoldingRound(), IsEmpty());
  Exclude(1);
  EXPECT_FALSE(core_->excluded(1));
  EXPECT_EQ(core_->stats().workers_excluded(), 0u);
}

TEST_F(SilentWorkerTest, AReplacementJoiningIsTakenBackAtTheRoundInProgress) {
  Handle("a", Push(0, 0, 1.0f, 1));
  Handle("b", Push(1, 0, 1.0f, 1));
  Exclude(2);
  for (int64_t c = 1; c <= 3; ++c) {
    Handle("a", Push(0, c, 1.0f, 1));
    Handle("b", Push(1, c, 1.0f, 1));
  }
  ASSERT_EQ(core_->version(0), 4);
  Handle("a", Push(0, 4, 1.0f, 1));  // round 4 in progress
  // A replacement asks where it stands (a JOIN at 0 is a question).
  std::vector<Reply> r = Handle("c2", Join(2, 0));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::JOIN_REPLY);
  EXPECT_EQ(r[0].header.clock(), 4) << "continues at the round in progress";
  EXPECT_FALSE(core_->excluded(2));
  EXPECT_EQ(core_->stats().workers_returned(), 1u);
  EXPECT_EQ(core_->stats().steps_missed(), 4u);
  EXPECT_EQ(core_->stats().pushes_lost(), 0u);
  // Round 4 waits for it again, and takes its push.
  Handle("b", Push(1, 4, 1.0f, 1));
  EXPECT_EQ(core_->version(0), 4);
  EXPECT_THAT(core_->WorkersHoldingRound(), ElementsAre(2));
  r = Handle("c2", Push(2, 4, 1.0f, 1));
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].header.kind(), proto::PUSH_ACK);
  EXPECT_EQ(core_->version(0), 5);
  EXPECT_EQ(core_->stats().messages_dropped(), 0u);
}

TEST_F(SilentWorkerTest, ASlowWorkerPushingForAnAppliedRoundIsAcknowledgedNotAppliedAndCatchesUp) {
  Handle("a", Push(0, 0, 1.0f, 1));
  Handle("b", Push(1, 0, 1.0f, 1));
  Exclude(2);
  Handle("a", Push(0, 1, 0.0f, 1));
  Handle("b", Push(1, 1, 0.0f, 1));
  ASSERT_EQ(core_->version(0), 2);
  const std::vector<float> before(core_->params(0).begin(), core_->params(0).end());
  // Worker 2 wakes up and pushes the step it was computing: round 0, long applied.
  std::vector<Reply> r = Handle("c", Push(2, 0, 100.0f, 1));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::PUSH_ACK);
  EXPECT_EQ(core_->stats().pushes_duplicate(), 1u);
  EXPECT_THAT(core_->params(0), ::testing::ElementsAreArray(before)) << "not applied";
  EXPECT_EQ(core_->clock(2), 2);
  EXPECT_EQ(core_->stats().steps_missed(), 2u);
  // Its pull for the step after is answered at once, and its push for round 1 is old too.
  r = Handle("c", Pull(2, 1));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::PULL_REPLY);
  r = Handle("c", Push(2, 1, 100.0f, 1));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::PUSH_ACK);
  EXPECT_EQ(core_->stats().pushes_duplicate(), 2u);
  // Round 2 waits for all three again.
  Handle("a", Push(0, 2, 1.0f, 1));
  Handle("b", Push(1, 2, 1.0f, 1));
  EXPECT_EQ(core_->version(0), 2);
  Handle("c", Push(2, 2, 1.0f, 1));
  EXPECT_EQ(core_->version(0), 3);
  EXPECT_EQ(core_->stats().messages_dropped(), 0u);
}

TEST_F(SilentWorkerTest, AnExcludedWorkerThatFinishesIsDone) {
  Handle("a", Push(0, 0, 1.0f, 1));
  Exclude(2);
  Exclude(1);
  EXPECT_EQ(core_->version(0), 1);
  Handle("c", Done(2));
  EXPECT_FALSE(core_->excluded(2));
  EXPECT_EQ(core_->stats().workers_done(), 1u);
  Handle("a", Done(0));
  Handle("b", Done(1));
  EXPECT_TRUE(core_->finished());
}

TEST_F(SilentWorkerTest, TheExclusionIsPartOfTheSnapshot) {
  Handle("a", Push(0, 0, 1.0f, 1));
  Handle("b", Push(1, 0, 1.0f, 1));
  Exclude(2);
  ckpt::ShardState s = core_->Snapshot();
  ASSERT_EQ(s.workers.size(), 3u);
  EXPECT_TRUE(s.workers[2].excluded);
  EXPECT_FALSE(s.workers[0].excluded);
  // A fresh core restored from it goes on without worker 2.
  Make(/*workers=*/3, /*size=*/6, /*partition_size=*/4);
  ASSERT_TRUE(core_->Restore(s).ok());
  EXPECT_TRUE(core_->excluded(2));
  Handle("a", Push(0, 1, 1.0f, 1));
  Handle("b", Push(1, 1, 1.0f, 1));
  EXPECT_EQ(core_->version(0), 2);
}

}  // namespace
}  // namespace ringtrain::ps
