// ProgressTracker: the status line from workers' events, including events whose numbers are
// out of range (the control socket is input: any local process can send to it).
#include "ringtrain/launch/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "events.h"

namespace ringtrain::launch {
namespace {

using ::testing::HasSubstr;

const SteadyTime kStart{};
const SteadyTime kLater = kStart + std::chrono::seconds(10);
const std::string kFullBar = "[" + std::string(24, '=') + "]";

// Worker `index`'s PROGRESS event, with 16 samples a step, a loss and a learning rate.
proto::Event Progress(uint32_t index, int64_t step, int64_t total, int epoch) {
  proto::Event e = testing::WorkerProgress(index, step, total, epoch);
  e.set_samples(static_cast<uint64_t>(std::max<int64_t>(step, 0)) * 16);
  e.set_loss(0.5);
  e.set_learning_rate(0.1);
  return e;
}

// The bar between '[' and ']': exactly 24 characters of '=', '>' and ' '.
std::string Bar(const std::string& line) {
  const size_t open = line.find('[');
  const size_t close = line.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  return line.substr(open + 1, close - open - 1);
}

TEST(ProgressTrackerTest, HalfWayShowsAHalfBar) {
  ProgressTracker t(2, 1, 4, kStart);
  t.OnEvent(Progress(0, 50, 100, 2), kStart + std::chrono::seconds(5));
  t.OnEvent(Progress(1, 50, 100, 2), kLater);
  const std::string line = t.StatusLine(kLater);
  EXPECT_THAT(line, HasSubstr("epoch 2/4 [============>           ]  50% step 50/100")) << line;
}

// Regression: a step beyond the total (one forged PROGRESS event) made the bar longer than its
// buffer, writing past the heap block (ASan: heap-buffer-overflow in StatusLine).
TEST(ProgressTrackerTest, StepBeyondTotalIsClampedToAFullBar) {
  ProgressTracker t(1, 1, 3, kStart);
  t.OnEvent(Progress(0, 1000, 10, 1), kLater);
  const std::string line = t.StatusLine(kLater);
  EXPECT_EQ(Bar(line), std::string(24, '=')) << line;
  EXPECT_THAT(line, HasSubstr("100% step 10/10")) << line;
}

// A forged event that looked plausible (step = total, large) and the worker's real events
// after it: the tracker keeps the larger step, the real total comes back, and the line must
// still stay within bounds.
TEST(ProgressTrackerTest, StickyForgedStepAgainstTheRealTotalStaysInBounds) {
  ProgressTracker t(2, 1, 3, kStart);
  t.OnEvent(Progress(0, 1'000'000'000, 1'000'000'000, 1), kStart + std::chrono::seconds(1));
  t.OnEvent(Progress(0, 5, 10, 1), kStart + std::chrono::seconds(2));
  t.OnEvent(Progress(1, 5, 10, 1), kLater);
  const std::string line = t.StatusLine(kLater);
  EXPECT_EQ(Bar(line).size(), 24u) << line;
  EXPECT_THAT(line, HasSubstr(" 75% step 7/10")) << line;
}

// Extremes: int64 limits would overflow the sum of steps or the double-to-int conversion of
// the bar (UBSan), a huge epoch would be shown as is.
TEST(ProgressTrackerTest, ExtremeValuesStayInBounds) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  ProgressTracker t(3, 1, 5, kStart);
  t.OnEvent(Progress(0, kMax, kMax, std::numeric_limits<int>::max()), kLater);
  t.OnEvent(Progress(1, kMax, 1, 3), kLater);
  t.OnEvent(Progress(2, kMax, kMax, 3), kLater);
  const std::string line = t.StatusLine(kLater);
  EXPECT_EQ(Bar(line), std::string(24, '=')) << line;
  EXPECT_THAT(line, HasSubstr("epoch 5/5 " + kFullBar + " 100%")) << line;
  // Negative numbers are ignored.
  ProgressTracker n(1, 1, 5, kStart);
  n.OnEvent(Progress(0, -7, -3, -2), kLater);
  const std::string negative = n.StatusLine(kLater);
  EXPECT_THAT(negative, HasSubstr("epoch 1/5 [" + std::string(24, ' ') + "]   0% step 0/0"))
      << negative;
}

TEST(ProgressTrackerTest, EventsForUnknownWorkersAreIgnored) {
  ProgressTracker t(1, 1, 2, kStart);
  t.OnEvent(Progress(7, 10, 10, 1), kLater);
  EXPECT_THAT(t.StatusLine(kLater), HasSubstr("step 0/0"));
  EXPECT_EQ(t.total_samples(), 0u);
}

TEST(ProgressTrackerTest, LastCheckpointIsTheSmallestOfTheServersNewest) {
  ProgressTracker t(2, 2, 2, kStart);
  EXPECT_FALSE(t.last_checkpoint().has_value());
  t.OnEvent(testing::ServerCheckpoint(0, 40, "/ckpt/j/ps-0/ckpt-1"), kLater);
  EXPECT_FALSE(t.last_checkpoint().has_value()) << "ps-1 has none yet";
  t.OnEvent(testing::ServerCheckpoint(1, 30, "/ckpt/j/ps-1/ckpt-1"), kLater);
  ASSERT_TRUE(t.last_checkpoint().has_value());
  EXPECT_EQ(t.last_checkpoint()->step, 30);
  EXPECT_FALSE(t.last_checkpoint()->final);
  t.OnEvent(testing::ServerCheckpoint(1, 60, "/ckpt/j/ps-1/ckpt-2"), kLater);
  EXPECT_EQ(t.last_checkpoint()->step, 40);
  // A replacement of ps-0 restored its shard at step 40: still its newest.
  proto::Event ready = testing::ServerReady(0, "tcp://127.0.0.1:4000");
  ready.set_restored_from("/ckpt/j/ps-0/ckpt-1");
  ready.set_restored_step(40);
  t.OnEvent(ready, kLater);
  EXPECT_EQ(t.last_checkpoint()->step, 40);
  // A replacement restored from its successor's copy (replication) at step 70: not a checkpoint
  // on disk, so the job's checkpoint stays at 40.
  proto::Event from_copy = testing::ServerReady(0, "tcp://127.0.0.1:4000");
  from_copy.set_restored_from("the copy on ps-1");
  from_copy.set_restored_step(70);
  from_copy.set_restored_from_copy(true);
  t.OnEvent(from_copy, kLater);
  EXPECT_EQ(t.last_checkpoint()->step, 40);
  t.OnEvent(testing::ServerCheckpoint(0, 100, "/ckpt/j/ps-0/ckpt-3", /*final=*/true), kLater);
  t.OnEvent(testing::ServerCheckpoint(1, 100, "/ckpt/j/ps-1/ckpt-3", /*final=*/true), kLater);
  EXPECT_EQ(t.last_checkpoint()->step, 100);
  EXPECT_TRUE(t.last_checkpoint()->final);
  // Events of servers the job does not have, and from workers, are ignored.
  t.OnEvent(testing::ServerCheckpoint(5, 1, "/x"), kLater);
  proto::Event from_worker = testing::ServerCheckpoint(0, 1, "/x");
  from_worker.set_role("worker");
  t.OnEvent(from_worker, kLater);
  EXPECT_EQ(t.last_checkpoint()->step, 100);
}

// A server's counters over every process that served its shard: ps-1 killed twice (its
// replacements counting the pushes they lost), each process's last report kept and added up.
TEST(ProgressTrackerTest, AServersCountersAddUpOverItsReplacements) {
  ProgressTracker t(2, 2, 2, kStart);
  auto report = [&](uint32_t index, proto::EventType type, uint64_t lost, uint64_t dropped,
                    uint64_t staleness_max, uint32_t done) {
    proto::Event e;
    e.set_type(type);
    e.set_role("ps");
    e.set_index(index);
    proto::ServerStats* s = e.mutable_server_stats();
    s->set_pushes_lost(lost);
    s->set_messages_dropped(dropped);
    s->set_staleness_max(staleness_max);
    s->set_workers_done(done);
    s->set_partitions_owned(5);
    // A sparse table's size: the killed process's rows are its replacement's, not more.
    s->set_sparse_rows(100 + lost);
    s->set_sparse_table_bytes(1000 + lost);
    s->set_sparse_raw_bytes(700 + lost);
    s->set_sparse_rows_created(10);
    t.OnEvent(e, kLater);
  };
  t.OnEvent(testing::ServerReady(0, "tcp://127.0.0.1:4000"), kLater);
  t.OnEvent(testing::ServerReady(1, "tcp://127.0.0.1:4001"), kLater);
  report(1, proto::PROGRESS, 0, 1, 4, 0);
  report(1, proto::PROGRESS, 0, 2, 6, 0);  // the newest report of a process replaces the older
  t.OnEvent(testing::ServerReady(1, "tcp://127.0.0.1:4001"), kLater);  // after a kill
  report(1, proto::PROGRESS, 8, 0, 3, 0);
  t.OnEvent(testing::ServerReady(1, "tcp://127.0.0.1:4001"), kLater);  // killed again
  report(1, proto::PROGRESS, 19, 1, 2, 1);
  report(1, proto::FINISHED, 19, 1, 2, 2);
  report(0, proto::FINISHED, 0, 0, 9, 2);
  const std::vector<proto::ServerStats> s = t.server_stats();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].pushes_lost(), 27u);
  EXPECT_EQ(s[1].messages_dropped(), 3u);
  EXPECT_EQ(s[1].staleness_max(), 6u) << "a maximum, not a sum";
  EXPECT_EQ(s[1].workers_done(), 2u) << "the newest process's";
  EXPECT_EQ(s[1].partitions_owned(), 5u);
  EXPECT_EQ(s[1].sparse_rows(), 119u) << "the newest process's";
  EXPECT_EQ(s[1].sparse_table_bytes(), 1019u);
  EXPECT_EQ(s[1].sparse_raw_bytes(), 719u);
  EXPECT_EQ(s[1].sparse_rows_created(), 30u) << "a counter: each process's rows created";
  EXPECT_EQ(s[0].pushes_lost(), 0u);
  EXPECT_EQ(t.server_totals().pushes_lost(), 27u);
  EXPECT_EQ(t.server_totals().staleness_max(), 9u);
  EXPECT_EQ(t.messages_dropped(), 3u);
}

