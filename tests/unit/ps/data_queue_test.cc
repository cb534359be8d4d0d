// DataQueue (ps/data_queue.h): every task of every epoch handed out and finished exactly once
// whatever the workers' pace; a slow worker takes fewer; a returned lease is handed out again
// first and its late finish counted as a replay; a retried request gets the same lease; the
// workers must agree on the cut; a restored queue gives back the leases it held.
#include "ringtrain/ps/data_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

namespace ringtrain::ps {
namespace {

using ::testing::HasSubstr;
using Kind = TaskAnswer::Kind;
using Lease = DataQueue::Lease;

Lease Of(const TaskAnswer& a) { return Lease{a.epoch, a.position, -1}; }

TEST(DataQueueTest, EveryTaskOfEveryEpochIsFinishedOnceAndASlowWorkerTakesFewer) {
  constexpr int kWorkers = 3;
  constexpr int64_t kTasks = 17;
  constexpr int kEpochs = 4;
  DataQueue q(kWorkers);
  std::map<std::pair<int64_t, int64_t>, int> finished;
  std::vector<std::optional<Lease>> holding(kWorkers);
  std::vector<int> taken(kWorkers, 0);
  std::mt19937 rng(5);
  int ended = 0;
  std::vector<bool> done(kWorkers, false);
  for (int round = 0; ended < kWorkers && round < 10000; ++round) {
    // Worker 2 is slow: it gets a turn a fifth as often.
    const int w = static_cast<int>(rng() % 11) < 1 ? 2 : static_cast<int>(rng() % 2);
    if (done[static_cast<size_t>(w)]) continue;
    StatusOr<TaskAnswer> a = q.Next(w, kTasks, kEpochs, holding[static_cast<size_t>(w)]);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    if (holding[static_cast<size_t>(w)]) {
      ++finished[{holding[static_cast<size_t>(w)]->epoch,
                  holding[static_cast<size_t>(w)]->position}];
      holding[static_cast<size_t>(w)].reset();
    }
    if (a->kind == Kind::kEnd) {
      done[static_cast<size_t>(w)] = true;
      ++ended;
    } else if (a->kind == Kind::kLease) {
      holding[static_cast<size_t>(w)] = Of(*a);
      ++taken[static_cast<size_t>(w)];
    }
  }
  ASSERT_EQ(ended, kWorkers);
  EXPECT_EQ(finished.size(), static_cast<size_t>(kTasks * kEpochs));
  for (const auto& [task, count] : finished) EXPECT_EQ(count, 1);
  EXPECT_EQ(q.state().finished, static_cast<uint64_t>(kTasks * kEpochs));
  EXPECT_EQ(q.state().finished_again, 0u);
  EXPECT_LT(taken[2] * 3, taken[0]) << "the slow worker takes fewer";
}

TEST(DataQueueTest, AReturnedLeaseIsHandedOutAgainFirstAndItsLateFinishIsAReplay) {
  DataQueue q(2);
  StatusOr<TaskAnswer> a0 = q.Next(0, 5, 1, std::nullopt);
  StatusOr<TaskAnswer> a1 = q.Next(1, 5, 1, std::nullopt);
  ASSERT_TRUE(a0.ok() && a1.ok());
  EXPECT_EQ(a0->position, 0);
  EXPECT_EQ(a1->position, 1);
  // Worker 0 went silent (or died and its replacement joined): its task goes back.
  EXPECT_TRUE(q.Return(0));
  EXPECT_FALSE(q.Return(0));
  StatusOr<TaskAnswer> again = q.Next(1, 5, 1, Of(*a1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->position, 0) << "the returned task first";
  // Worker 0 was only slow: it finishes task 0, which worker 1 now holds: a replay.
  StatusOr<TaskAnswer> late = q.Next(0, 5, 1, Of(*a0));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->position, 2);
  EXPECT_EQ(q.state().finished_again, 1u);
  EXPECT_EQ(q.state().requeued, 1u);
  EXPECT_EQ(q.state().finished, 1u);
}

TEST(DataQueueTest, AFinishOfAReturnedTaskNotYetHandedOutCompletesIt) {
  DataQueue q(2);
  StatusOr<TaskAnswer> a = q.Next(0, 3, 1, std::nullopt);
  ASSERT_TRUE(a.ok());
  q.Return(0);
  StatusOr<TaskAnswer> next = q.Next(0, 3, 1, Of(*a));  // it finished after all
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->position, 1) << "task 0 is done; not handed out again";
  EXPECT_EQ(q.state().finished, 1u);
  EXPECT_EQ(q.state().finished_again, 0u);
}

TEST(DataQueueTest, ARetriedRequestGetsTheSameLeaseAndTheEndWaitsForTheLastTask) {
  DataQueue q(2);
  StatusOr<TaskAnswer> a = q.Next(0, 2, 1, std::nullopt);
  StatusOr<TaskAnswer> retried = q.Next(0, 2, 1, std::nullopt);
  ASSERT_TRUE(a.ok() && retried.ok());
  EXPECT_EQ(Of(*a), Of(*retried));
  StatusOr<TaskAnswer> b = q.Next(1, 2, 1, std::nullopt);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->position, 1);
  // Worker 1 finished; worker 0 still holds task 0: wait, then the end.
  StatusOr<TaskAnswer> wait = q.Next(1, 2, 1, Of(*b));
  ASSERT_TRUE(wait.ok());
  EXPECT_EQ(wait->kind, Kind::kWait);
  StatusOr<TaskAnswer> end = q.Next(0, 2, 1, Of(*a));
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->kind, Kind::kEnd);
}

