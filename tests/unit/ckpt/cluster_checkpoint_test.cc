// Checkpoints taken while a job trains: servers and workers as threads over real sockets
// (tests/support/thread_cluster.h), each server checkpointing after every step from its own
// thread while its writer thread writes. The checkpoints must not change training, the final
// one must hold exactly the servers' final state, and each server's must restore into a fresh
// server. Under ThreadSanitizer this is the check that snapshots race with nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "ckpt_test_util.h"
#include "ringtrain/app/checkpointing.h"
#include "ringtrain/app/wiring.h"
#include "ringtrain/ckpt/store.h"
#include "ringtrain/ps/shard_checkpoint.h"
#include "synthetic_data.h"
#include "thread_cluster.h"

namespace ringtrain {
namespace {

using namespace std::chrono_literals;

constexpr int kClasses = 5;
constexpr int kSide = 4;

job::TrainingJob Job(job::SyncMode mode) {
  job::TrainingJob job;
  job.metadata.name = "ckpt-cluster";
  job.spec.parameter_servers.replicas = 2;
  job.spec.parameter_servers.partition_size = 16;
  job.spec.workers.replicas = 3;
  job.spec.model = {job::ModelType::kMlp, {12}};
  job.spec.training.seed = 5;
  job.spec.training.sync_mode = mode;
  job.spec.training.optimizer.type = job::OptimizerType::kMomentum;
  job.spec.training.optimizer.learning_rate = 0.1;
  job.spec.training.optimizer.momentum = 0.9;
  job.spec.training.epochs = 2;
  job.spec.training.batch_size = 8;
  return job;
}

class ClusterCheckpointTest : public ::testing::TestWithParam<job::SyncMode> {};

TEST_P(ClusterCheckpointTest, CheckpointsEveryStepWhileTrainingAndRestoresEachShard) {
  const data::Dataset train = testing::MakeSyntheticImages(250, kSide, kClasses, 11);
  auto plan = testing::PlanFor(Job(GetParam()), train, kClasses);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ckpt::testing::ScratchDir dir;
  app::CheckpointOptions options;
  options.directory = dir.path();
  options.every_steps = 1;
  options.keep = 2;

  // Touched only by server m's thread while the cluster runs (one slot per server).
  std::vector<std::unique_ptr<ps::ServerCheckpointer>> checkpointers(2);
  std::vector<Status> made(2), finished(2, FailedPrecondition("never finished"));
  testing::ClusterOptions cluster;
  cluster.timeout = 120s;
  cluster.between_messages = [&](int m, const ps::ServerCore& core) {
    auto& c = checkpointers[static_cast<size_t>(m)];
    if (c == nullptr) {
      auto made_one = app::MakeServerCheckpointer(options, *plan, core, {});
      made[static_cast<size_t>(m)] = made_one.status();
      if (!made_one.ok()) return;
      c = std::move(made_one).value();
    }
    c->Tick(core);
    if (core.finished() && !finished[static_cast<size_t>(m)].ok()) {
      finished[static_cast<size_t>(m)] = c->Finish(core, 60s);
    }
  };
  auto r = testing::RunCluster(*plan, train, nullptr, cluster);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->servers_finished);

  if (GetParam() == job::SyncMode::kSync) {
    // Sync training is the same with or without checkpoints (up to the order of float sums).
    auto reference = testing::RunCluster(*plan, train, nullptr, {});
    ASSERT_TRUE(reference.ok()) << reference.status().ToString();
    ASSERT_EQ(reference->server_params.size(), r->server_params.size());
    for (size_t i = 0; i < r->server_params.size(); ++i) {
      const float want = reference->server_params[i];
      ASSERT_NEAR(r->server_params[i], want, 1e-4 + 1e-4 * std::abs(want))
          << "checkpoints changed training at parameter " << i;
    }
  }

  const std::vector<float> initial = app::InitialParameters(*plan).value();
  for (int m = 0; m < 2; ++m) {
    SCOPED_TRACE("server " + std::to_string(m));
    ASSERT_TRUE(made[static_cast<size_t>(m)].ok()) << made[static_cast<size_t>(m)].ToString();
    ASSERT_TRUE(finished[static_cast<size_t>(m)].ok())
        << finished[static_cast<size_t>(m)].ToString();
    const ps::ServerCheckpointer& c = *checkpointers[static_cast<size_t>(m)];
    EXPECT_GE(c.stats().snapshots, 2u);  // at least one while training, and the final one
    EXPECT_EQ(c.writer_stats().failed, 0u);
    EXPECT_EQ(c.writer_stats().rejected_busy, 0u);

    auto fresh = app::MakeServerCore(*plan, m, initial);
    ASSERT_TRUE(fresh.ok());
    const ckpt::ShardIdentity id = app::ShardIdentityFor(*plan, **fresh);
    auto store = ckpt::Store::Open({app::ShardCheckpointDirectory(options, *plan, m), 2, nullptr});
    ASSERT_TRUE(store.ok());
    auto refs = (*store)->List();
    ASSERT_TRUE(refs.ok());
    ASSERT_EQ(refs->size(), 2u) << "keep 2";
    for (const ckpt::CheckpointRef& ref : *refs) {
      EXPECT_TRUE((*store)->Load(ref, id).ok()) << ref.path;
    }

    auto restored = ps::RestoreLatest(**store, id, fresh->get());
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    EXPECT_TRUE(restored->manifest.final);
    EXPECT_EQ(restored->manifest.step, plan->total_steps);
    EXPECT_TRUE((*fresh)->finished());
    for (uint32_t p : plan->table->partitions_of(m)) {
      const ring::Partition& part = plan->table->partition(p);
      const auto got = (*fresh)->params(p);
      const std::vector<float> want(r->server_params.begin() + part.offset,
                                    r->server_params.begin() + part.offset + part.size);
      ASSERT_EQ(std::vector<float>(got.begin(), got.end()), want) << "partition " << p;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ClusterCheckpointTest,
                         ::testing::Values(job::SyncMode::kSync, job::SyncMode::kAsync),
                         [](const ::testing::TestParamInfo<job::SyncMode>& p) {
                           return p.param == job::SyncMode::kSync ? "sync" : "async";
                         });

}  // namespace
}  // namespace ringtrain
