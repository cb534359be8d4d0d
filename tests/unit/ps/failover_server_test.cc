// Failover through real sockets (replication: 1): two ParameterServers, each keeping a copy of
// the other's shard, and two workers (PsClient with detours). Server 0 goes away mid-training;
// its successor is told to take over (ps::AskToTakeOver, as the launcher and the operator do);
// the workers, finding server 0 unreachable, train on through its successor; the replacement
// fetches the shard back and the rest of training goes to it. The final parameters are those of
// a run without the failure, no push is lost, and the counters say who served what.
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

#include "ringtrain/launch/loopback_ports.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/replica_shard.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ps/takeover.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::ps {
namespace {

using ::testing::HasSubstr;

constexpr char kJob[] = "failover";
constexpr int kWorkers = 2;
constexpr int64_t kBefore = 5;  // steps before server 0 goes away
constexpr int64_t kDuring = 6;  // steps while its successor serves its shard
constexpr int64_t kAfter = 4;   // steps once the replacement has it back

std::shared_ptr<const ring::PartitionTable> Table() {
  auto r = ring::HashRing::Make({"ps-0", "ps-1"});
  auto t = ring::PartitionTable::Build({{"w", 0, 256}}, 16, *r);
  return std::make_shared<const ring::PartitionTable>(std::move(t).value());
}

// One server: its core, the copy of its predecessor's shard, the link to its successor.
class Server {
 public:
  Server(zmq::context_t& context, std::shared_ptr<const ring::PartitionTable> table, int index,
         const std::vector<std::string>& endpoints, std::vector<std::string>* log, std::mutex* mu) {
    auto logger = [log, mu, index](const std::string& line) {
      std::lock_guard<std::mutex> lock(*mu);
      log->push_back("ps-" + std::to_string(index) + ": " + line);
    };
    std::unique_ptr<ServerCore> core = MakeCore(table, index);
    Replication r;
    BackupLinkOptions link;
    link.server = index;
    link.successor = 1 - index;
    link.successor_endpoint = endpoints[static_cast<size_t>(1 - index)];
    link.fetch_timeout = std::chrono::seconds(5);
    link.log = logger;
    r.backup = BackupLink::Connect(context, std::move(link)).value();
    r.replica =
        std::make_unique<ReplicaShard>(MakeCore(table, 1 - index), &core->mutable_stats(), logger);
    ServerOptions options;
    options.bind_endpoint = endpoints[static_cast<size_t>(index)];
    options.poll_interval = std::chrono::milliseconds(10);
    options.final_wait = std::chrono::seconds(5);
    options.final_linger = std::chrono::seconds(1);
    options.log = logger;
    auto bound = ParameterServer::Bind(context, options, std::move(core), std::move(r));
    EXPECT_TRUE(bound.ok()) << bound.status().ToString();
    server_ = std::move(bound).value();
  }
  ~Server() { Stop(); }

  // Fetches (a replacement restores its shard from the successor's copy) and serves, on a
  // thread of its own.
  void Start(FetchOutcome* fetched = nullptr) {
    thread_ = std::thread([this, fetched] {
      StatusOr<FetchOutcome> f = server_->FetchShard();
      EXPECT_TRUE(f.ok()) << f.status().ToString();
      if (fetched != nullptr && f.ok()) *fetched = *f;
      EXPECT_TRUE(server_->Serve().ok());
    });
  }
  void Stop() {
    if (server_ != nullptr) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  // REQUIRES: stopped, or serving finished.
  const ServerCore& core() const { return server_->core(); }

  static std::unique_ptr<ServerCore> MakeCore(std::shared_ptr<const ring::PartitionTable> table,
                                              int index) {
    ServerCoreConfig c;
    c.job = kJob;
    c.server_index = index;
    c.num_workers = kWorkers;
    c.table = std::move(table);
    c.optimizer = optim::MakeOptimizer({optim::OptimizerKind::kMomentum, 0.9, 0}).value();
    c.consistency = Consistency::kSync;
    std::vector<float> initial(static_cast<size_t>(c.table->total_size()), 1.0f);
    return ServerCore::Make(std::move(c), initial).value();
  }

 private:
  std::unique_ptr<ParameterServer> server_;
  std::thread thread_;
};

class FailoverServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = Table();
    ASSERT_FALSE(table_->partitions_of(0).empty());
    ASSERT_FALSE(table_->partitions_of(1).empty());
  }

  std::unique_ptr<worker::PsClient> Connect(int rank, const std::vector<std::string>& endpoints) {
    worker::PsClientOptions o;
    o.job = kJob;
    o.rank = rank;
    o.endpoints = endpoints;
    o.table = table_;
    o.consistency = Consistency::kSync;
    o.timeout = std::chrono::seconds(30);
    o.detours = true;
    o.detour_after = std::chrono::milliseconds(100);
    o.detour_retry = std::chrono::milliseconds(50);
    return worker::PsClient::Connect(context_, o).value();
  }

  // Workers as they start: joined, with the parameters of step 0.
  std::vector<std::unique_ptr<worker::PsClient>> StartWorkers(
      const std::vector<std::string>& endpoints, std::vector<std::vector<float>>* params) {
    std::vector<std::unique_ptr<worker::PsClient>> clients;
    params->assign(kWorkers, std::vector<float>(static_cast<size_t>(table_->total_size())));
    for (int w = 0; w < kWorkers; ++w) {
      clients.push_back(Connect(w, endpoints));
      EXPECT_TRUE(clients.back()->Join().ok());
      EXPECT_TRUE(clients.back()->Pull(0, (*params)[static_cast<size_t>(w)]).ok());
    }
    return clients;
  }