TEST(DataQueueTest, WorkersMustAgreeOnTheCutAndFinishRealTasks) {
  DataQueue q(2);
  ASSERT_TRUE(q.Next(0, 10, 2, std::nullopt).ok());
  StatusOr<TaskAnswer> other = q.Next(1, 11, 2, std::nullopt);
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(other.status().message(),
              HasSubstr("worker 1 cuts the data into 11 tasks for 2 epochs; the queue holds 10"));
  EXPECT_FALSE(q.Next(1, 10, 2, Lease{2, 0, -1}).ok()) << "epoch 2 of 2";
  EXPECT_FALSE(q.Next(1, 10, 2, Lease{0, 10, -1}).ok()) << "position 10 of 10";
  EXPECT_FALSE(q.Next(2, 10, 2, std::nullopt).ok()) << "worker 2 of 2";
  EXPECT_FALSE(q.Next(1, 0, 2, std::nullopt).ok());
}

TEST(DataQueueTest, AJobContinuedWithMoreEpochsGrowsTheQueue) {
  DataQueue q(1);
  std::optional<Lease> held;
  for (int i = 0; i < 2; ++i) {
    StatusOr<TaskAnswer> a = q.Next(0, 2, 1, held);
    ASSERT_TRUE(a.ok());
    held = Of(*a);
  }
  StatusOr<TaskAnswer> end = q.Next(0, 2, 1, held);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->kind, Kind::kEnd);
  // Started again with 2 epochs: the second is handed out.
  StatusOr<TaskAnswer> more = q.Next(0, 2, 2, std::nullopt);
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->kind, Kind::kLease);
  EXPECT_EQ(more->epoch, 1);
  EXPECT_FALSE(q.Next(0, 2, 1, std::nullopt).ok()) << "fewer epochs than the queue holds";
}

TEST(DataQueueTest, ARestoredQueueGivesBackTheLeasesItHeld) {
  DataQueue q(2);
  ASSERT_TRUE(q.Next(0, 4, 1, std::nullopt).ok());
  ASSERT_TRUE(q.Next(1, 4, 1, std::nullopt).ok());
  DataQueue restored(2);
  restored.Restore(q.state());
  EXPECT_TRUE(restored.state().leased.empty());
  EXPECT_EQ(restored.state().returned.size(), 2u);
  StatusOr<TaskAnswer> a = restored.Next(1, 4, 1, std::nullopt);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->position, 0) << "the returned ones first";
}

}  // namespace
}  // namespace ringtrain::ps
