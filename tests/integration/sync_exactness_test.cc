// Synchronous training with N workers and M parameter servers — threads in one process, talking
// over real ZeroMQ TCP sockets on loopback — must give the same parameters as single-process
// SGD with the same global batch and data order.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/data/shard.h"
#include "ringtrain/model/model.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/optim/schedule.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/transport/event_sink.h"
#include "ringtrain/worker/trainer.h"
#include "synthetic_data.h"

namespace ringtrain {
namespace {

constexpr uint64_t kSeed = 7;
constexpr int64_t kRows = 250;  // not a multiple of N: shards and last batches are uneven
constexpr int kSide = 4;        // 16 features
constexpr int kClasses = 5;
constexpr int64_t kBatch = 8;
constexpr int kEpochs = 2;
constexpr int64_t kPartitionSize = 16;  // small: many partitions spread over the servers

model::ModelConfig MlpConfig() { return {model::ModelKind::kMlp, {12}, kSide * kSide, kClasses}; }

optim::ScheduleConfig Schedule(int64_t total_steps) {
  optim::ScheduleConfig s;
  s.kind = optim::ScheduleKind::kCosine;
  s.base_lr = 0.2;
  s.warmup_steps = 5;
  s.total_steps = total_steps;
  return s;
}

const optim::OptimizerConfig kMomentum{optim::OptimizerKind::kMomentum, 0.9, 1e-4};

// Single-process reference: at global step t the batch is the concatenation, in worker
// order, of what each worker's step t uses.
std::vector<float> ReferenceTraining(const data::Dataset& train, int num_workers) {
  auto model = model::MakeModel(MlpConfig()).value();
  std::vector<float> params(static_cast<size_t>(model->num_params()));
  model->Initialize(kSeed, params.data());
  auto optimizer = optim::MakeOptimizer(kMomentum).value();
  std::vector<float> state(params.size() * static_cast<size_t>(optimizer->state_slots()), 0.0f);
  const int64_t spe = data::StepsPerEpoch(kRows, num_workers, kBatch);
  auto schedule = optim::LearningRateSchedule::Create(Schedule(spe * kEpochs)).value();
  std::vector<float> grad(params.size());
  int64_t step = 0;
  int64_t updates = 0;  // optimizer steps applied: a step without rows applies none
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    std::vector<data::EpochOrder> orders;
    std::vector<data::RowRange> shards;
    for (int k = 0; k < num_workers; ++k) {
      shards.push_back(data::RowShard(kRows, num_workers, k));
      orders.emplace_back(shards.back().size(), epoch, kSeed, true, k);
    }
    for (int64_t s = 0; s < spe; ++s, ++step) {
      std::vector<int64_t> rows;
      for (int k = 0; k < num_workers; ++k) {
        for (int64_t i : orders[static_cast<size_t>(k)].Batch(s, kBatch)) {
          rows.push_back(shards[static_cast<size_t>(k)].begin + i);
        }
      }
      if (rows.empty()) continue;
      data::Batch batch;
      data::GatherRows(train, rows, &batch);
      model->LossAndGradient(params.data(), batch.view(), grad.data());
      optimizer->Apply(static_cast<float>(schedule.At(step)), ++updates, grad, params, state);
    }
  }
  return params;
}

struct Cluster {
  zmq::context_t context{2};
  std::vector<std::unique_ptr<ps::ParameterServer>> servers;
  std::vector<std::thread> threads;
  ~Cluster() {
    for (auto& s : servers) s->stop();
    for (auto& t : threads) t.join();
  }
};

double RelativeDifference(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0;
  double den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / den);
}

class SyncExactnessTest : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(SyncExactnessTest, DistributedEqualsSingleProcess) {
  const auto [num_workers, num_ps] = GetParam();
  const data::Dataset train = testing::MakeSyntheticImages(kRows, kSide, kClasses, 99);
  auto model0 = model::MakeModel(MlpConfig()).value();
  auto table = app::MakePartitionTable(*model0, num_ps, kPartitionSize).value();
  std::vector<float> initial(static_cast<size_t>(model0->num_params()));
  model0->Initialize(kSeed, initial.data());

