// `ringtrain run` of click-through models (issue 14): data from `ringtrain generate ctr` (LibSVM,
// or Criteo's format), a TrainingJob of model.type logistic, fm or deepfm, servers and workers as
// processes. The summary's
// test log-loss comes close to the ground-truth model's on the same test rows (what
// `ringtrain generate ctr` reports), the servers' sparse table holds every key of the data,
// and a bad record fails the job naming file and line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>

#include "ctr_runs.h"
#include "process_helpers.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;

using ctr_runs::CtrJob;
using ctr_runs::Outcome;
using ctr_runs::RunRingtrain;

class SparseRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("sparse-run"));
    truth_ = ctr_runs::GenerateCtr(*dir_, 50000);
    ASSERT_GT(truth_, 0.3);
  }
  static void TearDownTestSuite() { delete dir_; }

  // `training`: more lines of spec.training (four-space indented).
  Outcome Train(const std::string& model, const std::string& optimizer,
                const std::string& training = "") {
    testing::WriteFile(*dir_ + "/job.yaml",
                       CtrJob(*dir_, model, optimizer, "ctr", 4, "", training));
    return RunRingtrain(
        *dir_, "run", {"run", "--no-progress", "--log-dir", *dir_ + "/logs", *dir_ + "/job.yaml"});
  }

  static std::string* dir_;
  static double truth_;
};

std::string* SparseRunTest::dir_ = nullptr;
double SparseRunTest::truth_ = 0;

TEST_F(SparseRunTest, LogisticRegressionWithFtrlComesCloseToTheTruth) {
  const Outcome r = Train("{type: logistic}", "{type: ftrl, learningRate: 2.0}");
  ASSERT_TRUE(r.success) << r.log;
  const double loss = testing::SummaryLogLoss(r.log);
  // About 1600 / (2 x 50000) above the truth is what fitting 1600 weights costs (see
  // sparse_training_test.cc).
  EXPECT_GT(loss, truth_) << r.log;
  EXPECT_LT(loss, truth_ * 1.05) << r.log;
  EXPECT_GT(testing::SummaryAuc(r.log), 0.8) << r.log;
  // Every one of the 8 x 200 values has a row on one of the servers.
  EXPECT_THAT(r.log, HasSubstr("sparse table         1600 keys")) << r.log;
  // What each process took: the workers streamed their halves of the data.
  EXPECT_TRUE(std::regex_search(
      r.log, std::regex("peak memory +ps-0 [0-9.]+ MiB, ps-1 [0-9.]+ MiB, worker-0 [0-9.]+ MiB, "
                        "worker-1 [0-9.]+ MiB")))
      << r.log;
}

TEST_F(SparseRunTest, AFactorizationMachineTrainsWithAdagrad) {
  const Outcome r = Train("{type: fm, embeddingSize: 4}", "{type: adagrad, learningRate: 0.05}");
  ASSERT_TRUE(r.success) << r.log;
  EXPECT_LT(testing::SummaryLogLoss(r.log), truth_ * 1.08) << r.log;
  EXPECT_THAT(r.log, HasSubstr("epoch 4/4  test AUC")) << r.log;
}

// training.compression for a sparse model: each key's gradient row is encoded as the worker
// sends it (fp16, or int8 with a scale per row) and decoded when the server receives it. The FM
// learns as it does in float32, and the summary counts the bytes saved.
TEST_F(SparseRunTest, CompressedGradientsSendFewerBytesAndTheFmLearnsAsMuch) {
  const std::string fm = "{type: fm, embeddingSize: 8}";
  const std::string adagrad = "{type: adagrad, learningRate: 0.05}";
  const Outcome plain = Train(fm, adagrad);
  ASSERT_TRUE(plain.success) << plain.log;
  const double plain_loss = testing::SummaryLogLoss(plain.log);
  // Per key: its 8-byte key and 9 floats (weight and embedding) as float32: 44 bytes; fp16
  // values: 26; int8: 17 and the row's float32 scale, 21.
  for (const auto& [codec, least] :
       std::vector<std::pair<std::string, double>>{{"fp16", 1.6}, {"int8", 2.0}}) {
    const Outcome r = Train(fm, adagrad, "    compression: {type: " + codec + "}\n");
    ASSERT_TRUE(r.success) << r.log;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        r.log, m, std::regex("gradient bytes sent .*\\(([0-9.]+)x fewer than dense float32")))
        << r.log;
    EXPECT_GE(std::stod(m[1]), least) << codec << "\n" << r.log;
    EXPECT_NEAR(testing::SummaryLogLoss(r.log), plain_loss, 0.003) << codec << "\n" << r.log;
    std::printf("%s: log-loss %.5f (float32 %.5f), AUC %.4f, %.1fx fewer gradient bytes\n",
                codec.c_str(), testing::SummaryLogLoss(r.log), plain_loss,
                testing::SummaryAuc(r.log), std::stod(m[1]));
  }
}

