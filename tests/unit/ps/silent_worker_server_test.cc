// Silent workers through real sockets (ServerCore's side: server_core_silent_test.cc): the
// ParameterServer's timing of ServerOptions::worker_timeout. A worker that has never been heard
// from is starting, and the first round waits for it however long; once it has trained, a
// silence longer than the timeout gets it excluded and the other worker's round goes on; its
// next push takes it back (acknowledged without being applied, for a round already applied). A
// worker whose push waits in the server's queue while the server was held up is not silent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::ps {
namespace {

constexpr char kJob[] = "silent";
constexpr auto kTimeout = std::chrono::milliseconds(300);
constexpr uint64_t kPartitions = 4;  // 64 parameters in partitions of 16: counted per partition

std::shared_ptr<const ring::PartitionTable> Table() {
  auto r = ring::HashRing::Make({"ps-0"});
  auto t = ring::PartitionTable::Build({{"w", 0, 64}}, 16, *r);
  return std::make_shared<const ring::PartitionTable>(std::move(t).value());
}

class SilentWorkerServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = Table();
    ServerCoreConfig c;
    c.job = kJob;
    c.num_workers = 2;
    c.table = table_;
    c.optimizer = optim::MakeOptimizer({optim::OptimizerKind::kSgd, 0, 0}).value();
    c.consistency = Consistency::kSync;
    std::vector<float> initial(static_cast<size_t>(table_->total_size()), 1.0f);
    ServerOptions options;
    options.bind_endpoint = "tcp://127.0.0.1:0";
    options.poll_interval = std::chrono::milliseconds(10);
    options.worker_timeout = kTimeout;
    // Test hook: once armed, stalls the serving thread (3 times the timeout) right after worker
    // 0's push of round 1 comes in, before worker 1's, as a slow checkpoint between two messages
    // would.
    options.between_messages = [this](const ServerCore& core) {
      if (core.clock(0) == 2 && core.clock(1) == 1 && stall_armed_.exchange(false)) {
        stalling_ = true;
        std::this_thread::sleep_for(kTimeout * 3);
      }
    };
    options.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back(line);
    };
    auto bound = ParameterServer::Bind(server_context_, options,
                                       ServerCore::Make(std::move(c), initial).value());
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    server_ = std::move(bound).value();
    serving_ = std::thread([this] { EXPECT_TRUE(server_->Serve().ok()); });
  }

  void TearDown() override {
    observer_.reset();
    server_->stop();
    if (serving_.joinable()) serving_.join();
  }

  std::unique_ptr<worker::PsClient> Connect(int rank) {
    worker::PsClientOptions o;
    o.job = kJob;
    o.rank = rank;
    o.endpoints = {server_->endpoint()};
    o.table = table_;
    o.consistency = Consistency::kSync;
    o.timeout = std::chrono::seconds(20);
    return worker::PsClient::Connect(client_context_, o).value();
  }

  // Pushes a gradient of ones at `clock`, then pulls the parameters at clock + 1.
  std::future<Status> Step(worker::PsClient& w, int64_t clock) {
    return std::async(std::launch::async, [this, &w, clock] {
      std::vector<float> params(static_cast<size_t>(table_->total_size()));
      worker::PushRequest r{transport::SharedBuffer<float>(std::vector<float>(params.size(), 1.0f)),
                            clock, 1, 0.5f};
      return w.PushPull(r, clock + 1, params);
    });
  }

  // The server's counters, asked by a client of its own (a PsClient is used by one thread).
  proto::ServerStats Stats() {
    if (observer_ == nullptr) observer_ = Connect(1);
    return observer_->Stats(0).value();
  }

  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

  std::atomic<bool> stall_armed_{false};
  std::atomic<bool> stalling_{false};
  std::shared_ptr<const ring::PartitionTable> table_;
  zmq::context_t server_context_{1};
  zmq::context_t client_context_{1};
  std::unique_ptr<ParameterServer> server_;
  std::unique_ptr<worker::PsClient> observer_;
  std::thread serving_;
  std::mutex mu_;
  std::vector<std::string> log_;
};

