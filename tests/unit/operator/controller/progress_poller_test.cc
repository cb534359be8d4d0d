// The progress poller over a fake ProgressSource: what it asks, what it keeps, what it
// reports as changed, and what it forgets.
#include "ringtrain/operator/progress_poller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ringtrain::op {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

class FakeProgressSource : public ProgressSource {
 public:
  StatusOr<Progress> Fetch(const std::string& endpoint, const std::string& job,
                           milliseconds timeout) override {
    std::lock_guard<std::mutex> lock(mu);
    asks.push_back(job + "@" + endpoint);
    last_timeout = timeout;
    auto it = answers.find(endpoint);
    if (it == answers.end()) return DeadlineExceeded("no answer from " + endpoint);
    return it->second;
  }
  std::mutex mu;
  std::map<std::string, Progress> answers;  // by endpoint; others time out
  std::vector<std::string> asks;
  milliseconds last_timeout{0};
};

Progress AtStep(int64_t step) {
  Progress p;
  p.step = step;
  p.total_steps = 100;
  p.loss = 0.5;
  return p;
}

struct Fixture {
  FakeProgressSource source;
  ProgressRound round;
  std::mutex mu;
  std::vector<std::string> changed;
  Time now = Time() + std::chrono::hours(1000);
  std::unique_ptr<ProgressPoller> poller;

  Fixture() {
    ProgressPollerOptions o;
    o.source = &source;
    o.timeout = milliseconds(1234);
    o.parallel = 2;
    o.clock = [this] { return now; };
    poller = std::make_unique<ProgressPoller>(
        o, [this] { return round; },
        [this](const std::string& key) {
          std::lock_guard<std::mutex> lock(mu);
          changed.push_back(key);
        });
  }
};

TEST(ProgressPollerTest, AsksEveryTargetKeepsTheAnswersAndReportsOnlyChanges) {
  Fixture f;
  f.round.running = {"ns/a", "ns/b", "ns/c"};
  f.round.targets = {{"ns/a", "a", "tcp://10.0.0.1:7071"},
                     {"ns/b", "b", "tcp://10.0.0.2:7071"},
                     {"ns/c", "c", "tcp://10.0.0.3:7071"}};
  f.source.answers["tcp://10.0.0.1:7071"] = AtStep(10);
  f.source.answers["tcp://10.0.0.2:7071"] = AtStep(20);  // c does not answer
  f.poller->PollOnce();
  EXPECT_THAT(f.source.asks, UnorderedElementsAre("a@tcp://10.0.0.1:7071", "b@tcp://10.0.0.2:7071",
                                                  "c@tcp://10.0.0.3:7071"));
  EXPECT_EQ(f.source.last_timeout, milliseconds(1234));
  EXPECT_THAT(f.changed, UnorderedElementsAre("ns/a", "ns/b"));
  ASSERT_TRUE(f.poller->Latest("ns/a").has_value());
  EXPECT_EQ(f.poller->Latest("ns/a")->step, 10);
  EXPECT_EQ(f.poller->Latest("ns/a")->update_time, f.now) << "stamped by the poller's clock";
  EXPECT_FALSE(f.poller->Latest("ns/c").has_value());
  EXPECT_EQ(f.poller->polls(), 2u);
  EXPECT_EQ(f.poller->errors(), 1u);

  // The same point again is no change; a new step is.
  f.changed.clear();
  f.now += std::chrono::seconds(10);
  f.source.answers["tcp://10.0.0.2:7071"] = AtStep(21);
  f.poller->PollOnce();
  EXPECT_THAT(f.changed, ElementsAre("ns/b"));
  EXPECT_EQ(f.poller->Latest("ns/a")->update_time, f.now) << "kept fresh even when unchanged";
}

TEST(ProgressPollerTest, ForgetsJobsNoLongerRunning) {
  Fixture f;
  f.round.running = {"ns/a"};
  f.round.targets = {{"ns/a", "a", "tcp://10.0.0.1:7071"}};
  f.source.answers["tcp://10.0.0.1:7071"] = AtStep(10);
  f.poller->PollOnce();
  ASSERT_TRUE(f.poller->Latest("ns/a").has_value());
  // Still running but worker 0 not reachable now: its last answer is kept.
  f.round.targets.clear();
  f.poller->PollOnce();
  EXPECT_TRUE(f.poller->Latest("ns/a").has_value());
  // No longer running: forgotten.
  f.round.running.clear();
  f.poller->PollOnce();
  EXPECT_FALSE(f.poller->Latest("ns/a").has_value());
}

TEST(ProgressPollerTest, ThreadPollsEveryIntervalUntilStopped) {
  FakeProgressSource source;
  source.answers["tcp://w:1"] = AtStep(1);
  std::atomic<int> rounds{0};
  ProgressPollerOptions o;
  o.source = &source;
  o.interval = milliseconds(10);
  ProgressPoller poller(
      o,
      [&] {
        ++rounds;
        return ProgressRound{{"ns/a"}, {{"ns/a", "a", "tcp://w:1"}}};
      },
      [](const std::string&) {});
  poller.Start();
  for (int i = 0; i < 500 && rounds < 3; ++i) std::this_thread::sleep_for(milliseconds(10));
  poller.Stop();
  const int after_stop = rounds;
  EXPECT_GE(after_stop, 3);
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(rounds, after_stop) << "no round after Stop";
  poller.Stop();  // idempotent
}

}  // namespace
}  // namespace ringtrain::op
