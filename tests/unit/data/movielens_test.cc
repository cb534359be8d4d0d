#include "ringtrain/data/movielens.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ringtrain/common/hash.h"

namespace ringtrain::data {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class MovieLensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/movielens-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_ + "/in");
    // RecBole's layout: typed headers, tabs; columns in another order than the reader needs.
    Write("ml-100k.user",
          "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
          "1\t24\tM\ttechnician\t85711\n"
          "2\t53\tF\tother\t94043\n");
    Write("ml-100k.item",
          "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
          "10\tToy Story\t1995\tAnimation Children's Comedy\n"
          "20\tUnknown\tunkonwn\tDrama\n"
          "40\tHeat\t1995\tAction Crime Thriller\n");
    std::string inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
    for (int user = 1; user <= 2; ++user) {
      for (int item : {10, 20, 40}) {
        for (int r = 1; r <= 5; ++r) {
          // The same pair repeated is the same split; several pairs reach both splits below.
          inter += std::to_string(user) + "\t" + std::to_string(item) + "\t" + std::to_string(r) +
                   "\t88125094" + std::to_string(r) + "\n";
        }
      }
    }
    Write("ml-100k.inter", inter);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/in/" + name) << text;
  }

  std::string dir_;
};

TEST_F(MovieLensTest, JoinsRatingsUsersAndItemsIntoAFixedSplit) {
  StatusOr<MovieLensReport> report = PrepareMovieLens(dir_ + "/in", dir_ + "/out");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->users, 2);
  EXPECT_EQ(report->items, 3);
  EXPECT_EQ(report->train_rows + report->test_rows, 30);

  // Every pair goes where the documented rule sends it, all five of its ratings together.
  int64_t expected_test = 0;
  for (const char* pair : {"1:10", "1:20", "1:40", "2:10", "2:20", "2:40"}) {
    if (ScaleToRange(Hash64(pair), 5) == 0) expected_test += 5;
  }
  EXPECT_EQ(report->test_rows, expected_test);
  EXPECT_GT(expected_test, 0);  // the fixture's pairs reach both files
  EXPECT_LT(expected_test, 30);

  std::vector<std::string> rows = Lines(dir_ + "/out/train.csv");
  const std::vector<std::string> test = Lines(dir_ + "/out/test.csv");
  ASSERT_FALSE(rows.empty());
  ASSERT_FALSE(test.empty());
  EXPECT_EQ(rows[0], "label,user,item,age,gender,occupation,zip,genres,year");
  EXPECT_EQ(test[0], rows[0]);
  rows.insert(rows.end(), test.begin() + 1, test.end());
  EXPECT_EQ(rows.size(), 31u);
  // Ratings 4 and 5 are positives: 2 of every 5.
  EXPECT_DOUBLE_EQ(report->train_positive_rate, 0.4);
  // Users' and items' columns joined in; the unknown year is empty, the genres joined by '|'.
  EXPECT_THAT(rows,
              ::testing::Contains("1,1,10,24,M,technician,85,Animation|Children's|Comedy,1995"));
  EXPECT_THAT(rows, ::testing::Contains("0,2,20,53,F,other,94,Drama,"));
}

TEST_F(MovieLensTest, NamesTheFileAndLineOfWhatItCannotJoin) {
  Write("ml-100k.inter", "user_id:token\titem_id:token\trating:float\n1\t10\t4\n3\t10\t4\n");
  StatusOr<MovieLensReport> report = PrepareMovieLens(dir_ + "/in", dir_ + "/out");
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(),
              HasSubstr("ml-100k.inter:3: user 3 is not in ml-100k.user"));

  Write("ml-100k.inter", "user_id:token\titem_id:token\trating:float\n1\t10\tfour\n");
  report = PrepareMovieLens(dir_ + "/in", dir_ + "/out");
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("ml-100k.inter:2: rating 'four'"));

  Write("ml-100k.user", "user_id:token\tage:token\tgender:token\toccupation:token\n");
  report = PrepareMovieLens(dir_ + "/in", dir_ + "/out");
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("ml-100k.user:1: the header has no column "
                                                   "zip_code"));

  Write("ml-100k.user",
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
        "1\t24\tM\ttech,nician\t85711\n");
  report = PrepareMovieLens(dir_ + "/in", dir_ + "/out");
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("ml-100k.user:2: column occupation holds a "
                                                   "comma"));

  Write("ml-100k.user",
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n");
  std::filesystem::remove(dir_ + "/in/ml-100k.item");
  report = PrepareMovieLens(dir_ + "/in", dir_ + "/out");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ringtrain::data
