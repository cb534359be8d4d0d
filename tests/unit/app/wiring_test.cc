// Wiring: the options of every object a job's processes run come from the plan alone.
#include "ringtrain/app/wiring.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ringtrain/app/checkpointing.h"
#include "ringtrain/model/model.h"

namespace ringtrain::app {
namespace {

using ::testing::HasSubstr;

JobPlan Plan(job::SyncMode mode, job::CompressionType codec) {
  job::TrainingJob job;
  job.metadata.name = "wired";
  job.spec.model = {job::ModelType::kMlp, {8}};
  job.spec.parameter_servers.replicas = 3;
  job.spec.parameter_servers.partition_size = 16;
  job.spec.workers.replicas = 4;
  job.spec.training.epochs = 3;
  job.spec.training.batch_size = 5;
  job.spec.training.seed = 9;
  job.spec.training.sync_mode = mode;
  job.spec.training.staleness = mode == job::SyncMode::kSsp ? 2 : 0;
  job.spec.training.staleness_aware_lr = mode != job::SyncMode::kSync;
  job.spec.training.optimizer.type = job::OptimizerType::kNesterov;
  job.spec.training.optimizer.momentum = 0.5;
  job.spec.training.compression.type = codec;
  job.spec.training.compression.ratio = 0.1;
  job.spec.training.compression.error_feedback = codec != job::CompressionType::kNone;
  job.spec.training.compression.warmup_steps = 7;
  job.spec.dataset.shuffle = false;
  return MakeJobPlan(job, {123, 12, 4}).value();
}

job::PodContract Contract(const JobPlan& plan) {
  job::PodContract c;
  c.job_name = plan.job_name;
  c.num_ps = plan.num_ps;
  c.num_workers = plan.num_workers;
  return c;
}

TEST(WiringTest, ServerCoreConfigComesFromThePlan) {
  const JobPlan plan = Plan(job::SyncMode::kSsp, job::CompressionType::kTopK);
  auto config = ServerCoreConfigFor(plan, 2);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->job, "wired");
  EXPECT_EQ(config->server_index, 2);
  EXPECT_EQ(config->num_workers, 4);
  EXPECT_EQ(config->table, plan.table);
  ASSERT_NE(config->optimizer, nullptr);
  EXPECT_EQ(config->consistency, ps::Consistency::kSsp);
  EXPECT_EQ(config->staleness, 2);
  EXPECT_TRUE(config->staleness_aware_lr);
  EXPECT_EQ(config->codec, compress::CodecType::kTopK);
}

TEST(WiringTest, ServerIndexOutsideTheJobIsRefused) {
  const JobPlan plan = Plan(job::SyncMode::kSync, job::CompressionType::kNone);
  for (int index : {-1, 3}) {
    auto config = ServerCoreConfigFor(plan, index);
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << index;
    EXPECT_THAT(config.status().message(), HasSubstr("3 parameter servers"));
  }
}

TEST(WiringTest, ServersTogetherHoldTheInitialParameters) {
  const JobPlan plan = Plan(job::SyncMode::kSync, job::CompressionType::kNone);
  auto initial = InitialParameters(plan);
  ASSERT_TRUE(initial.ok()) << initial.status().ToString();
  auto model = model::MakeModel(plan.model).value();
  std::vector<float> expected(static_cast<size_t>(model->num_params()));
  model->Initialize(9, expected.data());
  EXPECT_EQ(*initial, expected);

  int64_t owned = 0;
  for (int m = 0; m < plan.num_ps; ++m) {
    auto core = MakeServerCore(plan, m, *initial);
    ASSERT_TRUE(core.ok()) << core.status().ToString();
    owned += (*core)->owned_elements();
    for (uint32_t id : plan.table->partitions_of(m)) {
      const ring::Partition& p = plan.table->partition(id);
      const auto got = (*core)->params(id);
      EXPECT_TRUE(std::equal(got.begin(), got.end(), initial->begin() + p.offset)) << id;
    }
  }
  EXPECT_EQ(owned, plan.table->total_size());
}

TEST(WiringTest, ClientOptionsComeFromThePlan) {
  const JobPlan plan = Plan(job::SyncMode::kAsync, job::CompressionType::kTopK);
  const std::vector<std::string> endpoints = {"tcp://a:1", "tcp://b:2", "tcp://c:3"};
  const worker::PsClientOptions o = ClientOptionsFor(plan, 3, endpoints);
  EXPECT_EQ(o.job, "wired");
  EXPECT_EQ(o.rank, 3);
  EXPECT_EQ(o.endpoints, endpoints);
  EXPECT_EQ(o.table, plan.table);
  EXPECT_EQ(o.timeout, worker::PsClientOptions().timeout);
  EXPECT_EQ(o.consistency, ps::Consistency::kAsync);
  EXPECT_EQ(o.codec.type, compress::CodecType::kTopK);
  EXPECT_DOUBLE_EQ(o.codec.ratio, 0.1);
  EXPECT_TRUE(o.error_feedback);
  EXPECT_EQ(o.topk_warmup_steps, 7);
}

// Direct links (worker/ps_client.h): only to servers on this host (ipc://), only without
// credentials, only for a job whose pushes can take them (sync, dense, no codec).
TEST(WiringTest, DirectLinksOnlyOnThisHostWithoutCredentialsForPushesThatTakeThem) {
  const JobPlan sync = Plan(job::SyncMode::kSync, job::CompressionType::kNone);
  EXPECT_TRUE(DirectLinksApply(sync));
  EXPECT_FALSE(DirectLinksApply(Plan(job::SyncMode::kAsync, job::CompressionType::kNone)));
  EXPECT_FALSE(DirectLinksApply(Plan(job::SyncMode::kSync, job::CompressionType::kInt8)));
  const std::vector<std::string> ipc = {"ipc:///run/j/ps-0", "ipc:///run/j/ps-1",
                                        "ipc:///run/j/ps-2"};
  const worker::PsClientOptions local = ClientOptionsFor(sync, 0, ipc);
  EXPECT_TRUE(local.shared_memory);
  EXPECT_EQ(
      local.direct_paths,
      (std::vector<std::string>{"/run/j/ps-0.direct", "/run/j/ps-1.direct", "/run/j/ps-2.direct"}));
  EXPECT_TRUE(
      ClientOptionsFor(sync, 0, {"tcp://a:1", "tcp://b:2", "tcp://c:3"}).direct_paths.empty());
  const auto credentials = std::make_shared<auth::Credentials>();
  const worker::PsClientOptions curve = ClientOptionsFor(sync, 0, ipc, credentials);
  EXPECT_TRUE(curve.direct_paths.empty());
  EXPECT_EQ(curve.credentials, credentials);
  EXPECT_TRUE(ClientOptionsFor(Plan(job::SyncMode::kAsync, job::CompressionType::kNone), 0, ipc)
                  .direct_paths.empty());
}

TEST(WiringTest, TrainerOptionsComeFromThePlan) {
  const JobPlan plan = Plan(job::SyncMode::kSync, job::CompressionType::kOneBit);
  const worker::TrainerOptions o = TrainerOptionsFor(plan, 1);
  EXPECT_EQ(o.rank, 1);
  EXPECT_EQ(o.num_workers, 4);
  EXPECT_EQ(o.epochs, 3);
  EXPECT_EQ(o.batch_size, 5);
  EXPECT_EQ(o.seed, 9u);
  EXPECT_FALSE(o.shuffle);
  EXPECT_EQ(o.steps_per_epoch, 7) << "ceil(ceil(123 / 4 workers) / batch 5)";
  EXPECT_EQ(o.progress_interval, worker::TrainerOptions().progress_interval);
  // Nesterov with a codec: the momentum runs on the workers.
  EXPECT_DOUBLE_EQ(o.local_momentum.momentum, 0.5);
  EXPECT_TRUE(o.local_momentum.nesterov);
}

TEST(WiringTest, ContractMustDescribeAProcessOfThePlannedJob) {
  const JobPlan plan = Plan(job::SyncMode::kSync, job::CompressionType::kNone);
  EXPECT_TRUE(CheckContract(Contract(plan), plan).ok());

  job::PodContract other_job = Contract(plan);
  other_job.job_name = "other";
  EXPECT_THAT(CheckContract(other_job, plan).message(),
              HasSubstr("RINGTRAIN_JOB_NAME: \"other\", but metadata.name is \"wired\""));

  job::PodContract more_servers = Contract(plan);
  more_servers.num_ps = 4;
  EXPECT_THAT(CheckContract(more_servers, plan).message(),
              HasSubstr("RINGTRAIN_NUM_PS: 4, but spec.parameterServers.replicas is 3"));

  job::PodContract fewer_workers = Contract(plan);
  fewer_workers.num_workers = 2;
  const Status s = CheckContract(fewer_workers, plan);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("RINGTRAIN_NUM_WORKERS: 2, but spec.workers.replicas is 4"));
}

TEST(WiringTest, CheckpointOptionsComeFromTheSpec) {
  job::TrainingJob job;
  EXPECT_FALSE(CheckpointOptionsFor(job).enabled()) << "no spec.checkpoint, no checkpoints";
  job.spec.checkpoint = job::CheckpointSpec{"file:///srv/ckpt", 50, 0, 7};
  CheckpointOptions options = CheckpointOptionsFor(job);
  EXPECT_TRUE(options.enabled());
  EXPECT_EQ(options.directory, "/srv/ckpt");
  EXPECT_EQ(options.every_steps, 50);
  EXPECT_EQ(options.every, std::chrono::seconds(0));
  EXPECT_EQ(options.keep, 7);
  EXPECT_TRUE(ValidateCheckpointOptions(options).ok());
  job.spec.checkpoint = job::CheckpointSpec{"relative/dir", 0, 600, 3};
  EXPECT_EQ(CheckpointOptionsFor(job).directory, "relative/dir");
  EXPECT_EQ(CheckpointOptionsFor(job).every, std::chrono::seconds(600));
}

}  // namespace
}  // namespace ringtrain::app
