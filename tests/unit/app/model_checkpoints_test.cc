// The model from a job's checkpoints: shards written by the servers' own code path (a core per
// server, its snapshot, ckpt::Store), put back together bit for bit; a damaged newest shard
// falls back to the one before with a message; another job's or another model's checkpoints
// are refused with a clear error, never assembled.
#include "ringtrain/app/model_checkpoints.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ringtrain/app/checkpointing.h"
#include "ringtrain/app/wiring.h"
#include "ringtrain/ckpt/shard_file.h"
#include "ringtrain/ckpt/store.h"

namespace ringtrain::app {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

job::TrainingJob Job(const std::string& name, std::vector<int> hidden) {
  job::TrainingJob job;
  job.metadata.name = name;
  job.spec.model = {job::ModelType::kMlp, std::move(hidden)};
  job.spec.parameter_servers.replicas = 3;
  job.spec.parameter_servers.partition_size = 1024;
  job.spec.workers.replicas = 2;
  job.spec.training.optimizer.type = job::OptimizerType::kMomentum;
  job.spec.training.optimizer.momentum = 0.9;
  return job;
}

JobPlan Plan(const std::string& name = "assembled", std::vector<int> hidden = {16}) {
  return MakeJobPlan(Job(name, std::move(hidden)), {100, 64, 10}).value();
}

// A whole model of distinct values.
std::vector<float> Params(const JobPlan& plan, float seed) {
  std::vector<float> p(static_cast<size_t>(plan.table->total_size()));
  for (size_t i = 0; i < p.size(); ++i) p[i] = seed + 0.001f * static_cast<float>(i);
  return p;
}

class ModelCheckpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() / ("ringtrain-model-ckpt-" + std::to_string(::getpid()) +
                                          "-" + std::to_string(std::random_device{}())))
                .string();
  }
  void TearDown() override { fs::remove_all(root_); }

  // Every server of `plan` checkpoints its shard of `params`, as `ringtrain ps` does.
  void WriteAll(const JobPlan& plan, const std::vector<float>& params, bool final) {
    for (int i = 0; i < plan.num_ps; ++i) WriteShard(plan, i, params, final);
  }

  ckpt::WrittenCheckpoint WriteShard(const JobPlan& plan, int server,
                                     const std::vector<float>& params, bool final,
                                     const std::string& job_dir = "") {
    CheckpointOptions where;
    where.directory = root_;
    std::unique_ptr<ps::ServerCore> core = MakeServerCore(plan, server, params).value();
    std::string dir = ShardCheckpointDirectory(where, plan, server);
    if (!job_dir.empty()) {
      dir = (fs::path(root_) / job_dir / ("ps-" + std::to_string(server))).string();
    }
    auto store = ckpt::Store::Open({dir, 3, nullptr}).value();
    StatusOr<ckpt::WrittenCheckpoint> w =
        store->Write(ShardIdentityFor(plan, *core), core->Snapshot(), final);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return *w;
  }

  std::string root_;
};

