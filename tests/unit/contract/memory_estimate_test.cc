// The memory floor of each process, and the roles' limits checked against it.
#include "ringtrain/job/memory_estimate.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ringtrain/job/parse.h"
#include "ringtrain/job/yaml.h"

namespace ringtrain::job {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kBase = 32 * kMiB;

TrainingJobSpec Mlp(std::vector<int> hidden, int servers = 1, int workers = 1) {
  TrainingJobSpec spec;
  spec.model.type = hidden.empty() ? ModelType::kSoftmax : ModelType::kMlp;
  spec.model.hidden_layers = std::move(hidden);
  spec.parameter_servers.replicas = servers;
  spec.workers.replicas = workers;
  spec.training.batch_size = 64;
  return spec;
}

TEST(MemoryEstimateTest, CountsTheModelsParameters) {
  const DataShape mnist{784, 10, 60000, 10000};
  EXPECT_EQ(EstimateMemory(Mlp({}), mnist).parameters, 785u * 10);
  EXPECT_EQ(EstimateMemory(Mlp({256}), mnist).parameters, 785u * 256 + 257 * 10);
  EXPECT_EQ(EstimateMemory(Mlp({256, 128}), mnist).parameters, 785u * 256 + 257 * 128 + 129 * 10);
  // Without the data's shape, the input layer counts only its biases: a floor.
  EXPECT_EQ(EstimateMemory(Mlp({256}), DataShape{}).parameters, 256u + 257 * 10);
}

TEST(MemoryEstimateTest, ServerHoldsItsShareOfParametersAndState) {
  TrainingJobSpec spec = Mlp({}, /*servers=*/2);
  const DataShape shape{999, 10, 100, 0};  // 10,000 parameters: 5,000 per server
  spec.training.sync_mode = SyncMode::kAsync;
  spec.training.optimizer.type = OptimizerType::kSgd;
  EXPECT_EQ(EstimateMemory(spec, shape).server.bytes, kBase + 2 * 5000 * 4);  // params, push
  spec.training.sync_mode = SyncMode::kSync;                                  // + the round's sum
  EXPECT_EQ(EstimateMemory(spec, shape).server.bytes, kBase + 3 * 5000 * 4);
  spec.training.optimizer.type = OptimizerType::kAdam;  // + 2 state values
  EXPECT_EQ(EstimateMemory(spec, shape).server.bytes, kBase + 5 * 5000 * 4);
  spec.parameter_servers.replication = 1;  // + the predecessor's parameters and state
  spec.checkpoint.emplace();               // + a snapshot of both
  spec.checkpoint->path = "/c";
  MemoryEstimate e = EstimateMemory(spec, shape);
  EXPECT_EQ(e.server.bytes, kBase + 11 * 5000 * 4);
  EXPECT_EQ(e.server.breakdown,
            "parameters 19.5 KiB, optimizer state 39.1 KiB, round's gradient sum 19.5 KiB, "
            "push being applied 19.5 KiB, copy of the predecessor's shard 58.6 KiB, checkpoint "
            "snapshot 58.6 KiB, base 32.0 MiB");
  // With a codec, momentum runs on the workers: no state on the servers.
  spec = Mlp({}, 2);
  spec.training.sync_mode = SyncMode::kAsync;
  spec.training.optimizer.type = OptimizerType::kMomentum;
  EXPECT_EQ(EstimateMemory(spec, shape).server.bytes, kBase + 3 * 5000 * 4);
  spec.training.compression.type = CompressionType::kFp16;
  EXPECT_EQ(EstimateMemory(spec, shape).server.bytes, kBase + 2 * 5000 * 4);
}

TEST(MemoryEstimateTest, WorkerHoldsTheModelTheDataAndWorkerZeroTheTestSet) {
  TrainingJobSpec spec = Mlp({}, 1, /*workers=*/2);
  spec.dataset.test = DataFiles{"/t", "/l", ""};
  const DataShape shape{1000, 10, 100'000, 20'000};
  const MemoryEstimate e = EstimateMemory(spec, shape);
  // Loading 100,000 rows of 1,000 pixels as floats, then copying out a shard, dwarfs the model.
  EXPECT_EQ(e.worker.bytes, kBase + uint64_t{100'000} * 1000 * 4 + 50'000 * 1000 * 4);
  EXPECT_THAT(e.worker.breakdown, HasSubstr("training set while loading"));
  EXPECT_EQ(e.worker0.bytes, e.worker.bytes);  // its test set fits in what loading freed
  // A big model: the model's buffers, the shard and (worker 0) the test set.
  spec = Mlp({4096}, 1, 2);
  spec.dataset.test = DataFiles{"/t", "/l", ""};
  const DataShape small{100, 10, 1000, 500};
  const MemoryEstimate big = EstimateMemory(spec, small);
  const uint64_t params = (101 * 4096 + 4097 * 10) * 4;
  const uint64_t activations = 64 * (100 + 4096 + 10) * 8;
  const uint64_t shard = 500 * 100 * 4;
  EXPECT_EQ(big.worker.bytes, kBase + 3 * params + activations + shard);
  EXPECT_EQ(big.worker0.bytes, big.worker.bytes + 500 * 100 * 4);
  EXPECT_EQ(big.job_bytes, big.server.bytes + big.worker.bytes + big.worker0.bytes);
}

// Text data is streamed: the stream's rows instead of a training set, whatever its size.
TEST(MemoryEstimateTest, AStreamedWorkerHoldsItsWindowTheBlocksAheadAndABatch) {
  TrainingJobSpec spec = Mlp({}, 1, 2);
  spec.dataset.format = DataFormat::kCsv;
  spec.dataset.features = 784;
  spec.dataset.classes = 10;
  spec.dataset.train = DataFiles{"", "", "s3://b/train/"};
  // 64 MiB / (784 * 4 + 4) = 21372 rows of window (the default's cap).
  EXPECT_EQ(ShuffleWindowRows(spec.dataset, 64), 21372);
  const DataShape shape{784, 10, 0, 0};
  const MemoryEstimate e = EstimateMemory(spec, shape);
  const uint64_t params = (784 * 10 + 10) * 4;
  const uint64_t activations = 64 * (784 + 10) * 8;
  EXPECT_EQ(StreamBlockRows(spec.dataset), 1024);
  const uint64_t rows = 21372 + (kStreamPrefetchBlocks + 2) * 1024 + 64;
  EXPECT_EQ(e.worker.bytes, kBase + 3 * params + activations + rows * (784 * 4 + 4));
  EXPECT_THAT(e.worker.breakdown, HasSubstr("streamed rows"));
  spec.dataset.shuffle_buffer = 1000;
  EXPECT_EQ(ShuffleWindowRows(spec.dataset, 64), 1000);
  spec.dataset.shuffle_buffer = 10;
  EXPECT_EQ(ShuffleWindowRows(spec.dataset, 64), 10) << "as written, even below a batch";
  // Wide rows: blocks of at most 4 MiB (a million features: one row a block).
  spec.dataset.features = 1 << 20;
  EXPECT_EQ(StreamBlockRows(spec.dataset), 1);
  spec.dataset.features = 100'000;
  EXPECT_EQ(StreamBlockRows(spec.dataset), 10);
}

TEST(MemoryEstimateTest, SpecsAtTheFieldLimitsDoNotWrapAround) {
  TrainingJobSpec spec = Mlp(std::vector<int>(16, 65536), 1, 4096);
  spec.training.batch_size = 1 << 20;
  const DataShape huge{std::numeric_limits<int32_t>::max(), 10, std::numeric_limits<int64_t>::max(),
                       std::numeric_limits<int64_t>::max()};
  const MemoryEstimate e = EstimateMemory(spec, huge);
  EXPECT_GT(e.parameters, uint64_t{65536} * 65536 * 15);
  EXPECT_GE(e.worker0.bytes, e.worker.bytes);
  EXPECT_EQ(e.job_bytes, std::numeric_limits<uint64_t>::max());
}

TEST(MemoryEstimateTest, FormatsBytesInBinaryUnits) {
  EXPECT_EQ(FormatBytes(900), "900 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(kMiB * 512), "512.0 MiB");
  EXPECT_EQ(FormatBytes(uint64_t{3} << 30), "3.0 GiB");
}

// The issue's case: hiddenLayers [32768, 32768] passed validation and every server died of
// bad_alloc after 48 s. With a memory limit, the spec alone is enough to refuse it.
TEST(MemoryEstimateTest, ParseRefusesALimitBelowWhatTheSpecAloneNeeds) {
  const std::string text = R"(apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata: {name: huge}
spec:
  model: {type: mlp, hiddenLayers: [32768, 32768]}
  dataset: {train: {images: /a, labels: /b}}
  parameterServers: {replicas: 2, resources: {limits: {memory: 16Gi}}}
  workers: {replicas: 2, resources: {limits: {memory: 4Gi}}}
)";
  StatusOr<nlohmann::json> doc = YamlToJson(text);
  ASSERT_TRUE(doc.ok());
  StatusOr<TrainingJob> job = ParseTrainingJob(*doc);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(job.status().message(),
              HasSubstr("spec.workers.resources.limits.memory: 4Gi is less than worker 0 needs: "
                        "at least 12.1 GiB (parameters 4.0 GiB, gradient 4.0 GiB, encoded push "
                        "4.0 GiB"));
  // The servers' limit: 2 GiB of parameters each, their momentum-free sum and push: 6 GiB.
  (*doc)["spec"]["workers"]["resources"]["limits"]["memory"] = "16Gi";
  (*doc)["spec"]["parameterServers"]["resources"]["limits"]["memory"] = "4Gi";
  job = ParseTrainingJob(*doc);
  ASSERT_FALSE(job.ok());
  EXPECT_THAT(job.status().message(),
              HasSubstr("spec.parameterServers.resources.limits.memory: 4Gi is less than each "
                        "parameter server needs: at least 6.0 GiB"));
  (*doc)["spec"]["parameterServers"]["resources"]["limits"]["memory"] = "7Gi";
  EXPECT_TRUE(ParseTrainingJob(*doc).ok());
  // Without limits the spec is valid; the data and the machine decide (the runtime's check).
  (*doc)["spec"]["workers"].erase("resources");
  (*doc)["spec"]["parameterServers"].erase("resources");
  EXPECT_TRUE(ParseTrainingJob(*doc).ok());
}

}  // namespace
}  // namespace ringtrain::job
