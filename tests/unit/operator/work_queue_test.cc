#include "ringtrain/operator/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace ringtrain::op {
namespace {

using std::chrono::milliseconds;

TEST(WorkQueueTest, DeduplicatesQueuedKeys) {
  WorkQueue q;
  q.Add("a");
  q.Add("a");
  q.Add("b");
  EXPECT_EQ(q.Length(), 2u);
  EXPECT_EQ(q.Get(milliseconds(0)), "a");
  EXPECT_EQ(q.Get(milliseconds(0)), "b");
  EXPECT_EQ(q.Get(milliseconds(0)), std::nullopt);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingIsRequeuedOnDoneNotHandedOutTwice) {
  WorkQueue q;
  q.Add("a");
  auto k = q.Get(milliseconds(0));
  ASSERT_EQ(k, "a");
  q.Add("a");
  EXPECT_EQ(q.Get(milliseconds(0)), std::nullopt) << "still being processed";
  q.Done("a");
  EXPECT_EQ(q.Get(milliseconds(0)), "a");
  q.Done("a");
  EXPECT_EQ(q.Get(milliseconds(0)), std::nullopt);
}

TEST(WorkQueueTest, AddAfterDelaysTheKey) {
  WorkQueue q;
  const auto start = WorkQueue::Clock::now();
  q.AddAfter("late", milliseconds(50));
  q.Add("now");
  EXPECT_EQ(q.Get(milliseconds(0)), "now");
  auto k = q.Get(milliseconds(5000));
  EXPECT_EQ(k, "late");
  EXPECT_GE(WorkQueue::Clock::now() - start, milliseconds(50));
}

TEST(WorkQueueTest, BackoffDoublesAndCaps) {
  BackoffOptions o{milliseconds(5), milliseconds(1000)};
  EXPECT_EQ(BackoffDelay(o, 0), milliseconds(5));
  EXPECT_EQ(BackoffDelay(o, 1), milliseconds(10));
  EXPECT_EQ(BackoffDelay(o, 4), milliseconds(80));
  EXPECT_EQ(BackoffDelay(o, 8), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(o, 1000), milliseconds(1000));
}

TEST(WorkQueueTest, RateLimitedCountsFailuresUntilForget) {
  WorkQueue q(BackoffOptions{milliseconds(1), milliseconds(4)});
  q.AddRateLimited("a");
  q.AddRateLimited("a");
  EXPECT_EQ(q.Failures("a"), 2);
  EXPECT_EQ(q.Get(milliseconds(5000)), "a");
  q.Done("a");
  q.Forget("a");
  EXPECT_EQ(q.Failures("a"), 0);
}

TEST(WorkQueueTest, ShutDownWakesWaiters) {
  WorkQueue q;
  std::thread waiter([&] { EXPECT_EQ(q.Get(milliseconds(60000)), std::nullopt); });
  q.ShutDown();
  waiter.join();
  q.Add("x");
  EXPECT_EQ(q.Get(milliseconds(0)), std::nullopt);
}

// Many producers and consumers: every key is processed, never by two workers at once.
TEST(WorkQueueTest, ConcurrentWorkersNeverShareAKey) {
  WorkQueue q;
  std::atomic<int> processed{0};
  std::mutex mu;
  std::set<std::string> in_flight;
  std::atomic<bool> overlap{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto k = q.Get(milliseconds(2000))) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!in_flight.insert(*k).second) overlap = true;
        }
        std::this_thread::yield();
        {
          std::lock_guard<std::mutex> lock(mu);
          in_flight.erase(*k);
        }
        processed++;
        q.Done(*k);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) q.Add("key-" + std::to_string(i % 17));
    });
  }
  for (auto& t : producers) t.join();
  while (q.Length() > 0) std::this_thread::sleep_for(milliseconds(5));
  q.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_GE(processed.load(), 17);
}

// Regression (review): every reconcile of a job with a deadline re-added its key with a long
// delay, and the waiting entries piled up.
TEST(WorkQueueTest, AKeyWaitsOnceAtTheEarliestTimeAskedFor) {
  WorkQueue q;
  for (int i = 0; i < 1000; ++i) q.AddAfter("ns/job", std::chrono::hours(1));
  q.AddAfter("ns/job", std::chrono::milliseconds(20));
  q.AddAfter("ns/job", std::chrono::hours(2));
  auto key = q.Get(std::chrono::seconds(5));
  ASSERT_TRUE(key.has_value()) << "the earliest entry wins";
  EXPECT_EQ(*key, "ns/job");
  q.Done(*key);
  EXPECT_FALSE(q.Get(std::chrono::milliseconds(100)).has_value()) << "and it was the only one";
}

}  // namespace
}  // namespace ringtrain::op
