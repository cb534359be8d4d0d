// The DGC sparsity warm-up schedule at key steps, and its validation.
#include "ringtrain/compress/sparsity_warmup.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace ringtrain::compress {
namespace {

SparsityWarmup Warmup(double target, int64_t steps) {
  SparsityWarmup w;
  w.target_ratio = target;
  w.warmup_steps = steps;
  return w;
}

TEST(SparsityWarmupTest, PaperScheduleFourStagesToPointOnePercent) {
  const SparsityWarmup w = Warmup(0.001, 400);
  EXPECT_EQ(WarmupStages(0.001), 4);
  EXPECT_EQ(TopKRatioAt(w, 0), 0.25);
  EXPECT_EQ(TopKRatioAt(w, 99), 0.25);
  EXPECT_EQ(TopKRatioAt(w, 100), 0.0625);
  EXPECT_EQ(TopKRatioAt(w, 199), 0.0625);
  EXPECT_EQ(TopKRatioAt(w, 200), 0.015625);
  EXPECT_EQ(TopKRatioAt(w, 300), 0.00390625);
  EXPECT_EQ(TopKRatioAt(w, 399), 0.00390625);
  EXPECT_EQ(TopKRatioAt(w, 400), 0.001);
  EXPECT_EQ(TopKRatioAt(w, 1000000), 0.001);
}

TEST(SparsityWarmupTest, OnePercentTargetClampsAfterThreeStages) {
  const SparsityWarmup w = Warmup(0.01, 30);
  EXPECT_EQ(WarmupStages(0.01), 3);
  EXPECT_EQ(TopKRatioAt(w, 0), 0.25);
  EXPECT_EQ(TopKRatioAt(w, 10), 0.0625);
  EXPECT_EQ(TopKRatioAt(w, 20), 0.015625);
  EXPECT_EQ(TopKRatioAt(w, 29), 0.015625);
  EXPECT_EQ(TopKRatioAt(w, 30), 0.01);
  // The ratio never increases and never goes below the target.
  double previous = 1.0;
  for (int64_t s = 0; s < 40; ++s) {
    const double r = TopKRatioAt(w, s);
    EXPECT_LE(r, previous);
    EXPECT_GE(r, 0.01);
    previous = r;
  }
}

TEST(SparsityWarmupTest, NoWarmupCases) {
  EXPECT_EQ(TopKRatioAt(Warmup(0.01, 0), 0), 0.01);  // no warm-up steps
  EXPECT_EQ(TopKRatioAt(Warmup(0.5, 100), 0), 0.5);  // target above 25%
  EXPECT_EQ(TopKRatioAt(Warmup(0.25, 100), 0), 0.25);
  EXPECT_EQ(WarmupStages(0.25), 0);
  EXPECT_EQ(WarmupStages(0.0625), 1);  // 25%, then the target 6.25%
  EXPECT_EQ(TopKRatioAt(Warmup(0.0625, 10), 9), 0.25);
  EXPECT_EQ(TopKRatioAt(Warmup(0.0625, 10), 10), 0.0625);
  // Fewer steps than stages: stages are skipped, the last step before the end is the deepest.
  EXPECT_EQ(TopKRatioAt(Warmup(0.001, 2), 0), 0.25);
  EXPECT_EQ(TopKRatioAt(Warmup(0.001, 2), 1), 0.015625);
  // Huge step counts do not overflow.
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(TopKRatioAt(Warmup(0.001, big), big - 1), 0.00390625);
  EXPECT_EQ(TopKRatioAt(Warmup(0.001, big), 0), 0.25);
  EXPECT_GT(WarmupStages(std::numeric_limits<double>::denorm_min()), 500);
}

TEST(SparsityWarmupTest, Validation) {
  EXPECT_TRUE(ValidateSparsityWarmup(Warmup(0.01, 100)).ok());
  EXPECT_TRUE(ValidateSparsityWarmup(Warmup(1.0, 0)).ok());
  for (double bad : {0.0, -0.5, 1.01, std::numeric_limits<double>::quiet_NaN()}) {
    const Status s = ValidateSparsityWarmup(Warmup(bad, 10));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("target_ratio: must be in (0, 1]"), std::string::npos);
  }
  EXPECT_EQ(ValidateSparsityWarmup(Warmup(0.01, -1)).message(),
            "warmup_steps: must be >= 0 (got -1)");
}

}  // namespace
}  // namespace ringtrain::compress