TEST(FormatDurationTest, OutOfRangeSecondsAreBounded) {
  EXPECT_EQ(FormatDuration(-5), "0:00");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::quiet_NaN()), "0:00");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::infinity()), "277777:46:40");
  EXPECT_EQ(FormatDuration(3725), "1:02:05");
}

}  // namespace
}  // namespace ringtrain::launch

namespace ringtrain::launch {
namespace {

TEST(ProgressTrackerTest, TrainingLoopIsTheSlowestWorkersFromTheirFinishedEvents) {
  ProgressTracker t(2, 1, 4, kStart);
  EXPECT_EQ(t.train_seconds(), 0.0);
  proto::Event progress = Progress(0, 10, 100, 1);
  progress.set_train_seconds(99.0);  // only FINISHED carries the loop's time
  t.OnEvent(progress, kLater);
  EXPECT_EQ(t.train_seconds(), 0.0);
  proto::Event done0 = Progress(0, 100, 100, 4);
  done0.set_type(proto::FINISHED);
  done0.set_train_seconds(7.5);
  t.OnEvent(done0, kLater);
  EXPECT_EQ(t.train_seconds(), 7.5);
  proto::Event done1 = Progress(1, 100, 100, 4);
  done1.set_type(proto::FINISHED);
  done1.set_train_seconds(8.25);
  t.OnEvent(done1, kLater);
  EXPECT_EQ(t.train_seconds(), 8.25);
}

}  // namespace
}  // namespace ringtrain::launch
