// JobPlan: what every process derives from a parsed TrainingJob and the shape of its data.
#include "ringtrain/app/job_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ringtrain/job/parse.h"
#include "ringtrain/job/yaml.h"
#include "ringtrain/model/model.h"

namespace ringtrain::app {
namespace {

// A TrainingJob parsed from YAML whose spec.training is `training` (a YAML flow mapping) and
// whose replicas are as given.
job::TrainingJob Parse(const std::string& training, int workers = 2, int servers = 2) {
  const std::string yaml = R"(apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata: {name: plan-test}
spec:
  model: {type: mlp, hiddenLayers: [32, 16]}
  dataset:
    train: {images: /data/train-images.gz, labels: /data/train-labels.gz}
  training: )" + training + R"(
  parameterServers: {replicas: )" +
                           std::to_string(servers) + R"(, partitionSize: 1024}
  workers: {replicas: )" + std::to_string(workers) +
                           R"(}
)";
  auto json = job::YamlToJson(yaml);
  EXPECT_TRUE(json.ok()) << json.status().ToString();
  auto parsed = job::ParseTrainingJob(*json);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

DatasetShape Shape(int64_t rows) { return {rows, 64, 10}; }

JobPlan Plan(const std::string& training, int64_t rows = 1000, int workers = 2, int servers = 2) {
  auto plan = MakeJobPlan(Parse(training, workers, servers), Shape(rows));
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return *plan;
}

TEST(JobPlanTest, ExampleSspTopkJob) {
  auto job = job::LoadTrainingJobFile(std::string(RINGTRAIN_SOURCE_DIR) +
                                      "/examples/fashion-mnist-ssp-topk.yaml");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  auto plan = MakeJobPlan(*job, {60000, 784, 10});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();

  EXPECT_EQ(plan->job_name, "fashion-mnist-ssp-topk");
  EXPECT_EQ(plan->num_ps, 2);
  EXPECT_EQ(plan->num_workers, 2);
  EXPECT_EQ(plan->epochs, 10);
  EXPECT_EQ(plan->batch_size, 64);
  EXPECT_EQ(plan->seed, 42u);
  EXPECT_TRUE(plan->shuffle);

  EXPECT_EQ(plan->model.kind, model::ModelKind::kMlp);
  EXPECT_EQ(plan->model.hidden_layers, std::vector<int>{256});
  EXPECT_EQ(plan->model.input_dim, 784);
  EXPECT_EQ(plan->model.num_classes, 10);

  // 30000 rows per worker in batches of 64.
  EXPECT_EQ(plan->train_rows, 60000);
  EXPECT_EQ(plan->steps_per_epoch, 469);
  EXPECT_EQ(plan->total_steps, 4690);
  EXPECT_EQ(plan->schedule.kind, optim::ScheduleKind::kCosine);
  EXPECT_DOUBLE_EQ(plan->schedule.base_lr, 0.05);
  EXPECT_EQ(plan->schedule.warmup_steps, 200);
  EXPECT_EQ(plan->schedule.total_steps, 4690);

  EXPECT_EQ(plan->consistency, ps::Consistency::kSsp);
  EXPECT_EQ(plan->staleness, 3);
  EXPECT_FALSE(plan->staleness_aware_lr);
  EXPECT_EQ(plan->codec.type, compress::CodecType::kTopK);
  EXPECT_DOUBLE_EQ(plan->codec.ratio, 0.01);
  EXPECT_TRUE(plan->error_feedback);  // topk's default
  EXPECT_EQ(plan->topk_warmup_steps, 0);

  // With a codec, momentum runs on the workers and the servers apply plain SGD.
  EXPECT_EQ(plan->optimizer.kind, optim::OptimizerKind::kSgd);
  EXPECT_DOUBLE_EQ(plan->local_momentum.momentum, 0.9);
  EXPECT_TRUE(plan->local_momentum.mask_sent);

  // Placement: 784x256 + 256 + 256x10 + 10 parameters in partitions of at most 65536, each
  // within one tensor, on the two servers.
  auto model = model::MakeModel(plan->model).value();
  ASSERT_NE(plan->table, nullptr);
  EXPECT_EQ(plan->table->total_size(), model->num_params());
  EXPECT_EQ(plan->table->total_size(), 203530);
  EXPECT_EQ(plan->table->num_servers(), 2);
  EXPECT_EQ(plan->table->partitions().size(), 7u);  // 4 + 1 + 1 + 1
  int64_t covered = 0;
  for (const ring::Partition& p : plan->table->partitions()) {
    EXPECT_LE(p.size, 65536);
    EXPECT_EQ(p.offset, covered);
    covered += p.size;
  }
  EXPECT_FALSE(plan->table->partitions_of(0).empty());
  EXPECT_FALSE(plan->table->partitions_of(1).empty());
}

TEST(JobPlanTest, EveryModelTypeMapsToItsModelKind) {
  job::TrainingJob job = Parse("{epochs: 1}");
  auto mlp = MakeJobPlan(job, Shape(1000));
  ASSERT_TRUE(mlp.ok()) << mlp.status().ToString();
  EXPECT_EQ(mlp->model.kind, model::ModelKind::kMlp);
  EXPECT_EQ(mlp->model.hidden_layers, (std::vector<int>{32, 16}));

  job.spec.model = {job::ModelType::kSoftmax, {}};
  auto softmax = MakeJobPlan(job, Shape(1000));
  ASSERT_TRUE(softmax.ok()) << softmax.status().ToString();
  EXPECT_EQ(softmax->model.kind, model::ModelKind::kSoftmax);
  EXPECT_TRUE(softmax->model.hidden_layers.empty());
}

TEST(JobPlanTest, EveryProcessDerivesTheSamePlacement) {
  const std::string training = "{epochs: 1}";
  EXPECT_EQ(Plan(training).table->fingerprint(), Plan(training).table->fingerprint());
  // Another server count is another table, which the servers would refuse.
  EXPECT_NE(Plan(training, 1000, 2, 2).table->fingerprint(),
            Plan(training, 1000, 2, 3).table->fingerprint());
}

TEST(JobPlanTest, StepsPerEpochAreTheSameForEveryWorker) {
  // ceil(ceil(250 / 3) / 8) = ceil(84 / 8) = 11, for the workers with 83 rows too.
  const JobPlan plan = Plan("{epochs: 3, batchSize: 8}", 250, 3);
  EXPECT_EQ(plan.steps_per_epoch, 11);
  EXPECT_EQ(plan.total_steps, 33);
  EXPECT_EQ(plan.schedule.total_steps, 33);
  EXPECT_EQ(plan.num_workers, 3);
}

// Text formats: each worker counts its own rows (DatasetShape::per_worker_rows), and the
// servers, which load no data, plan with none.
TEST(JobPlanTest, TextFormatsPlanEachWorkersOwnSteps) {
  const job::TrainingJob job = Parse("{epochs: 2, batchSize: 8}", 3);
  DatasetShape shape;
  shape.input_dim = 12;
  shape.num_classes = 3;
  shape.per_worker_rows = true;
  shape.train_rows = 81;
  StatusOr<JobPlan> plan = MakeJobPlan(job, shape);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->steps_per_epoch, 11) << "ceil(81 / 8), whatever the other workers hold";
  EXPECT_EQ(plan->total_steps, 22);
  EXPECT_EQ(plan->model.input_dim, 12);
  EXPECT_EQ(plan->model.num_classes, 3);
  shape.train_rows = 0;
  plan = MakeJobPlan(job, shape);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->total_steps, 0);
}

