// The progress poller over a fake ProgressSource: what it asks, what it keeps, what it
// reports as changed, and what it forgets.
#include "ringtrain/operator/progress_poller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
                           milliseconds timeout, const PeerAuth&) override {
    std::lock_guard<std::mutex> lock(mu);
    asks.push_back(job + "@" + endpoint);
    last_timeout = timeout;
    auto it = answers.find(endpoint);
    if (it == answers.end()) return DeadlineExceeded("no answer from " + endpoint);
    return it->second;
  }
  StatusOr<ServerReport> FetchServer(const std::string& endpoint, const std::string& job,
                                     milliseconds, const PeerAuth&) override {
    std::lock_guard<std::mutex> lock(mu);
    asks.push_back(job + "@" + endpoint);
    auto it = checkpoints.find(endpoint);
    if (it == checkpoints.end()) return DeadlineExceeded("no answer from " + endpoint);
    return ServerReport{it->second, waiting_for[endpoint]};
  }
  std::mutex mu;
  std::map<std::string, Progress> answers;  // by endpoint; others time out
  // Servers, by endpoint (nullopt: it has none yet); others time out.
  std::map<std::string, std::optional<ServerCheckpoint>> checkpoints;
  std::map<std::string, std::vector<int>> waiting_for;  // by endpoint, of those that answer
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

ServerCheckpoint CheckpointAt(int64_t step) {
  ServerCheckpoint c;
  c.step = step;
  c.time = Time() + std::chrono::hours(1000) + std::chrono::seconds(step);
  c.location = "/ckpt/a/ps/" + std::to_string(step);
  return c;
}

// Each server's last checkpoint and the workers it waits for, asked beside worker 0's
// progress: kept per server while the job runs (also when a server does not answer), a
// checkpoint dropped when a server says it has none, forgotten when the job stops running. A
// change of the workers waited for alone is not reported (it changes with every round).
TEST(ProgressPollerTest, KeepsEachServersLastCheckpointAndTheWorkersItWaitsFor) {
  Fixture f;
  f.round.running = {"ns/a"};
  f.round.targets = {{"ns/a", "a", "tcp://10.0.0.1:7071"},
                     {"ns/a", "a", "tcp://10.0.1.1:7072", 0},
                     {"ns/a", "a", "tcp://10.0.1.2:7072", 1}};
  f.source.answers["tcp://10.0.0.1:7071"] = AtStep(30);
  f.source.checkpoints["tcp://10.0.1.1:7072"] = CheckpointAt(20);
  f.source.checkpoints["tcp://10.0.1.2:7072"] = std::nullopt;  // none yet
  f.source.waiting_for["tcp://10.0.1.2:7072"] = {2};
  f.poller->PollOnce();
  EXPECT_THAT(f.poller->LatestWaitingFor("ns/a"),
              ElementsAre(std::pair<const int, std::vector<int>>(0, {}),
                          std::pair<const int, std::vector<int>>(1, {2})));
  EXPECT_THAT(f.source.asks, UnorderedElementsAre("a@tcp://10.0.0.1:7071", "a@tcp://10.0.1.1:7072",
                                                  "a@tcp://10.0.1.2:7072"));
  EXPECT_THAT(f.poller->LatestCheckpoints("ns/a"),
              ElementsAre(std::pair<const int, ServerCheckpoint>(0, CheckpointAt(20))));
  EXPECT_EQ(f.poller->polls(), 3u);
  EXPECT_THAT(f.changed, ElementsAre("ns/a", "ns/a")) << "the progress and ps-0's checkpoint";

  // ps-1 writes one; ps-0 does not answer (its pod is being replaced): its last one is kept.
  f.changed.clear();
  f.source.checkpoints["tcp://10.0.1.2:7072"] = CheckpointAt(25);
  f.source.checkpoints.erase("tcp://10.0.1.1:7072");
  f.poller->PollOnce();
  std::map<int, ServerCheckpoint> latest = f.poller->LatestCheckpoints("ns/a");
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_EQ(latest[0], CheckpointAt(20));
  EXPECT_EQ(latest[1], CheckpointAt(25));
  EXPECT_THAT(f.changed, ElementsAre("ns/a")) << "ps-1 only: the progress stood still";
  EXPECT_EQ(f.poller->errors(), 1u);

  // The same answers again, but for the workers waited for: nothing reported.
  f.changed.clear();
  f.source.checkpoints["tcp://10.0.1.1:7072"] = CheckpointAt(20);
  f.source.waiting_for["tcp://10.0.1.2:7072"] = {0, 1};
  f.poller->PollOnce();
  EXPECT_TRUE(f.changed.empty());
  EXPECT_EQ(f.poller->LatestWaitingFor("ns/a")[1], (std::vector<int>{0, 1}));

  // A server that answers it has none (it started from scratch) loses its entry.
  f.source.checkpoints["tcp://10.0.1.1:7072"] = std::nullopt;
  f.poller->PollOnce();
  EXPECT_EQ(f.poller->LatestCheckpoints("ns/a").count(0), 0u);
  EXPECT_THAT(f.changed, ElementsAre("ns/a"));

  f.round.running.clear();
  f.round.targets.clear();
  f.poller->PollOnce();
  EXPECT_TRUE(f.poller->LatestCheckpoints("ns/a").empty()) << "no longer running: forgotten";
  EXPECT_TRUE(f.poller->LatestWaitingFor("ns/a").empty());
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
