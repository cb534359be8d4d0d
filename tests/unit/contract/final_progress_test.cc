#include "ringtrain/job/final_progress.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace ringtrain::job {
namespace {

FinalProgress Sample() {
  FinalProgress p;
  p.step = 940;
  p.total_steps = 9400;
  p.epoch = 10;
  p.loss = 0.3206;
  p.accuracy = 0.8882;
  p.samples_per_second = 17012.5;
  p.global_batch_size = 128;
  return p;
}

TEST(FinalProgressTest, WritesTheDocumentedRecord) {
  EXPECT_EQ(FormatFinalProgress(Sample()),
            R"({"step":940,"totalSteps":9400,"epoch":10,"loss":0.3206,"accuracy":0.8882,)"
            R"("samplesPerSecond":17012.5,"globalBatchSize":128})");
}

TEST(FinalProgressTest, RoundTrips) {
  std::optional<FinalProgress> back = ParseFinalProgress(FormatFinalProgress(Sample()));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, Sample());
}

TEST(FinalProgressTest, SkippedRecordsAreWrittenWhenThereAreAny) {
  FinalProgress p = Sample();
  p.records_skipped = 17;
  const std::string text = FormatFinalProgress(p);
  EXPECT_NE(text.find(R"("recordsSkipped":17})"), std::string::npos) << text;
  std::optional<FinalProgress> back = ParseFinalProgress(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->records_skipped, 17);
}

TEST(FinalProgressTest, NoAccuracyBeforeAnEvaluation) {
  FinalProgress p = Sample();
  p.accuracy.reset();
  const std::string text = FormatFinalProgress(p);
  EXPECT_EQ(text.find("accuracy"), std::string::npos) << text;
  std::optional<FinalProgress> back = ParseFinalProgress(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_FALSE(back->accuracy.has_value());
}

TEST(FinalProgressTest, AClickThroughModelsAucIsWrittenInsteadOfAnAccuracy) {
  FinalProgress p = Sample();
  p.accuracy.reset();
  p.auc = 0.7854;
  const std::string text = FormatFinalProgress(p);
  EXPECT_NE(text.find(R"("loss":0.3206,"auc":0.7854,)"), std::string::npos) << text;
  EXPECT_EQ(text.find("accuracy"), std::string::npos) << text;
  EXPECT_EQ(ParseFinalProgress(text), p);
  EXPECT_FALSE(ParseFinalProgress(FormatFinalProgress(Sample()))->auc.has_value());
}

TEST(FinalProgressTest, NonFiniteNumbersAreNullAndReadBackAsAbsent) {
  FinalProgress p = Sample();
  p.loss = std::numeric_limits<double>::quiet_NaN();
  p.accuracy = std::numeric_limits<double>::infinity();
  p.samples_per_second = -std::numeric_limits<double>::infinity();
  const std::string text = FormatFinalProgress(p);
  EXPECT_NE(text.find(R"("loss":null)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("accuracy":null)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("samplesPerSecond":null)"), std::string::npos) << text;
  std::optional<FinalProgress> back = ParseFinalProgress(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_FALSE(back->loss.has_value());
  EXPECT_FALSE(back->accuracy.has_value());
  EXPECT_EQ(back->samples_per_second, 0);
  EXPECT_EQ(back->step, 940);
}

TEST(FinalProgressTest, AnythingElseIsNotARecord) {
  EXPECT_FALSE(ParseFinalProgress(""));
  EXPECT_FALSE(ParseFinalProgress("spec.dataset.train.images: no such file"));
  EXPECT_FALSE(ParseFinalProgress("{not json"));
  EXPECT_FALSE(ParseFinalProgress(R"({"error":"no step here"})"));
  EXPECT_FALSE(ParseFinalProgress("[1,2]"));
}

TEST(FinalProgressTest, FieldsOfTheWrongTypeReadAsAbsent) {
  std::optional<FinalProgress> p =
      ParseFinalProgress(R"({"step":"many","epoch":3,"loss":"low","accuracy":[1]})");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->step, 0);
  EXPECT_EQ(p->epoch, 3);
  EXPECT_FALSE(p->loss.has_value());
  EXPECT_FALSE(p->accuracy.has_value());
}

}  // namespace
}  // namespace ringtrain::job
