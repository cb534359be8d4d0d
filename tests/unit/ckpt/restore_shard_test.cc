// app::RestoreShard: what a parameter server does with its checkpoints when it starts — nothing
// when there are none, continue from the newest usable one, refuse (rather than overwrite)
// checkpoints it cannot continue, and restore a final one (nothing left to serve).
// app::FindFinishedJob: whether a job started again has already finished.
// app::RemoveJobCheckpoints: the fresh start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "ckpt_test_util.h"
#include "ringtrain/app/checkpointing.h"
#include "ringtrain/app/wiring.h"
#include "ringtrain/ckpt/store.h"
#include "synthetic_data.h"
#include "thread_cluster.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;

constexpr int kClasses = 4;
constexpr int kSide = 4;

job::TrainingJob Job(std::vector<int> hidden) {
  job::TrainingJob job;
  job.metadata.name = "restore-shard";
  job.spec.parameter_servers.replicas = 2;
  job.spec.parameter_servers.partition_size = 16;
  job.spec.workers.replicas = 2;
  job.spec.model = {job::ModelType::kMlp, std::move(hidden)};
  job.spec.training.optimizer.type = job::OptimizerType::kMomentum;
  job.spec.training.optimizer.momentum = 0.9;
  job.spec.training.epochs = 1;
  job.spec.training.batch_size = 8;
  return job;
}

class RestoreShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.directory = dir_.path();
    options_.every_steps = 1;
    plan_ = testing::PlanFor(Job({6}), train_, kClasses).value();
  }

  std::unique_ptr<ps::ServerCore> Core(const app::JobPlan& plan, int server, float value) {
    std::vector<float> params(static_cast<size_t>(plan.table->total_size()), value);
    return app::MakeServerCore(plan, server, params).value();
  }

  // Writes server `server`'s shard of a model whose every parameter is `value`.
  void WriteCheckpoint(const app::JobPlan& plan, int server, float value, bool final) {
    std::unique_ptr<ps::ServerCore> core = Core(plan, server, value);
    auto store = ckpt::Store::Open(
        {app::ShardCheckpointDirectory(options_, plan, server), options_.keep, nullptr});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto written = (*store)->Write(app::ShardIdentityFor(plan, *core), core->Snapshot(), final);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }

  ckpt::testing::ScratchDir dir_;
  app::CheckpointOptions options_;
  data::Dataset train_ = testing::MakeSyntheticImages(64, kSide, kClasses, 3);
  app::JobPlan plan_;
};

TEST_F(RestoreShardTest, NoCheckpointsMeansAFreshStart) {
  std::unique_ptr<ps::ServerCore> core = Core(plan_, 0, 0.5f);
  auto restored = app::RestoreShard(options_, plan_, core.get());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_FALSE(restored->has_value());
  EXPECT_THAT(core->params(plan_.table->partitions_of(0).front()), ::testing::Each(0.5f));
}

TEST_F(RestoreShardTest, ContinuesFromTheNewestCheckpointOfItsOwnShard) {
  WriteCheckpoint(plan_, 0, 2.0f, /*final=*/false);
  WriteCheckpoint(plan_, 0, 3.0f, /*final=*/false);
  WriteCheckpoint(plan_, 1, 7.0f, /*final=*/false);
  std::unique_ptr<ps::ServerCore> core = Core(plan_, 0, 0.5f);
  auto restored = app::RestoreShard(options_, plan_, core.get());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  ASSERT_TRUE(restored->has_value());
  EXPECT_FALSE((*restored)->manifest.final);
  EXPECT_EQ((*restored)->manifest.server_index, 0);
  for (uint32_t p : plan_.table->partitions_of(0)) {
    EXPECT_THAT(core->params(p), ::testing::Each(3.0f)) << "partition " << p;
  }
}

// What a restored server's status socket answers the operator (app::ServerStatusReply): the
// checkpoint it restored, until it writes one; a server without checkpoints has none to tell.
TEST_F(RestoreShardTest, TheStatusReplyOfARestoredServerIsItsCheckpoint) {
  EXPECT_FALSE(app::ServerStatusReply(nullptr).has_checkpoint());
  WriteCheckpoint(plan_, 1, 2.0f, /*final=*/false);
  std::unique_ptr<ps::ServerCore> core = Core(plan_, 1, 0.5f);
  auto restored = app::RestoreShard(options_, plan_, core.get());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  ASSERT_TRUE(restored->has_value());
  app::CheckpointerHooks hooks;
  hooks.restored = app::LastCheckpointOf(**restored);
  auto checkpointer = app::MakeServerCheckpointer(options_, plan_, *core, std::move(hooks));
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status().ToString();
  const proto::StatusReply reply = app::ServerStatusReply(checkpointer->get());
  ASSERT_TRUE(reply.has_checkpoint());
  EXPECT_EQ(reply.checkpoint().step(), 0) << "the shard's step: no worker pushed";
  EXPECT_EQ(reply.checkpoint().location(), (*restored)->ref.path);
  EXPECT_EQ(reply.checkpoint().unix_ms(), (*restored)->manifest.created_unix_ms);
  EXPECT_GT(reply.checkpoint().unix_ms(), 0);
  EXPECT_FALSE(reply.checkpoint().final());
  EXPECT_TRUE(reply.error().empty());
  EXPECT_FALSE(reply.has_progress()) << "a server has no training progress to report";
}