TEST_F(ModelCheckpointsTest, TheIdentityWithoutACoreIsTheServersOwn) {
  const JobPlan plan = Plan();
  const std::vector<float> params = Params(plan, 1.0f);
  for (int i = 0; i < plan.num_ps; ++i) {
    std::unique_ptr<ps::ServerCore> core = MakeServerCore(plan, i, params).value();
    StatusOr<ckpt::ShardIdentity> id = ShardIdentityFor(plan, i);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    const ckpt::ShardIdentity expected = ShardIdentityFor(plan, *core);
    EXPECT_EQ(id->layout_fingerprint, expected.layout_fingerprint);
    EXPECT_EQ(id->model_fingerprint, expected.model_fingerprint);
    EXPECT_EQ(id->state_slots, expected.state_slots);
    EXPECT_EQ(id->num_elements(), expected.num_elements());
    EXPECT_TRUE(ckpt::CheckMatches(ckpt::ManifestFor(expected), *id).ok());
  }
  EXPECT_EQ(ShardIdentityFor(plan, 3).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ModelCheckpointsTest, AssemblesEveryShardBitForBit) {
  const JobPlan plan = Plan();
  ASSERT_GE(plan.table->partitions().size(), 3u) << "every server holds a part";
  WriteAll(plan, Params(plan, 1.0f), /*final=*/false);
  const std::vector<float> last = Params(plan, -2.0f);
  WriteAll(plan, last, /*final=*/true);

  StatusOr<CheckpointedModel> model = LoadModelFromCheckpoints(plan, root_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->params, last);
  ASSERT_THAT(model->shards, SizeIs(3));
  for (int i = 0; i < 3; ++i) {
    const ShardSource& s = model->shards[static_cast<size_t>(i)];
    EXPECT_EQ(s.server, i);
    EXPECT_EQ(s.directory, root_ + "/assembled/ps-" + std::to_string(i));
    EXPECT_TRUE(s.final);
    EXPECT_EQ(s.checkpoint.sequence, 2u);
    EXPECT_THAT(s.skipped, IsEmpty());
  }
  EXPECT_TRUE(model->final());
  EXPECT_EQ(model->min_step(), model->max_step());
  EXPECT_EQ(model->plan.job_name, "assembled");
}

// Regression guard for the bad input: a truncated shard of the newest checkpoint.
TEST_F(ModelCheckpointsTest, ATruncatedNewestShardFallsBackToThePreviousWithAMessage) {
  const JobPlan plan = Plan();
  const std::vector<float> before = Params(plan, 1.0f);
  const std::vector<float> after = Params(plan, 5.0f);
  WriteAll(plan, before, false);
  WriteAll(plan, after, true);
  // Server 1's newest checkpoint loses the end of its shard file.
  const std::string newest = WriteShard(plan, 1, after, true).ref.path;
  const std::string shard = newest + "/" + ckpt::kShardFileName;
  fs::resize_file(shard, fs::file_size(shard) / 2);

  StatusOr<CheckpointedModel> model = LoadModelFromCheckpoints(plan, root_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const ShardSource& s1 = model->shards[1];
  ASSERT_THAT(s1.skipped, SizeIs(1));
  EXPECT_THAT(s1.skipped[0], HasSubstr(shard));
  EXPECT_EQ(s1.checkpoint.sequence, 2u) << "the one before the damaged one";
  EXPECT_THAT(model->shards[0].skipped, IsEmpty());
  // Server 1's partitions are of its previous checkpoint (the same values here), the others'
  // of their newest.
  EXPECT_EQ(model->params, after);
}

TEST_F(ModelCheckpointsTest, NoCheckpointsIsNotFoundNamingTheDirectory) {
  const JobPlan plan = Plan();
  StatusOr<CheckpointedModel> model = LoadModelFromCheckpoints(plan, root_);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(model.status().message(), HasSubstr("ps-0"));
  EXPECT_THAT(model.status().message(), HasSubstr(root_ + "/assembled/ps-0"));
  EXPECT_FALSE(fs::exists(root_)) << "reading creates nothing";

  // Servers 0 and 1 checkpointed, server 2 not yet.
  const std::vector<float> params = Params(plan, 1.0f);
  WriteShard(plan, 0, params, false);
  WriteShard(plan, 1, params, false);
  fs::create_directories(root_ + "/assembled/ps-2");
  model = LoadModelFromCheckpoints(plan, root_);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(model.status().message(), HasSubstr("ps-2: no checkpoint in"));
}

TEST_F(ModelCheckpointsTest, AManifestOfAnotherJobIsRefused) {
  const JobPlan plan = Plan();
  const JobPlan other = Plan("elsewhere");
  const std::vector<float> params = Params(plan, 1.0f);
  WriteShard(plan, 0, params, true);
  WriteShard(plan, 1, params, true);
  // Server 2's directory holds a checkpoint of job "elsewhere" (copied over, say).
  WriteShard(other, 2, params, true, /*job_dir=*/"assembled");

  StatusOr<CheckpointedModel> model = LoadModelFromCheckpoints(plan, root_);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(model.status().message(), HasSubstr("ps-2: no usable checkpoint"));
  EXPECT_THAT(model.status().message(),
              HasSubstr("a checkpoint of another job: the checkpoint's is \"elsewhere\""));
}

TEST_F(ModelCheckpointsTest, ACheckpointOfAnotherModelShapeIsRefused) {
  const JobPlan wide = Plan("assembled", {32});
  WriteAll(wide, Params(wide, 1.0f), true);
  const JobPlan plan = Plan("assembled", {16});
  StatusOr<CheckpointedModel> model = LoadModelFromCheckpoints(plan, root_);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(model.status().message(), HasSubstr("ps-0: no usable checkpoint"));
  EXPECT_THAT(model.status().message(), HasSubstr("a checkpoint of another model"));
}

TEST_F(ModelCheckpointsTest, CheckpointsTakenDuringTrainingAreNotFinal) {
  const JobPlan plan = Plan();
  const std::vector<float> params = Params(plan, 1.0f);
  WriteAll(plan, params, false);
  StatusOr<CheckpointedModel> model = LoadModelFromCheckpoints(plan, root_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_FALSE(model->final());
  EXPECT_EQ(model->min_step(), 0);
}

}  // namespace
}  // namespace ringtrain::app
