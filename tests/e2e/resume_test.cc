// Resume, end to end through `ringtrain run` (issue 11): a job stopped with SIGINT after its
// third epoch and started again continues from its checkpoints — each server restores its
// shard, each worker continues from the servers' clock for it — does not repeat epochs 1-3,
// and finishes with the accuracy of an uninterrupted run (within 0.2 points). Running the
// finished job again says it has finished; --fresh removes the checkpoints and trains from
// step 0, and that run is the uninterrupted baseline (so no training is done twice).
//
// Fashion-MNIST MLP on the first 12,000 training rows (written as IDX files), the full test
// set, sync, 2 servers and 2 workers. Full training runs: release build only (label slow).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "process_helpers.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/data/idx_reader.h"
#include "ringtrain/launch/child_process.h"
#include "synthetic_data.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kBinary = RINGTRAIN_BINARY;
const std::string kData = "/usr/share/datasets/fashion-mnist/";
constexpr int64_t kTrainRows = 12000;
constexpr int kEpochs = 5;
constexpr int kStopAfterEpoch = 3;
// 12,000 rows over 2 workers in batches of 64: 94 steps per epoch.
constexpr int64_t kStepsPerEpoch = 94;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string EvalLine(int epoch) {
  return "epoch " + std::to_string(epoch) + "/" + std::to_string(kEpochs) + "  test accuracy";
}

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("resume-e2e");
    ASSERT_FALSE(dir_.empty());
    auto train = data::LoadIdx(kData + "train-images-idx3-ubyte.gz",
                               kData + "train-labels-idx1-ubyte.gz", 10);
    ASSERT_TRUE(train.ok()) << train.status().ToString();
    ASSERT_TRUE(testing::WriteIdx(data::TakeRows(*train, {0, kTrainRows}), 28,
                                  dir_ + "/train-images.gz", dir_ + "/train-labels.gz"));
    checkpoints_ = dir_ + "/checkpoints";
    spec_ = dir_ + "/job.yaml";
    ASSERT_TRUE(testing::WriteFile(spec_, R"(apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata:
  name: resume-e2e
spec:
  model: {type: mlp, hiddenLayers: [128]}
  dataset:
    train: {images: )" + dir_ + R"(/train-images.gz, labels: )" +
                                              dir_ +
                                              R"(/train-labels.gz}
    test:
      images: file:///usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
      labels: file:///usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
  training:
    epochs: 5
    batchSize: 64
    syncMode: sync
    optimizer: {type: momentum, learningRate: 0.05, momentum: 0.9}
    schedule: {type: cosine, warmupSteps: 50}
  checkpoint: {path: )" + checkpoints_ + R"(, everySteps: 40}
  parameterServers: {replicas: 2, partitionSize: 16384}
  workers: {replicas: 2}
)"));
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::string checkpoints_;
  std::string spec_;
};

TEST_F(ResumeTest, StoppedAfterEpoch3ContinuesWithoutRepeatingAndMatchesAnUninterruptedRun) {
  // 1. Stopped with SIGINT once epoch 3 has been evaluated.
  const std::string log = dir_ + "/first.log";
  auto first =
      launch::ChildProcess::Spawn("first", {kBinary, "run", "--no-progress", spec_}, {}, log);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (ReadAll(log).find(EvalLine(kStopAfterEpoch)) == std::string::npos) {
    ASSERT_TRUE((*first)->running()) << ReadAll(log);
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << ReadAll(log);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  (*first)->Signal(SIGINT);
  auto stopped = testing::WaitForExit(**first, std::chrono::seconds(60));
  ASSERT_TRUE(stopped.has_value()) << ReadAll(log);
  EXPECT_EQ(stopped->exit_code, 128 + SIGINT) << ReadAll(log);
  const std::string first_out = ReadAll(log);
  ASSERT_THAT(first_out, Not(HasSubstr(EvalLine(kStopAfterEpoch + 1)))) << first_out;

  // 2. Started again: every shard restored, epochs 1-3 not repeated, the rest trained.
  auto resumed =
      testing::RunCommand({kBinary, "run", "--no-progress", spec_}, std::chrono::seconds(600));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr("ps-0 continues from its checkpoint at step"));
  EXPECT_THAT(resumed.output, HasSubstr("ps-1 continues from its checkpoint at step"));
  for (int epoch = 1; epoch <= kStopAfterEpoch; ++epoch) {
    EXPECT_THAT(resumed.output, Not(HasSubstr(EvalLine(epoch)))) << "epoch " << epoch;
  }
  EXPECT_THAT(resumed.output, HasSubstr(EvalLine(kEpochs)));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(resumed.output, m, std::regex("resumed +from step ([0-9]+)")))
      << resumed.output;
  const int64_t from = std::stoll(m[1]);
  EXPECT_GE(from, kStopAfterEpoch * kStepsPerEpoch) << "the stop's checkpoint is after epoch 3";
  EXPECT_LT(from, (kStopAfterEpoch + 1) * kStepsPerEpoch);
  EXPECT_THAT(resumed.output, HasSubstr("2 of 2 shards from checkpoints; 0 pushes lost"));
  const double resumed_accuracy = testing::SummaryAccuracy(resumed.output);

  // 3. Once more: the job has finished, and says so instead of training nothing or again.
  auto again =
      testing::RunCommand({kBinary, "run", "--no-progress", spec_}, std::chrono::seconds(120));
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_THAT(again.output, HasSubstr("has already finished: its final checkpoint"));
  EXPECT_THAT(again.output, HasSubstr("--fresh"));

  // 4. --fresh: from step 0, uninterrupted — the baseline.
  auto fresh = testing::RunCommand({kBinary, "run", "--no-progress", "--fresh", spec_},
                                   std::chrono::seconds(600));
  ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
  EXPECT_THAT(fresh.output, HasSubstr("--fresh: removed the checkpoints in " + checkpoints_));
  EXPECT_THAT(fresh.output, Not(HasSubstr("continues from its checkpoint")));
  EXPECT_THAT(fresh.output, HasSubstr(EvalLine(1)));
  const double baseline = testing::SummaryAccuracy(fresh.output);
  ASSERT_GT(baseline, 0.80) << fresh.output;
  EXPECT_NEAR(resumed_accuracy, baseline, 0.002)
      << "resumed " << resumed_accuracy << ", uninterrupted " << baseline;
  std::cout << resumed.output.substr(resumed.output.find("summary")) << again.output << std::endl;
  std::printf("resumed from step %lld: accuracy %.4f; uninterrupted: %.4f\n",
              static_cast<long long>(from), resumed_accuracy, baseline);
}

}  // namespace
}  // namespace ringtrain
