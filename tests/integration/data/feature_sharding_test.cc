// Feature-wise sharding (spec.dataset.sharding: feature, issue 13) through `ringtrain run`:
// every worker reads every row but only its block of the columns, the parameter server that
// sums margins adds the blocks' partial logits each step, and each worker pushes the gradient
// of its block only.
//
// - 3 workers by feature train as one worker by rows with the same batch (the same arithmetic,
//   summed in another order; the loss against row-wise training on real data is
//   tests/e2e/feature_sharding_accuracy_test.cc). The weight matrix is cut into
//   partitions of 102.4 features, so blocks straddle partitions: each worker pushes only the
//   partitions its block touches.
// - A worker killed mid-run is replaced and continues from the servers' clock; the steps it
//   replays are answered from the sums kept, and the job ends with the same accuracy.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <thread>

#include "ringtrain/launch/child_process.h"
#include "text_job.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;

const std::string kBinary = RINGTRAIN_BINARY;
constexpr int kEpochs = 3;
constexpr int kRows = 3000;
constexpr int kFeatures = 256;

struct Outcome {
  std::string out;   // `ringtrain run`'s output
  std::string logs;  // its log directory
  double accuracy = -1;
  double test_loss = -1;
  double bytes_sent = -1;  // gradient bytes sent, in KiB
  int64_t margin_rounds = -1;
  int64_t margins_repeated = -1;
};

class FeatureShardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("feature");
    std::filesystem::create_directories(dir_ + "/train");
    // 16x16 "images": 256 features, a weight matrix of 2560 floats in partitions of 1024 (102.4
    // features each), so the blocks of 3 workers straddle partitions.
    const data::Dataset train = testing::MakeSyntheticImages(kRows, 16, 10, 1);
    ASSERT_TRUE(
        testing::WriteGzipText(dir_ + "/train/part-0.gz", testing::ToLibsvm(train, 0, 1700)));
    ASSERT_TRUE(
        testing::WriteFile(dir_ + "/train/part-1", testing::ToLibsvm(train, 1700, kRows - 1700)));
    ASSERT_TRUE(testing::WriteFile(
        dir_ + "/test.libsvm",
        testing::ToLibsvm(testing::MakeSyntheticImages(500, 16, 10, 2), 0, 500)));
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<launch::ChildProcess> Start(const std::string& name, bool by_feature,
                                              const testing::JobShape& shape,
                                              const std::string& extra_spec = "") {
    spec_ = dir_ + "/" + name + ".yaml";
    EXPECT_TRUE(testing::WriteFile(
        spec_, testing::TextJob(name, "libsvm", dir_ + "/train/", dir_ + "/test.libsvm",
                                by_feature ? "    sharding: feature\n" : "", extra_spec, shape)));
    log_ = dir_ + "/" + name + ".log";
    logs_ = dir_ + "/logs-" + name;
    auto run = launch::ChildProcess::Spawn("run",
                                           {kBinary, "run", "--no-progress", "--log-dir", logs_,
                                            "--output", dir_ + "/out-" + name, spec_},
                                           {}, log_);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? std::move(run).value() : nullptr;
  }

  Outcome Finish(launch::ChildProcess& run) {
    Outcome o;
    auto exit = testing::WaitForExit(run, std::chrono::seconds(300));
    o.out = ReadFile(log_);
    o.logs = logs_;
    EXPECT_TRUE(exit.has_value() && exit->success()) << o.out;
    o.accuracy = testing::SummaryAccuracy(o.out);
    o.test_loss = testing::SummaryTestLoss(o.out);
    std::smatch m;
    if (std::regex_search(o.out, m, std::regex("gradient bytes sent +([0-9.]+) (B|KiB|MiB)"))) {
      const double unit = m[2] == "B" ? 1.0 / 1024 : m[2] == "KiB" ? 1.0 : 1024.0;
      o.bytes_sent = std::stod(m[1]) * unit;
    }
    if (std::regex_search(o.out, m,
                          std::regex("feature blocks +(\\d+) rounds of partial margins summed "
                                     "\\(one a step\\), (\\d+) steps sent again"))) {
      o.margin_rounds = std::stoll(m[1]);
      o.margins_repeated = std::stoll(m[2]);
    }
    return o;
  }

  Outcome Run(const std::string& name, bool by_feature, const testing::JobShape& shape) {
    auto run = Start(name, by_feature, shape);
    if (run == nullptr) return {};
    return Finish(*run);
  }

  std::string dir_;
  std::string spec_;
  std::string log_;
  std::string logs_;
};

