// Synchronous training with N workers and M parameter servers — threads in one process, talking
// over real ZeroMQ TCP sockets on loopback (tests/support/thread_cluster.h) — must give the same
// parameters as single-process SGD with the same global batch and data order.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/data/shard.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/model/model.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/optim/schedule.h"
#include "ringtrain/ps/server_core.h"
#include "synthetic_data.h"
#include "thread_cluster.h"

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

double RelativeDifference(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0;
  double den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / den);
}

// The plan trains what ReferenceTraining trains.
void ExpectPlanOfTheReference(const app::JobPlan& plan, int64_t total_steps) {
  const model::ModelConfig m = MlpConfig();
  EXPECT_EQ(plan.model.kind, m.kind);
  EXPECT_EQ(plan.model.hidden_layers, m.hidden_layers);
  EXPECT_EQ(plan.model.input_dim, m.input_dim);
  EXPECT_EQ(plan.model.num_classes, m.num_classes);
  EXPECT_EQ(plan.optimizer.kind, kMomentum.kind);
  EXPECT_EQ(plan.optimizer.momentum, kMomentum.momentum);
  EXPECT_EQ(plan.optimizer.weight_decay, kMomentum.weight_decay);
  const optim::ScheduleConfig s = Schedule(total_steps);
  EXPECT_EQ(plan.schedule.kind, s.kind);
  EXPECT_EQ(plan.schedule.base_lr, s.base_lr);
  EXPECT_EQ(plan.schedule.warmup_steps, s.warmup_steps);
  EXPECT_EQ(plan.schedule.total_steps, s.total_steps);
  EXPECT_EQ(plan.seed, kSeed);
}

// How pushes and pulls travel: frames over the sockets, the servers' and workers' shared memory,
// or frames with each push in chunks answered by their partitions' next values (streamed rounds);
// shared memory with the pushes over direct links, and the same with every server closing its
// direct links whenever a push waits for its round (each push in flight on one is sent again
// through ZeroMQ).
enum class Path { kFrames, kShared, kChunks, kDirect, kDirectBroken };

// Workers, servers, and the path.
class SyncExactnessTest : public ::testing::TestWithParam<std::tuple<int, int, Path>> {};