  Cluster cluster;
  std::vector<std::string> endpoints;
  for (int m = 0; m < num_ps; ++m) {
    ps::ServerCoreConfig c;
    c.job = "exact";
    c.server_index = m;
    c.num_workers = num_workers;
    c.table = table;
    c.optimizer = optim::MakeOptimizer(kMomentum).value();
    auto core = ps::ServerCore::Make(std::move(c), initial).value();
    ps::ServerOptions o;
    o.bind_endpoint = "tcp://127.0.0.1:0";
    o.poll_interval = std::chrono::milliseconds(20);
    auto server = ps::ParameterServer::Bind(cluster.context, o, std::move(core));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    endpoints.push_back((*server)->endpoint());
    cluster.servers.push_back(std::move(server).value());
  }
  for (auto& s : cluster.servers) {
    ps::ParameterServer* p = s.get();
    cluster.threads.emplace_back([p] { ASSERT_TRUE(p->Serve().ok()); });
  }

  const int64_t spe = data::StepsPerEpoch(kRows, num_workers, kBatch);
  auto schedule = optim::LearningRateSchedule::Create(Schedule(spe * kEpochs)).value();
  std::vector<std::vector<float>> finals(static_cast<size_t>(num_workers));
  std::vector<Status> statuses(static_cast<size_t>(num_workers));
  std::vector<std::thread> workers;
  for (int k = 0; k < num_workers; ++k) {
    workers.emplace_back([&, k] {
      data::Dataset shard = data::TakeRows(train, data::RowShard(kRows, num_workers, k));
      auto model = model::MakeModel(MlpConfig()).value();
      worker::PsClientOptions co;
      co.job = "exact";
      co.rank = k;
      co.endpoints = endpoints;
      co.table = table;
      co.timeout = std::chrono::seconds(60);
      auto client = worker::PsClient::Connect(cluster.context, co);
      if (!client.ok()) {
        statuses[static_cast<size_t>(k)] = client.status();
        return;
      }
      transport::NullEventSink sink;
      worker::TrainerOptions to;
      to.rank = k;
      to.num_workers = num_workers;
      to.epochs = kEpochs;
      to.batch_size = kBatch;
      to.seed = kSeed;
      to.shuffle = true;
      to.global_rows = kRows;
      worker::Trainer trainer(to, model.get(), client->get(), &shard, nullptr, &schedule, &sink);
      auto result = trainer.Run();
      statuses[static_cast<size_t>(k)] = result.status();
      finals[static_cast<size_t>(k)] = trainer.params();
    });
  }
  for (auto& t : workers) t.join();
  for (int k = 0; k < num_workers; ++k) {
    ASSERT_TRUE(statuses[static_cast<size_t>(k)].ok())
        << "worker " << k << ": " << statuses[static_cast<size_t>(k)].ToString();
  }
  for (auto& t : cluster.threads) t.join();
  cluster.threads.clear();
  for (int m = 0; m < num_ps; ++m) {
    EXPECT_TRUE(cluster.servers[static_cast<size_t>(m)]->core().finished());
    EXPECT_EQ(cluster.servers[static_cast<size_t>(m)]->core().stats().messages_dropped(), 0u);
  }

  const std::vector<float> reference = ReferenceTraining(train, num_workers);
  ASSERT_EQ(finals[0].size(), reference.size());
  EXPECT_NE(RelativeDifference(initial, reference), 0.0) << "training moved the parameters";
  for (int k = 0; k < num_workers; ++k) {
    const double diff = RelativeDifference(finals[static_cast<size_t>(k)], reference);
    EXPECT_LE(diff, 1e-4) << "worker " << k << " vs single-process SGD";
  }
  // Every server's partitions equal the reference too.
  for (const ring::Partition& p : table->partitions()) {
    auto got = cluster.servers[static_cast<size_t>(p.server)]->core().params(p.id);
    for (int64_t i = 0; i < p.size; ++i) {
      ASSERT_NEAR(got[static_cast<size_t>(i)], reference[static_cast<size_t>(p.offset + i)],
                  1e-4 + 1e-4 * std::abs(reference[static_cast<size_t>(p.offset + i)]));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(WorkersAndServers, SyncExactnessTest,
                         ::testing::Values(std::make_tuple(1, 1), std::make_tuple(2, 1),
                                           std::make_tuple(1, 3), std::make_tuple(2, 2),
                                           std::make_tuple(3, 2), std::make_tuple(4, 3)),
                         [](const ::testing::TestParamInfo<std::tuple<int, int>>& p) {
                           return std::to_string(std::get<0>(p.param)) + "workers_" +
                                  std::to_string(std::get<1>(p.param)) + "servers";
                         });

}  // namespace
}  // namespace ringtrain
