#include "ringtrain/ps/margin_rounds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace ringtrain::ps {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Answer = MarginRounds::Answer;

std::vector<float> Sum(const MarginRounds& m) { return {m.sum().begin(), m.sum().end()}; }

TEST(MarginRoundsTest, SumsEveryWorkersMarginsOnceAllAreIn) {
  MarginRounds m(/*num_workers=*/3, /*cols=*/2);
  const std::vector<bool> done(3, false);
  EXPECT_EQ(m.open_step(), -1);
  EXPECT_EQ(m.Add(1, 0, 2, std::vector<float>{1, 2, 3, 4}, done).value(), Answer::kWait);
  EXPECT_EQ(m.open_step(), 0);
  EXPECT_THAT(m.Missing(done), ElementsAre(0, 2));
  EXPECT_EQ(m.Add(0, 0, 2, std::vector<float>{10, 20, 30, 40}, done).value(), Answer::kWait);
  EXPECT_EQ(m.Add(2, 0, 2, std::vector<float>{100, 200, 300, 400}, done).value(),
            Answer::kComplete);
  EXPECT_THAT(Sum(m), ElementsAre(111, 222, 333, 444));
  EXPECT_EQ(m.open_step(), -1);
  EXPECT_TRUE(m.Missing(done).empty());
  // The next step starts a new round from zero.
  EXPECT_EQ(m.Add(0, 1, 1, std::vector<float>{1, 1}, done).value(), Answer::kWait);
  EXPECT_EQ(m.Add(1, 1, 1, std::vector<float>{2, 2}, done).value(), Answer::kWait);
  EXPECT_EQ(m.Add(2, 1, 1, std::vector<float>{3, 3}, done).value(), Answer::kComplete);
  EXPECT_THAT(Sum(m), ElementsAre(6, 6));
}

TEST(MarginRoundsTest, ARetriedRequestIsNotAddedTwice) {
  MarginRounds m(2, 1);
  const std::vector<bool> done(2, false);
  EXPECT_EQ(m.Add(0, 5, 1, std::vector<float>{1}, done).value(), Answer::kWait);
  EXPECT_EQ(m.Add(0, 5, 1, std::vector<float>{1}, done).value(), Answer::kWait);
  EXPECT_EQ(m.Add(1, 5, 1, std::vector<float>{2}, done).value(), Answer::kComplete);
  EXPECT_THAT(Sum(m), ElementsAre(3));
}

TEST(MarginRoundsTest, AStepAlreadySummedIsAnsweredFromTheKeptRounds) {
  MarginRounds m(2, 1);
  const std::vector<bool> done(2, false);
  for (int64_t step = 0; step < 6; ++step) {
    ASSERT_EQ(m.Add(0, step, 1, std::vector<float>{float(step)}, done).value(), Answer::kWait);
    ASSERT_EQ(m.Add(1, step, 1, std::vector<float>{1}, done).value(), Answer::kComplete);
  }
  // A replacement of worker 1 replays step 4: answered, nothing changes.
  EXPECT_EQ(m.Add(1, 4, 1, std::vector<float>{7}, done).value(), Answer::kRepeat);
  EXPECT_THAT(m.Kept(4), ElementsAre(5));
  EXPECT_THAT(m.Kept(5), ElementsAre(6));
  EXPECT_EQ(m.open_step(), -1);
  // Only the last kKeptRounds are kept.
  EXPECT_TRUE(m.Kept(1).empty());
  auto old = m.Add(1, 1, 1, std::vector<float>{1}, done);
  ASSERT_FALSE(old.ok());
  EXPECT_THAT(old.status().message(), HasSubstr("no longer kept"));
  auto rows = m.Add(1, 5, 2, std::vector<float>{1, 1}, done);
  ASSERT_FALSE(rows.ok());
  EXPECT_THAT(rows.status().message(), HasSubstr("the step had 1"));
}

TEST(MarginRoundsTest, RefusesWhatDoesNotFitAndChangesNothing) {
  MarginRounds m(2, 2);
  const std::vector<bool> done = {false, true};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(m.Add(2, 0, 1, std::vector<float>{1, 1}, done).status().message(),
              HasSubstr("worker 2 of 2"));
  EXPECT_THAT(m.Add(1, 0, 1, std::vector<float>{1, 1}, done).status().message(),
              HasSubstr("after it finished"));
  EXPECT_THAT(m.Add(0, -1, 1, std::vector<float>{1, 1}, done).status().message(),
              HasSubstr("negative step"));
  EXPECT_THAT(m.Add(0, 0, 0, std::vector<float>{}, done).status().message(), HasSubstr("0 rows"));
  EXPECT_THAT(m.Add(0, 0, 1, std::vector<float>{1, 1, 1}, done).status().message(),
              HasSubstr("3 values for 1 rows of 2"));
  EXPECT_THAT(m.Add(0, 0, 1, std::vector<float>{1, nan}, done).status().message(),
              HasSubstr("not finite"));
  EXPECT_EQ(m.open_step(), -1);

  MarginRounds open(3, 1);
  const std::vector<bool> none(3, false);
  ASSERT_EQ(open.Add(0, 3, 2, std::vector<float>{1, 1}, none).value(), Answer::kWait);
  EXPECT_THAT(open.Add(1, 4, 2, std::vector<float>{1, 1}, none).status().message(),
              HasSubstr("while step 3 is being summed"));
  EXPECT_THAT(open.Add(1, 3, 1, std::vector<float>{1}, none).status().message(),
              HasSubstr("the others sent 2"));
  EXPECT_THAT(open.Missing(none), ElementsAre(1, 2));
}

TEST(MarginRoundsTest, AWorkerThatFinishesNoLongerHoldsTheRound) {
  MarginRounds m(2, 1);
  std::vector<bool> done(2, false);
  ASSERT_EQ(m.Add(0, 0, 1, std::vector<float>{4}, done).value(), Answer::kWait);
  EXPECT_FALSE(m.Complete(done));
  done[1] = true;
  EXPECT_TRUE(m.Complete(done));
  EXPECT_THAT(Sum(m), ElementsAre(4));
  EXPECT_FALSE(m.Complete(done));  // nothing open
}

}  // namespace
}  // namespace ringtrain::ps
