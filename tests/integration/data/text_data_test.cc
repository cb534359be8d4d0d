// `ringtrain run` on text data (issue 13): LibSVM part files (gzip and plain, uneven) and a CSV
// file split by byte ranges between the workers train the softmax model to the accuracy the
// same data reaches as IDX; a bad record fails the job naming file, line and column, or is
// skipped and counted with onBadRecord: skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "ringtrain/launch/child_process.h"
#include "text_job.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;

const std::string kBinary = RINGTRAIN_BINARY;

using testing::ReadFile;

struct RunResult {
  bool success = false;
  int exit_code = -1;
  std::string log;
};

RunResult RunJob(const std::string& dir, const std::string& spec) {
  const std::string spec_path = dir + "/job.yaml";
  testing::WriteFile(spec_path, spec);
  const std::string log = dir + "/run.log";
  auto run = launch::ChildProcess::Spawn("run",
                                         {kBinary, "run", "--no-progress", "--log-dir",
                                          dir + "/logs", "--output", dir + "/out", spec_path},
                                         {}, log);
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  if (!run.ok()) return {};
  auto exit = testing::WaitForExit(**run, std::chrono::seconds(300));
  RunResult r;
  r.log = ReadFile(log);
  if (exit.has_value()) {
    r.success = exit->success();
    r.exit_code = exit->exit_code;
  }
  return r;
}

TEST(TextDataTest, LibsvmPartFilesTrainTheModel) {
  const std::string dir = testing::MakeTempDir("libsvm");
  std::filesystem::create_directories(dir + "/train");
  testing::WriteLibsvmParts(dir);
  const RunResult r =
      RunJob(dir, testing::TextJob("libsvm", "libsvm", dir + "/train/", dir + "/test.libsvm"));
  ASSERT_TRUE(r.success) << r.log;
  EXPECT_GE(testing::SummaryAccuracy(r.log), 0.9) << r.log;
  // Both workers read a share (by bytes: the gzip parts whole, the plain one split), and
  // together every row once; each runs its own number of steps.
  int64_t total = 0;
  for (int w = 0; w < 2; ++w) {
    const std::string log = ReadFile(dir + "/logs/worker-" + std::to_string(w) + ".log");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(log, m, std::regex("worker-\\d: (\\d+) rows, (\\d+) steps")))
        << log;
    const int64_t rows = std::stoll(m[1]);
    EXPECT_GT(rows, 0) << log;
    EXPECT_EQ(std::stoll(m[2]), (rows + 15) / 16) << log;
    total += rows;
  }
  EXPECT_EQ(total, testing::kTrainRows);
}

// With checkpoints: `ringtrain eval` reads the CSV test set again and gets the accuracy the
// run ended with.
TEST(TextDataTest, ACsvFileIsSplitBetweenTheWorkersAtRecordBoundaries) {
  const std::string dir = testing::MakeTempDir("csv");
  testing::WriteCsvFiles(dir);
  const RunResult r = RunJob(
      dir, testing::TextJob("csv", "csv", "file://" + dir + "/train.csv", dir + "/test.csv", "",
                            "  checkpoint: {path: " + dir + "/ckpt, everySteps: 100}\n"));
  ASSERT_TRUE(r.success) << r.log;
  const double accuracy = testing::SummaryAccuracy(r.log);
  EXPECT_GE(accuracy, 0.9) << r.log;
  auto eval = launch::ChildProcess::Spawn("eval", {kBinary, "eval", dir + "/job.yaml"}, {},
                                          dir + "/eval.log");
  ASSERT_TRUE(eval.ok());
  auto exit = testing::WaitForExit(**eval, std::chrono::seconds(60));
  ASSERT_TRUE(exit.has_value() && exit->success()) << ReadFile(dir + "/eval.log");
  char expected[64];
  std::snprintf(expected, sizeof expected, "(final): test accuracy %.4f", accuracy);
  EXPECT_THAT(ReadFile(dir + "/eval.log"), HasSubstr(expected));
}

TEST(TextDataTest, ABadRecordFailsTheJobNamingItOrIsSkippedAndCounted) {
  const std::string dir = testing::MakeTempDir("badrecord");
  std::filesystem::create_directories(dir + "/train");
  testing::WriteLibsvmParts(dir);
  {
    std::ofstream part(dir + "/train/part-2", std::ios::app);
    part << "3 1:0.5 70:1\n";  // index 70 of 64 features
  }
  const std::string spec =
      testing::TextJob("badrecord", "libsvm", dir + "/train/", dir + "/test.libsvm");
  const RunResult failed = RunJob(dir, spec);
  EXPECT_FALSE(failed.success);
  EXPECT_EQ(failed.exit_code, 2) << "bad input: " << failed.log;
  EXPECT_THAT(failed.log, HasSubstr("spec.dataset.train: " + dir +
                                    "/train/part-2:1001: column 3: index 70 is beyond the 64 "
                                    "features (index base 1)"))
      << failed.log;
  const RunResult skipped =
      RunJob(dir, testing::TextJob("badrecord", "libsvm", dir + "/train/", dir + "/test.libsvm",
                                   "    onBadRecord: skip\n"));
  ASSERT_TRUE(skipped.success) << skipped.log;
  EXPECT_THAT(ReadFile(dir + "/logs/worker-1.log"),
              HasSubstr("worker-1: skipped 1 bad records of spec.dataset.train"));
}

TEST(TextDataTest, AMissingLocationIsRefusedBeforeAnyProcessStarts) {
  const std::string dir = testing::MakeTempDir("nodata");
  const RunResult r =
      RunJob(dir, testing::TextJob("nodata", "csv", dir + "/none/part-*.csv", dir + "/t.csv"));
  EXPECT_EQ(r.exit_code, 2) << r.log;
  EXPECT_THAT(r.log, HasSubstr("spec.dataset.train.uri: " + dir + "/none/part-*.csv"));
}

}  // namespace
}  // namespace ringtrain