TEST_F(RestoreShardTest, FinalCheckpointIsRestoredWithNothingLeftToServe) {
  // A server pod replaced after the job finished: it restores the final state and ends.
  std::unique_ptr<ps::ServerCore> finished = Core(plan_, 0, 2.0f);
  std::vector<ps::Reply> out;
  for (int w = 0; w < plan_.num_workers; ++w) {
    transport::Message done;
    done.header.set_kind(proto::WORKER_DONE);
    done.header.set_job(plan_.job_name);
    done.header.set_sender(static_cast<uint32_t>(w));
    finished->Handle("w", std::move(done), &out);
  }
  ASSERT_TRUE(finished->finished());
  auto store = ckpt::Store::Open(
      {app::ShardCheckpointDirectory(options_, plan_, 0), options_.keep, nullptr});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(
      (*store)->Write(app::ShardIdentityFor(plan_, *finished), finished->Snapshot(), true).ok());
  std::unique_ptr<ps::ServerCore> core = Core(plan_, 0, 0.5f);
  auto restored = app::RestoreShard(options_, plan_, core.get());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  ASSERT_TRUE(restored->has_value());
  EXPECT_TRUE((*restored)->manifest.final);
  EXPECT_TRUE(core->finished());
}

TEST_F(RestoreShardTest, AJobIsFinishedWhenEveryServersNewestCheckpointIsFinal) {
  auto none = app::FindFinishedJob(options_, plan_);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value()) << "no checkpoints at all";

  WriteCheckpoint(plan_, 0, 2.0f, /*final=*/true);
  auto one = app::FindFinishedJob(options_, plan_);
  ASSERT_TRUE(one.ok());
  EXPECT_FALSE(one->has_value()) << "server 1 has none";

  WriteCheckpoint(plan_, 1, 2.0f, /*final=*/false);
  auto not_final = app::FindFinishedJob(options_, plan_);
  ASSERT_TRUE(not_final.ok());
  EXPECT_FALSE(not_final->has_value()) << "server 1's newest is not final";

  WriteCheckpoint(plan_, 1, 2.0f, /*final=*/true);
  auto both = app::FindFinishedJob(options_, plan_);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  ASSERT_TRUE(both->has_value());
  EXPECT_EQ((*both)->directory, app::JobCheckpointDirectory(options_, "restore-shard"));
  const Status error = app::FinishedJobError(**both, "restore-shard");
  EXPECT_EQ(error.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(error.message(),
              HasSubstr("job \"restore-shard\" has already finished: its final checkpoints"));
  EXPECT_THAT(error.message(), HasSubstr("--fresh"));
  EXPECT_THAT(error.message(), HasSubstr((*both)->directory));

  // Another model's final checkpoints are not this job's end.
  const app::JobPlan other = testing::PlanFor(Job({9}), train_, kClasses).value();
  auto other_model = app::FindFinishedJob(options_, other);
  ASSERT_TRUE(other_model.ok());
  EXPECT_FALSE(other_model->has_value());
}

TEST_F(RestoreShardTest, CheckpointsOfAnotherModelAreRefusedNotTrainedOver) {
  const app::JobPlan other = testing::PlanFor(Job({9}), train_, kClasses).value();
  WriteCheckpoint(other, 0, 2.0f, /*final=*/false);
  std::unique_ptr<ps::ServerCore> core = Core(plan_, 0, 0.5f);
  auto restored = app::RestoreShard(options_, plan_, core.get());
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(restored.status().message(), HasSubstr("another model"));
  EXPECT_THAT(restored.status().message(),
              HasSubstr("these checkpoints cannot continue job \"restore-shard\""));
  EXPECT_THAT(core->params(plan_.table->partitions_of(0).front()), ::testing::Each(0.5f));
  // Still there: refusing is not deleting.
  auto store = ckpt::Store::Open({app::ShardCheckpointDirectory(options_, plan_, 0), 3, nullptr});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->List()->size(), 1u);
}

TEST_F(RestoreShardTest, DamagedNewestFallsBackToThePreviousCheckpoint) {
  WriteCheckpoint(plan_, 0, 2.0f, /*final=*/false);
  WriteCheckpoint(plan_, 0, 3.0f, /*final=*/false);
  auto store = ckpt::Store::Open({app::ShardCheckpointDirectory(options_, plan_, 0), 3, nullptr});
  ASSERT_TRUE(store.ok());
  const std::string newest = (*store)->List()->front().path;
  ckpt::testing::Truncate(newest + "/shard.bin", 5);
  std::unique_ptr<ps::ServerCore> core = Core(plan_, 0, 0.5f);
  auto restored = app::RestoreShard(options_, plan_, core.get());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  ASSERT_TRUE(restored->has_value());
  ASSERT_EQ((*restored)->skipped.size(), 1u);
  EXPECT_THAT((*restored)->skipped[0], HasSubstr(newest));
  EXPECT_THAT(core->params(plan_.table->partitions_of(0).front()), ::testing::Each(2.0f));
}

TEST_F(RestoreShardTest, RemovingTheJobsCheckpointsMakesTheNextStartFresh) {
  WriteCheckpoint(plan_, 0, 2.0f, /*final=*/true);
  WriteCheckpoint(plan_, 1, 2.0f, /*final=*/true);
  ASSERT_TRUE(app::RemoveJobCheckpoints(options_, "restore-shard").ok());
  EXPECT_FALSE(std::filesystem::exists(app::JobCheckpointDirectory(options_, "restore-shard")));
  EXPECT_TRUE(std::filesystem::exists(dir_.path())) << "only the job's directory goes";
  std::unique_ptr<ps::ServerCore> core = Core(plan_, 0, 0.5f);
  auto restored = app::RestoreShard(options_, plan_, core.get());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_FALSE(restored->has_value());
  EXPECT_TRUE(app::RemoveJobCheckpoints(options_, "restore-shard").ok()) << "none is fine";
}

}  // namespace
}  // namespace ringtrain