  // Worker `w`'s steps [from, to): a gradient that depends on the worker, the step and the
  // parameter, pushed, and the next round's parameters pulled into *params.
  static std::future<Status> Steps(worker::PsClient& client, int w, int64_t from, int64_t to,
                                   std::vector<float>* params) {
    return std::async(std::launch::async, [&client, w, from, to, params] {
      for (int64_t step = from; step < to; ++step) {
        std::vector<float> g(params->size());
        for (size_t i = 0; i < g.size(); ++i) {
          g[i] =
              0.01f * static_cast<float>((w + 1) * (step + 1)) + 0.001f * static_cast<float>(i % 7);
        }
        worker::PushRequest r{transport::SharedBuffer<float>(std::move(g)), step, 4, 0.1f};
        RT_RETURN_IF_ERROR(client.PushPull(r, step + 1, *params));
      }
      return Status::Ok();
    });
  }

  // Every worker's steps [from, to), together (a sync round needs them all).
  static void AllSteps(std::vector<std::unique_ptr<worker::PsClient>>& clients, int64_t from,
                       int64_t to, std::vector<std::vector<float>>* params) {
    std::vector<std::future<Status>> running;
    for (int w = 0; w < kWorkers; ++w) {
      running.push_back(
          Steps(*clients[static_cast<size_t>(w)], w, from, to, &(*params)[static_cast<size_t>(w)]));
    }
    for (auto& r : running) {
      ASSERT_EQ(r.wait_for(std::chrono::seconds(60)), std::future_status::ready);
      Status s = r.get();
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

  std::shared_ptr<const ring::PartitionTable> table_;
  zmq::context_t context_{1};
  std::mutex mu_;
  std::vector<std::string> log_;
};

TEST_F(FailoverServerTest, TheSuccessorServesALostServersShardUntilItsReplacementFetchesItBack) {
  const size_t n = static_cast<size_t>(table_->total_size());
  const int64_t total = kBefore + kDuring + kAfter;

  // The reference: the same steps without any failure.
  std::vector<float> reference;
  {
    const std::vector<std::string> endpoints = launch::FreeLoopbackEndpoints(2).value();
    Server s0(context_, table_, 0, endpoints, &log_, &mu_);
    Server s1(context_, table_, 1, endpoints, &log_, &mu_);
    s0.Start();
    s1.Start();
    std::vector<std::vector<float>> params;
    std::vector<std::unique_ptr<worker::PsClient>> clients = StartWorkers(endpoints, &params);
    ASSERT_NO_FATAL_FAILURE(AllSteps(clients, 0, total, &params));
    reference = params[0];
    EXPECT_EQ(params[1], reference);
    for (auto& c : clients) ASSERT_TRUE(c->Done().ok());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    log_.clear();
  }

  const std::vector<std::string> endpoints = launch::FreeLoopbackEndpoints(2).value();
  auto s0 = std::make_unique<Server>(context_, table_, 0, endpoints, &log_, &mu_);
  Server s1(context_, table_, 1, endpoints, &log_, &mu_);
  s0->Start();
  s1.Start();
  std::vector<std::vector<float>> params;
  std::vector<std::unique_ptr<worker::PsClient>> clients = StartWorkers(endpoints, &params);
  ASSERT_NO_FATAL_FAILURE(AllSteps(clients, 0, kBefore, &params));

  // Server 0 goes away; its successor is told before any replacement exists.
  s0.reset();
  Status takeover =
      AskToTakeOver(context_, endpoints[1], kJob, 0, std::chrono::seconds(5), 1, nullptr);
  ASSERT_TRUE(takeover.ok()) << takeover.ToString();
  // Training goes on without server 0: every request for its shard goes to server 1.
  ASSERT_NO_FATAL_FAILURE(AllSteps(clients, kBefore, kBefore + kDuring, &params));
  for (auto& c : clients) EXPECT_GT(c->detours_served(), 0u);

  // The replacement, on the same endpoint, fetches the shard as served.
  auto replacement = std::make_unique<Server>(context_, table_, 0, endpoints, &log_, &mu_);
  FetchOutcome fetched;
  replacement->Start(&fetched);
  ASSERT_NO_FATAL_FAILURE(AllSteps(clients, kBefore + kDuring, total, &params));
  for (auto& c : clients) ASSERT_TRUE(c->Done().ok());
  replacement->Stop();
  s1.Stop();
  // Fetched while the workers went on: at least where they were when it started.
  EXPECT_TRUE(fetched.restored) << fetched.why;
  EXPECT_GE(fetched.step, kBefore + kDuring);
  EXPECT_LE(fetched.step, total);

  // The model is the failure-free run's (a round's pushes may be summed in another order).
  ASSERT_EQ(params[0].size(), reference.size());
  for (size_t i = 0; i < n; ++i)
    ASSERT_NEAR(params[0][i], reference[i], 1e-5f) << "parameter " << i;
  EXPECT_EQ(params[1], params[0]);
  const proto::ServerStats& successor = s1.core().stats();
  EXPECT_EQ(successor.takeovers(), 1u);
  // At least a push (answered with its partitions' next values) per worker and step while
  // server 0 was away.
  EXPECT_GE(successor.detours_served(), static_cast<uint64_t>(kWorkers * kDuring));
  EXPECT_EQ(replacement->core().stats().pushes_lost(), 0u);
  EXPECT_EQ(successor.pushes_lost(), 0u);
  const std::vector<std::string> log = Log();
  const auto said = [&](const std::string& what) {
    for (const std::string& line : log) {
      if (line.find(what) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(said("ps-1: taking over ps-0's shard from step " + std::to_string(kBefore)));
  EXPECT_TRUE(said("ps-1: handing ps-0's shard back at step " + std::to_string(fetched.step)));
}

}  // namespace
}  // namespace ringtrain::ps