TEST(JobPlanTest, AWarmUpLongerThanTheRunEndsWithTheRun) {
  const JobPlan plan =
      Plan("{epochs: 1, batchSize: 100, schedule: {type: cosine, warmupSteps: 500}}");
  EXPECT_EQ(plan.total_steps, 5);
  EXPECT_EQ(plan.schedule.warmup_steps, 5);
}

TEST(JobPlanTest, ScalesLearningRatesWithTheGlobalBatch) {
  // 64 per worker x 4 workers = 256 = 2 x the reference batch.
  const JobPlan plan = Plan(
      "{batchSize: 64, optimizer: {type: sgd, learningRate: 0.1, scaleLearningRate: "
      "{referenceBatchSize: 128}}, schedule: {type: cosine, minLearningRate: 0.01}}",
      1000, 4);
  EXPECT_DOUBLE_EQ(plan.schedule.base_lr, 0.2);
  EXPECT_DOUBLE_EQ(plan.schedule.min_lr, 0.02);
}

TEST(JobPlanTest, OptimizerFieldsTheTypeDoesNotUseKeepTheirDefaults) {
  const JobPlan adam = Plan(
      "{optimizer: {type: adam, learningRate: 0.001, beta1: 0.8, beta2: 0.99, epsilon: 1e-6}}");
  EXPECT_EQ(adam.optimizer.kind, optim::OptimizerKind::kAdam);
  EXPECT_DOUBLE_EQ(adam.optimizer.beta1, 0.8);
  EXPECT_DOUBLE_EQ(adam.optimizer.beta2, 0.99);
  EXPECT_DOUBLE_EQ(adam.optimizer.epsilon, 1e-6);

  const JobPlan sgd = Plan("{optimizer: {type: sgd, learningRate: 0.1}}");
  EXPECT_EQ(sgd.optimizer.kind, optim::OptimizerKind::kSgd);
  const optim::OptimizerConfig defaults;
  EXPECT_DOUBLE_EQ(sgd.optimizer.beta1, defaults.beta1);
  EXPECT_DOUBLE_EQ(sgd.optimizer.beta2, defaults.beta2);
  EXPECT_DOUBLE_EQ(sgd.optimizer.epsilon, defaults.epsilon);
  EXPECT_DOUBLE_EQ(sgd.optimizer.momentum, 0.0);
}