// Table hygiene through the spec: keys admitted at their 5th update and rows idle for 50 of
// their server's rounds dropped; both are counted in the summary, and the model still learns.
TEST_F(SparseRunTest, AdmissionAndExpiryAreCountedAndTheModelStillLearns) {
  const Outcome r = Train("{type: logistic, admitAfter: 5, expireAfterSteps: 50}",
                          "{type: ftrl, learningRate: 2.0}");
  ASSERT_TRUE(r.success) << r.log;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.log, m, std::regex("sparse keys +([0-9]+) updates dropped .* ([0-9]+) rows expired")))
      << r.log;
  // At most the first 4 updates of each of the 1600 keys are dropped (the counter may admit a
  // key early, never late), and most keys have that many.
  EXPECT_GE(std::stoull(m[1]), 1000u) << r.log;
  EXPECT_LE(std::stoull(m[1]), 4u * 1600u) << r.log;
  EXPECT_GT(std::stoull(m[2]), 0u) << r.log;  // rare values idle for 50 rounds
  EXPECT_LT(testing::SummaryLogLoss(r.log), truth_ * 1.1) << r.log;
}

// Criteo's format (dataset.format: criteo): the generator writes the same truth as Criteo's
// click logs (26 categorical columns; the integer ones empty), and a DeepFM over its fields (13
// integer, 26 categorical) learns it as the LibSVM jobs do.
TEST_F(SparseRunTest, ADeepFmTrainsOnCriteosFormat) {
  const std::string dir = *dir_ + "/criteo";
  std::filesystem::create_directories(dir);
  const std::vector<std::string> common = {"--format",         "criteo", "--fields", "26",
                                           "--keys-per-field", "100",    "--seed",   "3"};
  std::vector<std::string> train = {"generate", "ctr", "--rows", "40000", "--out", dir + "/train"};
  train.insert(train.end(), common.begin(), common.end());
  ASSERT_TRUE(RunRingtrain(dir, "train", train).success);
  std::vector<std::string> test = {"generate",   "ctr", "--rows", "8000",
                                   "--row-seed", "98",  "--out",  dir + "/test"};
  test.insert(test.end(), common.begin(), common.end());
  const Outcome made = RunRingtrain(dir, "test", test);
  ASSERT_TRUE(made.success) << made.log;
  const double truth = ctr_runs::TruthLogLoss(made.log);
  ASSERT_GT(truth, 0.2) << made.log;
  // Two epochs: the DeepFM overfits 40000 rows of 2600 keys after that (a test log-loss measured
  // 10.9% above the truth's after 2, 14% after 4; sync, so the same every run).
  std::string job = CtrJob(dir, "{type: deepfm, embeddingSize: 4, hiddenLayers: [16]}",
                           "{type: adagrad, learningRate: 0.05}", "ctr", 2);
  job = std::regex_replace(job, std::regex("format: libsvm"), "format: criteo");
  job = std::regex_replace(job, std::regex("train.libsvm"), "train");
  job = std::regex_replace(job, std::regex("test.libsvm"), "test");
  testing::WriteFile(dir + "/job.yaml", job);
  const Outcome r = RunRingtrain(
      dir, "run", {"run", "--no-progress", "--log-dir", dir + "/logs", dir + "/job.yaml"});
  ASSERT_TRUE(r.success) << r.log;
  EXPECT_THAT(r.log, HasSubstr("epoch 2/2  test AUC")) << r.log;
  EXPECT_GT(testing::SummaryLogLoss(r.log), truth) << r.log;
  EXPECT_LT(testing::SummaryLogLoss(r.log), truth * 1.15) << r.log;
  EXPECT_GT(testing::SummaryAuc(r.log), 0.85) << r.log;
}

TEST_F(SparseRunTest, ABadRecordFailsTheJobNamingFileAndLine) {
  const std::string bad = *dir_ + "/bad";
  std::filesystem::create_directories(bad);
  testing::WriteFile(bad + "/test.libsvm", "1 5:1 7:1\n");
  testing::WriteFile(bad + "/train.libsvm", "1 5:1 7:1\n0 3:1 9:x\n");
  std::string job = CtrJob(bad, "{type: logistic}", "{type: sgd, learningRate: 0.1}");
  testing::WriteFile(bad + "/job.yaml", job);
  const Outcome r = RunRingtrain(
      bad, "run", {"run", "--no-progress", "--log-dir", bad + "/logs", bad + "/job.yaml"});
  EXPECT_FALSE(r.success) << r.log;
  EXPECT_THAT(r.log, HasSubstr("train.libsvm:2: column 3")) << r.log;
}

}  // namespace
}  // namespace ringtrain
