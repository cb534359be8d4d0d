// The final model through real sockets (ServerCore's side: server_core_test.cc): a PULL marked
// final_model is answered only once every worker has finished, with every worker's updates in
// it, and the reply reaches the worker although the server stops serving (and its context ends)
// the moment the last worker is done.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <span>
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

using ::testing::Each;
using ::testing::FloatEq;

constexpr char kJob[] = "final";

std::shared_ptr<const ring::PartitionTable> Table(int64_t size, int64_t partition_size) {
  auto r = ring::HashRing::Make({"ps-0"});
  auto t = ring::PartitionTable::Build({{"w", 0, size}}, partition_size, *r);
  return std::make_shared<const ring::PartitionTable>(std::move(t).value());
}

// Two workers, plain SGD, every parameter starting at 1.
std::unique_ptr<ServerCore> MakeCore(std::shared_ptr<const ring::PartitionTable> table,
                                     Consistency consistency) {
  ServerCoreConfig c;
  c.job = kJob;
  c.num_workers = 2;
  c.table = table;
  c.optimizer = optim::MakeOptimizer({optim::OptimizerKind::kSgd, 0, 0}).value();
  c.consistency = consistency;
  std::vector<float> initial(static_cast<size_t>(table->total_size()), 1.0f);
  return ServerCore::Make(std::move(c), initial).value();
}

// Real sockets: worker 0 asks for the final model while worker 1 still trains (async), and the
// server, whose Serve() returns as the last worker finishes, destroys its socket and context at
// once. The reply (4 MiB) must still reach worker 0: the server lingers for it.
TEST(FinalModelServerTest, TheReplyReachesWorkerZeroAlthoughTheServerStopsAtOnce) {
  constexpr int64_t kSize = int64_t{1} << 20;
  auto table = Table(kSize, 65536);
  std::promise<std::string> endpoint;
  std::promise<std::vector<float>> served;
  std::atomic<ParameterServer*> serving{nullptr};
  std::thread server_thread([&] {
    zmq::context_t context(1);
    ServerOptions options;
    options.bind_endpoint = "tcp://127.0.0.1:0";
    options.poll_interval = std::chrono::milliseconds(10);
    StatusOr<std::unique_ptr<ParameterServer>> bound =
        ParameterServer::Bind(context, options, MakeCore(table, Consistency::kAsync));
    if (!bound.ok()) {
      ADD_FAILURE() << bound.status().ToString();
      endpoint.set_value("");
      return;
    }
    std::unique_ptr<ParameterServer> server = std::move(bound).value();
    serving = server.get();
    endpoint.set_value(server->endpoint());
    EXPECT_TRUE(server->Serve().ok());
    serving = nullptr;
    std::vector<float> params;
    for (const ring::Partition& p : table->partitions()) {
      std::span<const float> v = server->core().params(p.id);
      params.insert(params.end(), v.begin(), v.end());
    }
    served.set_value(std::move(params));
    server.reset();
  });  // the context ends here, as a process's would
  // A failing assertion below stops the server before the thread is joined.
  struct Joiner {
    std::thread& thread;
    std::atomic<ParameterServer*>& serving;
    ~Joiner() {
      if (ParameterServer* s = serving.load()) s->stop();
      thread.join();
    }
  } joiner{server_thread, serving};
  const std::string at = endpoint.get_future().get();
  ASSERT_FALSE(at.empty());

  zmq::context_t context(1);
  auto connect = [&](int rank) {
    worker::PsClientOptions o;
    o.job = kJob;
    o.rank = rank;
    o.endpoints = {at};
    o.table = table;
    o.consistency = Consistency::kAsync;
    o.timeout = std::chrono::seconds(30);
    return worker::PsClient::Connect(context, o).value();
  };
  std::unique_ptr<worker::PsClient> w0 = connect(0);
  std::unique_ptr<worker::PsClient> w1 = connect(1);
  std::vector<float> p0(static_cast<size_t>(kSize));
  std::vector<float> p1(static_cast<size_t>(kSize));
  ASSERT_TRUE(w0->Pull(0, p0).ok());
  ASSERT_TRUE(w1->Pull(0, p1).ok());
  auto push = [&](worker::PsClient& w, float g, std::vector<float>& params) {
    worker::PushRequest r{transport::SharedBuffer<float>(std::vector<float>(params.size(), g)), 0,
                          1, 0.5f};
    return w.PushPull(r, 1, params);
  };
  ASSERT_TRUE(push(*w0, 1.0f, p0).ok());
  EXPECT_THAT(p0, Each(FloatEq(0.75f))) << "worker 0's own update only";

  std::future<Status> finished =
      std::async(std::launch::async, [&] { return w0->DoneWithFinalModel(p0); });
  // Worker 1 goes on only once worker 0 is done, so its update comes after.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (true) {
    StatusOr<proto::ServerStats> stats = w1->Stats(0);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    if (stats->workers_done() == 1) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(finished.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
      << "answered before worker 1 finished";
  ASSERT_TRUE(push(*w1, 2.0f, p1).ok());
  ASSERT_TRUE(w1->Done().ok());

  const Status s = finished.get();
  ASSERT_TRUE(s.ok()) << s.ToString();
  // 1 - 0.25 * 1 - 0.25 * 2: both workers' updates, bit for bit what the server held.
  EXPECT_THAT(p0, Each(FloatEq(0.25f)));
  EXPECT_EQ(p0, served.get_future().get());
}

}  // namespace
}  // namespace ringtrain::ps