TEST(JobPlanTest, WithoutACodecMomentumStaysOnTheServers) {
  const JobPlan plan = Plan("{optimizer: {type: momentum, learningRate: 0.1, momentum: 0.8}}");
  EXPECT_EQ(plan.codec.type, compress::CodecType::kNone);
  EXPECT_EQ(plan.optimizer.kind, optim::OptimizerKind::kMomentum);
  EXPECT_DOUBLE_EQ(plan.optimizer.momentum, 0.8);
  EXPECT_FALSE(plan.local_momentum.enabled());
}

TEST(JobPlanTest, CodecFieldsComeFromTheSpecWhereTheTypeUsesThem) {
  const JobPlan int8 = Plan("{compression: {type: int8, block: 128}}");
  EXPECT_EQ(int8.codec.type, compress::CodecType::kInt8);
  EXPECT_EQ(int8.codec.block, 128);
  EXPECT_FALSE(int8.error_feedback);  // int8's default

  const JobPlan topk = Plan("{compression: {type: topk, ratio: 0.05, warmupSteps: 30}}");
  EXPECT_EQ(topk.codec.type, compress::CodecType::kTopK);
  EXPECT_DOUBLE_EQ(topk.codec.ratio, 0.05);
  EXPECT_EQ(topk.codec.block, compress::CodecOptions().block);
  EXPECT_EQ(topk.topk_warmup_steps, 30);
}

TEST(JobPlanTest, SyncModes) {
  EXPECT_EQ(Plan("{syncMode: sync}").consistency, ps::Consistency::kSync);
  const JobPlan async = Plan("{syncMode: async, stalenessAwareLR: true}");
  EXPECT_EQ(async.consistency, ps::Consistency::kAsync);
  EXPECT_TRUE(async.staleness_aware_lr);
  const JobPlan ssp = Plan("{syncMode: ssp}");
  EXPECT_EQ(ssp.consistency, ps::Consistency::kSsp);
  EXPECT_EQ(ssp.staleness, 3);  // the spec's default
}

TEST(JobPlanTest, SeedAndShuffleComeFromTheSpec) {
  job::TrainingJob job = Parse("{seed: 7}");
  job.spec.dataset.shuffle = false;
  auto plan = MakeJobPlan(job, Shape(100));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->seed, 7u);
  EXPECT_FALSE(plan->shuffle);
  EXPECT_EQ(plan->job_name, "plan-test");
}

}  // namespace
}  // namespace ringtrain::app
