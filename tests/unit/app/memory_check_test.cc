// The memory estimate agrees with the models the runtime builds, and the runtime's checks
// refuse what cannot fit, with the numbers.
#include "ringtrain/app/memory_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ringtrain/job/parse.h"
#include "ringtrain/job/yaml.h"
#include "ringtrain/model/model.h"

namespace ringtrain::app {
namespace {

using ::testing::HasSubstr;

job::TrainingJob Job(const std::string& model, int workers = 2, int servers = 2) {
  const std::string yaml =
      "apiVersion: ringtrain.io/v1alpha1\nkind: TrainingJob\n"
      "metadata: {name: mem}\nspec:\n  model: " +
      model +
      "\n  dataset: {train: {images: /a, labels: /b}}\n"
      "  parameterServers: {replicas: " +
      std::to_string(servers) + "}\n  workers: {replicas: " + std::to_string(workers) + "}\n";
  StatusOr<nlohmann::json> doc = job::YamlToJson(yaml);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  StatusOr<job::TrainingJob> parsed = job::ParseTrainingJob(*doc);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

// One definition of the parameter count would be better; two that a test keeps equal will do
// (the contract library, which the operator uses too, cannot see the runtime's models).
TEST(MemoryCheckTest, ParameterCountIsTheModelsOwn) {
  for (const char* model : {"{type: softmax}", "{type: mlp, hiddenLayers: [256]}",
                            "{type: mlp, hiddenLayers: [64, 32, 16]}"}) {
    const job::TrainingJob spec = Job(model);
    const DatasetShape shape{60000, 784, 10, 10000};
    StatusOr<JobPlan> plan = MakeJobPlan(spec, shape);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    StatusOr<std::unique_ptr<model::Model>> m = model::MakeModel(plan->model);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(EstimateFor(spec.spec, shape).parameters, static_cast<uint64_t>((*m)->num_params()))
        << model;
  }
}

TEST(MemoryCheckTest, JobAndProcessesAreCheckedAgainstTheMachine) {
  const job::TrainingJob big_job = Job("{type: mlp, hiddenLayers: [4096, 4096]}");
  const job::TrainingJobSpec& spec = big_job.spec;
  const job::MemoryEstimate e = EstimateFor(spec, DatasetShape{60000, 784, 10, 10000});
  MachineMemory big;
  big.total_bytes = uint64_t{64} << 30;
  EXPECT_TRUE(CheckJobFits(spec, e, big).ok());
  MachineMemory small;
  small.total_bytes = uint64_t{64} << 30;
  small.cgroup_limit_bytes = uint64_t{256} << 20;
  EXPECT_EQ(small.usable(), uint64_t{256} << 20);
  Status s = CheckJobFits(spec, e, small);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("the job needs at least " + job::FormatBytes(e.job_bytes) +
                                     " of memory on one machine (2 parameter servers x "));
  EXPECT_THAT(s.message(), HasSubstr("more than its cgroup's memory limit of 256.0 MiB"));
  s = CheckProcessFits("worker-0", e.worker0, small);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("worker-0 needs at least " +
                                     job::FormatBytes(e.worker0.bytes) + " (parameters "));
  EXPECT_TRUE(CheckProcessFits("worker-0", e.worker0, big).ok());
  EXPECT_TRUE(CheckProcessFits("worker-0", e.worker0, MachineMemory{}).ok());  // unknown
}

TEST(MemoryCheckTest, ReadsThisMachinesMemory) {
  const MachineMemory m = ReadMachineMemory();
  EXPECT_GT(m.total_bytes, uint64_t{64} << 20);
  EXPECT_GT(m.usable(), 0u);
  EXPECT_LE(m.usable(), m.total_bytes);
}

}  // namespace
}  // namespace ringtrain::app