TEST_P(SyncExactnessTest, DistributedEqualsSingleProcess) {
  const auto [num_workers, num_ps, path] = GetParam();
  const bool direct = path == Path::kDirect || path == Path::kDirectBroken;
  const bool shared_memory = path == Path::kShared || direct;
  const data::Dataset train = testing::MakeSyntheticImages(kRows, kSide, kClasses, 99);
  // The job the reference trains: a TrainingJob as a user writes it, planned as the pods plan it.
  job::TrainingJob job;
  job.metadata.name = "exactness";
  job.spec.parameter_servers.replicas = num_ps;
  job.spec.parameter_servers.partition_size = kPartitionSize;
  job.spec.workers.replicas = num_workers;
  job.spec.model = {job::ModelType::kMlp, {12}};
  job.spec.training.seed = kSeed;
  job.spec.training.optimizer.type = job::OptimizerType::kMomentum;
  job.spec.training.optimizer.learning_rate = 0.2;
  job.spec.training.optimizer.momentum = 0.9;
  job.spec.training.optimizer.weight_decay = 1e-4;
  job.spec.training.schedule.type = job::ScheduleType::kCosine;
  job.spec.training.schedule.warmup_steps = 5;
  job.spec.training.epochs = kEpochs;
  job.spec.training.batch_size = kBatch;
  auto plan = testing::PlanFor(job, train, kClasses);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ExpectPlanOfTheReference(*plan, data::StepsPerEpoch(kRows, num_workers, kBatch) * kEpochs);
  testing::ClusterOptions options;
  options.timeout = std::chrono::seconds(60);
  options.shared_memory = shared_memory;
  // A partition a chunk (chunks hold whole partitions); otherwise pushes go whole, each answered
  // with its partitions' next values (pulled back).
  options.push_chunk_bytes = path == Path::kChunks ? 1 : 0;
  options.direct_links = direct;
  // Each server's last look, on its thread: pushes accepted and the round then.
  std::vector<std::pair<uint64_t, int64_t>> seen(static_cast<size_t>(num_ps), {0, 0});
  if (path == Path::kDirectBroken) {
    // Right after a push that waits for its round (its answer is parked): the answer is lost
    // with the link, and the push comes again through ZeroMQ, a duplicate.
    options.close_direct_links = [&seen](int server, const ps::ServerCore& core) {
      auto& [pushes, round] = seen[static_cast<size_t>(server)];
      const bool parked = core.stats().pushes_accepted() > pushes && core.round() == round;
      pushes = core.stats().pushes_accepted();
      round = core.round();
      return parked;
    };
  }
  auto r = testing::RunCluster(*plan, train, nullptr, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->servers_finished);
  // Every push went over a direct link (each through shared memory, as the first pull came
  // from there, with nothing else in flight); a link closed with a push in flight cost a resend
  // through ZeroMQ, which the server had (it answers it as a duplicate) or not.
  uint64_t pushes = 0;
  uint64_t duplicates = 0;
  for (const proto::ServerStats& stats : r->servers) {
    pushes += stats.pushes_accepted();
    duplicates += stats.pushes_duplicate();
  }
  if (path == Path::kDirect) {
    EXPECT_EQ(r->direct_sent, pushes);
  } else if (path == Path::kDirectBroken) {
    // (A worker makes a new link a second after one closed: these runs take milliseconds.)
    EXPECT_GT(r->direct_breaks, 0u);
    EXPECT_GT(r->direct_resent, 0u);
    EXPECT_GT(duplicates, 0u) << "a push the server had came again through ZeroMQ";
  } else {
    EXPECT_EQ(r->direct_sent, 0u);
  }
  if (path != Path::kDirectBroken) {
    EXPECT_EQ(r->direct_breaks, 0u);
    EXPECT_EQ(duplicates, 0u);
  }
  // In sync mode every pull is answered from shared memory when asked, every push after the
  // first pull is read from the worker's, and no copy is torn.
  EXPECT_GT(r->bytes_pulled, 0u);
  EXPECT_EQ(r->bytes_pulled_shared, shared_memory ? r->bytes_pulled : 0u);
  EXPECT_GT(r->bytes_pushed, 0u);
  EXPECT_EQ(r->bytes_pushed_shared, shared_memory ? r->bytes_pushed : 0u);
  EXPECT_EQ(r->shared_retries, 0u);
  for (int m = 0; m < num_ps; ++m) {
    const proto::ServerStats& stats = r->servers[static_cast<size_t>(m)];
    EXPECT_EQ(stats.messages_dropped(), 0u);
    // In chunks, each push to a server owning two partitions or more came as two PUSHes or more.
    if (path == Path::kChunks && stats.partitions_owned() >= 2) {
      EXPECT_GT(stats.push_chunks(), stats.pushes_accepted()) << "server " << m;
    } else {
      EXPECT_EQ(stats.push_chunks(), 0u) << "server " << m;
    }
  }

  auto model0 = model::MakeModel(MlpConfig()).value();
  std::vector<float> initial(static_cast<size_t>(model0->num_params()));
  model0->Initialize(kSeed, initial.data());
  const std::vector<float> reference = ReferenceTraining(train, num_workers);
  ASSERT_EQ(r->worker_params[0].size(), reference.size());
  EXPECT_NE(RelativeDifference(initial, reference), 0.0) << "training moved the parameters";
  for (int k = 0; k < num_workers; ++k) {
    const double diff = RelativeDifference(r->worker_params[static_cast<size_t>(k)], reference);
    EXPECT_LE(diff, 1e-4) << "worker " << k << " vs single-process SGD";
  }
  // Every server's partitions equal the reference too.
  ASSERT_EQ(r->server_params.size(), reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    ASSERT_NEAR(r->server_params[i], reference[i], 1e-4 + 1e-4 * std::abs(reference[i]));
  }
}

INSTANTIATE_TEST_SUITE_P(
    WorkersAndServers, SyncExactnessTest,
    ::testing::Values(std::make_tuple(1, 1, Path::kFrames), std::make_tuple(2, 1, Path::kFrames),
                      std::make_tuple(1, 3, Path::kFrames), std::make_tuple(2, 2, Path::kFrames),
                      std::make_tuple(3, 2, Path::kFrames), std::make_tuple(4, 3, Path::kFrames),
                      std::make_tuple(1, 1, Path::kShared), std::make_tuple(3, 2, Path::kShared),
                      std::make_tuple(4, 3, Path::kShared), std::make_tuple(1, 1, Path::kChunks),
                      std::make_tuple(2, 2, Path::kChunks), std::make_tuple(4, 3, Path::kChunks),
                      std::make_tuple(1, 1, Path::kDirect), std::make_tuple(3, 2, Path::kDirect),
                      std::make_tuple(2, 2, Path::kDirectBroken),
                      std::make_tuple(4, 3, Path::kDirectBroken)),
    [](const ::testing::TestParamInfo<std::tuple<int, int, Path>>& p) {
      const Path path = std::get<2>(p.param);
      return std::to_string(std::get<0>(p.param)) + "workers_" +
             std::to_string(std::get<1>(p.param)) + "servers" +
             (path == Path::kShared         ? "_shared"
              : path == Path::kChunks       ? "_chunks"
              : path == Path::kDirect       ? "_direct"
              : path == Path::kDirectBroken ? "_direct_broken"
                                            : "");
    });

}  // namespace
}  // namespace ringtrain