TEST_F(SilentWorkerServerTest, AStartingWorkerIsWaitedForAndASilentOneIsNot) {
  std::unique_ptr<worker::PsClient> w0 = Connect(0);
  std::vector<float> params(static_cast<size_t>(table_->total_size()));
  ASSERT_TRUE(w0->Join().ok());
  ASSERT_TRUE(w0->Pull(0, params).ok());  // as a worker starts: the parameters of step 0
  std::future<Status> first = Step(*w0, 0);
  // Worker 1 has not started: round 0 waits for it well past the timeout.
  ASSERT_EQ(first.wait_for(kTimeout * 4), std::future_status::timeout) << first.get().ToString();
  EXPECT_EQ(Stats().workers_excluded(), 0u);

  std::unique_ptr<worker::PsClient> w1 = Connect(1);
  ASSERT_TRUE(w1->Join().ok());
  ASSERT_TRUE(w1->Pull(0, params).ok());
  // The server last hears from worker 1 during its step: its silence is counted from then, so
  // not before this.
  const auto before_last_heard = std::chrono::steady_clock::now();
  ASSERT_TRUE(Step(*w1, 0).get().ok());
  ASSERT_TRUE(first.get().ok());

  // Worker 1 has trained and goes silent: round 1 goes on without it after the timeout.
  std::future<Status> second = Step(*w0, 1);
  ASSERT_EQ(second.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "round 1 still waits for the silent worker";
  EXPECT_TRUE(second.get().ok());
  EXPECT_GE(std::chrono::steady_clock::now() - before_last_heard, kTimeout);
  proto::ServerStats s = Stats();
  EXPECT_EQ(s.workers_excluded(), 1u);
  EXPECT_EQ(s.updates_applied(), 2 * kPartitions);
  ASSERT_FALSE(Log().empty());
  EXPECT_THAT(Log().front(), ::testing::HasSubstr("worker 1 has sent nothing for"));

  // It comes back with its push for round 1, already applied: taken back, not applied, and
  // round 2 waits for it again.
  ASSERT_TRUE(Step(*w1, 1).get().ok());
  s = Stats();
  EXPECT_EQ(s.workers_returned(), 1u);
  EXPECT_EQ(s.steps_missed(), 1u);
  EXPECT_EQ(s.pushes_duplicate(), 1u);
  EXPECT_EQ(s.updates_applied(), 2 * kPartitions);
  std::future<Status> third = Step(*w0, 2);
  EXPECT_EQ(third.wait_for(kTimeout / 3), std::future_status::timeout);
  ASSERT_TRUE(Step(*w1, 2).get().ok());
  ASSERT_TRUE(third.get().ok());
  EXPECT_EQ(Stats().updates_applied(), 3 * kPartitions);
  EXPECT_EQ(Stats().messages_dropped(), 0u);
  ASSERT_TRUE(w0->Done().ok());
  ASSERT_TRUE(w1->Done().ok());
}

// The server reads one message at a time when it serves one socket: held up between two
// (a checkpoint, say) past the timeout, it must read what is queued before it judges a worker
// silent, as worker 1's push for the round is queued behind worker 0's.
TEST_F(SilentWorkerServerTest, APushQueuedWhileTheServerWasHeldUpIsNotSilence) {
  std::unique_ptr<worker::PsClient> w0 = Connect(0);
  std::unique_ptr<worker::PsClient> w1 = Connect(1);
  std::vector<float> params(static_cast<size_t>(table_->total_size()));
  for (worker::PsClient* w : {w0.get(), w1.get()}) {
    ASSERT_TRUE(w->Join().ok());
    ASSERT_TRUE(w->Pull(0, params).ok());
  }
  std::future<Status> a = Step(*w0, 0);
  ASSERT_TRUE(Step(*w1, 0).get().ok());
  ASSERT_TRUE(a.get().ok());
  // Round 1: the server stalls (3 times the timeout) right after worker 0's push; worker 1 pushes
  // meanwhile. No message reaches the server between here and worker 0's push.
  stall_armed_ = true;
  // The server notices a new round at its next look (every poll interval): round 1 is seen
  // to start well before the stall.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::future<Status> b = Step(*w0, 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!stalling_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(stalling_) << "the server never stalled after worker 0's push of round 1";
  ASSERT_TRUE(Step(*w1, 1).get().ok());
  ASSERT_TRUE(b.get().ok());
  const proto::ServerStats s = Stats();
  EXPECT_EQ(s.workers_excluded(), 0u);
  EXPECT_EQ(s.steps_missed(), 0u);
  EXPECT_EQ(s.updates_applied(), 2 * kPartitions);
  EXPECT_THAT(Log(), ::testing::Not(::testing::Contains(::testing::HasSubstr("sent nothing"))));
  ASSERT_TRUE(w0->Done().ok());
  ASSERT_TRUE(w1->Done().ok());
}

}  // namespace
}  // namespace ringtrain::ps