TEST_F(FeatureShardingTest, TrainsAsOneWorkerByRowsWithEachBlockPushedAlone) {
  // 3000 rows, batch 16: 188 steps an epoch.
  const int64_t steps = (kRows + 15) / 16 * kEpochs;
  const testing::JobShape shape{.servers = 2,
                                .workers = 3,
                                .epochs = kEpochs,
                                .partition_size = 1024,
                                .batch_size = 16,
                                .features = kFeatures};
  const Outcome feature = Run("by-feature", true, shape);
  testing::JobShape one_worker = shape;
  one_worker.workers = 1;
  const Outcome one = Run("by-row", false, one_worker);
  ASSERT_GT(feature.test_loss, 0) << feature.out;
  ASSERT_GT(one.test_loss, 0) << one.out;
  std::printf(
      "test loss (accuracy): feature-wise, 3 workers %.4f (%.4f); row-wise, 1 worker %.4f (%.4f)\n"
      "gradient KiB sent: feature-wise %.1f, row-wise 1 worker %.1f\n",
      feature.test_loss, feature.accuracy, one.test_loss, one.accuracy, feature.bytes_sent,
      one.bytes_sent);
  // The same arithmetic (summed in another order); these data are easy (the loss on real data
  // is compared in tests/e2e/feature_sharding_accuracy_test.cc).
  EXPECT_NEAR(feature.test_loss, one.test_loss, 0.0005);
  EXPECT_NEAR(feature.accuracy, one.accuracy, 0.005);
  EXPECT_GE(feature.accuracy, 0.9);
  EXPECT_EQ(feature.margin_rounds, steps) << feature.out;
  EXPECT_EQ(feature.margins_repeated, 0) << feature.out;
  EXPECT_THAT(feature.out, HasSubstr("global batch 16")) << "every worker reads the same rows";
  EXPECT_THAT(feature.out,
              HasSubstr("samples              " + std::to_string(kRows * kEpochs) + " over"))
      << "each row counted once, not once per worker";
  for (int w = 0; w < 3; ++w) {
    EXPECT_THAT(ReadFile(feature.logs + "/worker-" + std::to_string(w) + ".log"),
                HasSubstr("finished " + std::to_string(steps) + " steps, " +
                          std::to_string(kRows * kEpochs) + " samples"));
  }
  EXPECT_THAT(ReadFile(feature.logs + "/worker-1.log"),
              HasSubstr("feature-wise sharding: features [85, 170) of 256"));
  // Each block's push holds its partitions only: the weight matrix's partitions are [0, 1024),
  // [1024, 2048) and [2048, 2560) floats, the blocks [0, 850), [850, 1700) and [1700, 2560);
  // with the bias, 1034 + 2058 + 1546 = 4638 floats a step against one worker's 2570 (whole
  // pushes would be 3 x 2570).
  ASSERT_GT(one.bytes_sent, 0);
  EXPECT_NEAR(feature.bytes_sent / one.bytes_sent, 4638.0 / 2570.0, 0.05) << feature.out;
  EXPECT_EQ(one.margin_rounds, -1) << "no feature blocks line row-wise";
}

TEST_F(FeatureShardingTest, AKilledWorkerIsReplacedAndContinues) {
  auto run = Start("killed", true,
                   {.servers = 2,
                    .workers = 2,
                    .epochs = kEpochs,
                    .partition_size = 1024,
                    .batch_size = 16,
                    .features = kFeatures},
                   "  runPolicy: {restartPolicy: OnFailure, backoffLimit: 3}\n");
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(testing::WaitForText(log_, "epoch 1/3  test accuracy")) << ReadFile(log_);
  const int worker1 = testing::FindJobProcess(spec_, "worker", 1);
  ASSERT_GT(worker1, 0);
  ASSERT_EQ(kill(worker1, SIGKILL), 0);
  const Outcome o = Finish(*run);
  EXPECT_THAT(o.out, HasSubstr("worker-1 failed (killed by signal 9"));
  EXPECT_GE(o.accuracy, 0.9) << o.out;
  EXPECT_EQ(o.margin_rounds, (kRows + 15) / 16 * kEpochs) << o.out;
  std::printf("feature-wise, worker 1 killed: accuracy %.4f, %lld steps sent again\n", o.accuracy,
              static_cast<long long>(o.margins_repeated));
}

}  // namespace
}  // namespace ringtrain
