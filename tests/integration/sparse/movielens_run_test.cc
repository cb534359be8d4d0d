// MovieLens-100k, the real click-through data set of issue 14: the three files RecBole's wheel
// ships (tests/movielens/fetch.sh fetches and caches them; `make` does it before the tests),
// joined by `ringtrain prepare movielens`, and the shipped examples/movielens-fm.yaml trained on
// them by `ringtrain run`, as it is (1 server, 1 worker) and on 2 servers and 2 workers, and
// examples/movielens-deepfm.yaml.
//
// The AUC bound: ringtrain reached 0.7835-0.7854 over seeds 1-3, and its PyTorch peer
// (bench/fm_torch.py, `make bench`) 0.7807-0.7857; 0.775 leaves room for another seed or
// machine while still failing a model that learned only the popular items (about 0.72) or
// nothing (0.5).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <regex>
#include <string>

#include "process_helpers.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;

const std::string kBinary = RINGTRAIN_BINARY;
const std::string kSource = RINGTRAIN_SOURCE_DIR;

class MovieLensRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("movielens-run"));
    std::map<std::string, std::string> env;
    if (const char* cache = std::getenv("RINGTRAIN_CACHE_DIR")) env["RINGTRAIN_CACHE_DIR"] = cache;
    const testing::CommandResult fetched = testing::RunCommand(
        {"/bin/bash", kSource + "/tests/movielens/fetch.sh"}, std::chrono::seconds(300), env);
    ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
    std::string from = fetched.output;
    while (!from.empty() && from.back() == '\n') from.pop_back();
    from = from.substr(from.rfind('\n') + 1);
    prepared_ = new testing::CommandResult(testing::RunCommand(
        {kBinary, "prepare", "movielens", "--from", from, "--out", *dir_ + "/data"}));
    ASSERT_EQ(prepared_->exit_code, 0) << prepared_->output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete prepared_;
  }

  // examples/<example> reading the prepared files, with `edit` applied.
  static std::string Job(const std::function<std::string(std::string)>& edit,
                         const std::string& example = "movielens-fm.yaml") {
    std::string job = testing::ReadFile(kSource + "/examples/" + example);
    EXPECT_THAT(job, HasSubstr("uri: build/movielens/train.csv"));
    job = std::regex_replace(job, std::regex("build/movielens/"), *dir_ + "/data/");
    return edit(job);
  }

  static testing::CommandResult Run(const std::string& name, const std::string& job) {
    const std::string path = *dir_ + "/" + name + ".yaml";
    EXPECT_TRUE(testing::WriteFile(path, job));
    return testing::RunCommand(
        {kBinary, "run", "--no-progress", "--log-dir", *dir_ + "/logs-" + name, path},
        std::chrono::seconds(300));
  }

  static std::string* dir_;
  static testing::CommandResult* prepared_;
};

std::string* MovieLensRunTest::dir_ = nullptr;
testing::CommandResult* MovieLensRunTest::prepared_ = nullptr;

TEST_F(MovieLensRunTest, PreparationGivesTheDocumentedSplit) {
  // The split is a function of (user, item) alone: these counts are the data set's.
  EXPECT_THAT(prepared_->output,
              HasSubstr("wrote 79895 rows to " + *dir_ + "/data/train.csv and 20105 rows to " +
                        *dir_ + "/data/test.csv"));
  EXPECT_THAT(prepared_->output, HasSubstr("users 943, items 1682"));
  const std::string train = testing::ReadFile(*dir_ + "/data/train.csv");
  EXPECT_TRUE(train.starts_with("label,user,item,age,gender,occupation,zip,genres,year\n"));
}

TEST_F(MovieLensRunTest, TheExampleFactorizationMachineLearnsWhoLikesWhat) {
  const testing::CommandResult r = Run("example", Job([](std::string j) { return j; }));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(testing::SummaryAuc(r.output), 0.775) << r.output;
  EXPECT_LT(testing::SummaryLogLoss(r.output), 0.58) << r.output;
  // 943 users, 1682 items less those only the test set has, 7 age buckets, 2 genders, 21
  // occupations, zip prefixes, 19 genres and year buckets: a few thousand keys.
  std::smatch keys;
  ASSERT_TRUE(std::regex_search(r.output, keys, std::regex("sparse table +([0-9]+) keys")))
      << r.output;
  EXPECT_GT(std::stoi(keys[1]), 2600) << r.output;
  EXPECT_LT(std::stoi(keys[1]), 2800) << r.output;
}

TEST_F(MovieLensRunTest, TwoServersAndTwoWorkersReachTheSameAuc) {
  const testing::CommandResult r =
      Run("distributed", Job([](std::string j) {
            return std::regex_replace(j, std::regex("replicas: 1"), "replicas: 2");
          }));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("2 parameter servers, 2 workers")) << r.output;
  EXPECT_GT(testing::SummaryAuc(r.output), 0.775) << r.output;
}

// The deep CTR model: its MLP's tower in dense partitions, the embeddings in the sparse table.
// Over seeds 1-3 it ends at 0.7841-0.7866, level with the FM (`make bench` compares them).
TEST_F(MovieLensRunTest, TheExampleDeepFmTrainsItsTowerAndEmbeddings) {
  const testing::CommandResult r =
      Run("deepfm", Job([](std::string j) { return j; }, "movielens-deepfm.yaml"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(testing::SummaryAuc(r.output), 0.775) << r.output;
  EXPECT_LT(testing::SummaryLogLoss(r.output), 0.58) << r.output;
}

}  // namespace
}  // namespace ringtrain
