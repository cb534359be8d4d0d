// Learning-rate schedules at key steps, and config validation.
#include "ringtrain/optim/schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <string>

namespace ringtrain::optim {
namespace {

LearningRateSchedule Make(const ScheduleConfig& config) {
  auto made = LearningRateSchedule::Create(config);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return std::move(made).value();
}

ScheduleConfig Config(ScheduleKind kind, double base_lr, int64_t warmup, int64_t total) {
  ScheduleConfig c;
  c.kind = kind;
  c.base_lr = base_lr;
  c.warmup_steps = warmup;
  c.total_steps = total;
  return c;
}

TEST(ScheduleTest, ConstantWithWarmupRampsLinearly) {
  const LearningRateSchedule s = Make(Config(ScheduleKind::kConstant, 0.1, 4, 100));
  EXPECT_DOUBLE_EQ(s.At(0), 0.025);  // base * 1/4
  EXPECT_DOUBLE_EQ(s.At(1), 0.05);
  EXPECT_DOUBLE_EQ(s.At(2), 0.075);
  EXPECT_DOUBLE_EQ(s.At(3), 0.1);  // the last warm-up step reaches base_lr
  EXPECT_DOUBLE_EQ(s.At(4), 0.1);
  EXPECT_DOUBLE_EQ(s.At(99), 0.1);
  EXPECT_DOUBLE_EQ(s.At(100000), 0.1);
}

TEST(ScheduleTest, ConstantWithoutWarmup) {
  const LearningRateSchedule s = Make(Config(ScheduleKind::kConstant, 0.3, 0, 10));
  EXPECT_DOUBLE_EQ(s.At(0), 0.3);
  EXPECT_DOUBLE_EQ(s.At(9), 0.3);
}

TEST(ScheduleTest, CosineFromBaseToZero) {
  const LearningRateSchedule s = Make(Config(ScheduleKind::kCosine, 1.0, 0, 100));
  EXPECT_DOUBLE_EQ(s.At(0), 1.0);
  EXPECT_NEAR(s.At(25), 0.5 * (1 + std::cos(std::numbers::pi / 4)), 1e-12);
  EXPECT_NEAR(s.At(50), 0.5, 1e-12);  // midpoint
  EXPECT_NEAR(s.At(99), 0.5 * (1 + std::cos(std::numbers::pi * 0.99)), 1e-12);
  EXPECT_DOUBLE_EQ(s.At(100), 0.0);  // end
  EXPECT_DOUBLE_EQ(s.At(500), 0.0);  // clamped after the end
}

TEST(ScheduleTest, CosineWithWarmupAndFloor) {
  ScheduleConfig c = Config(ScheduleKind::kCosine, 0.2, 10, 110);
  c.min_lr = 0.02;
  const LearningRateSchedule s = Make(c);
  EXPECT_DOUBLE_EQ(s.At(0), 0.02);     // warm-up 0.2 * 1/10
  EXPECT_DOUBLE_EQ(s.At(4), 0.1);      // 0.2 * 5/10
  EXPECT_DOUBLE_EQ(s.At(9), 0.2);      // warm-up done
  EXPECT_DOUBLE_EQ(s.At(10), 0.2);     // cosine starts at base_lr
  EXPECT_NEAR(s.At(60), 0.11, 1e-12);  // midpoint: (base + min) / 2
  EXPECT_DOUBLE_EQ(s.At(110), 0.02);
  EXPECT_DOUBLE_EQ(s.At(1000), 0.02);
  // Monotone non-increasing after warm-up.
  for (int64_t step = 10; step < 120; ++step) EXPECT_LE(s.At(step + 1), s.At(step));
}

TEST(ScheduleTest, StepDecays) {
  ScheduleConfig c = Config(ScheduleKind::kStep, 1.0, 5, 100);
  c.step_size = 10;
  c.gamma = 0.1;
  const LearningRateSchedule s = Make(c);
  EXPECT_DOUBLE_EQ(s.At(0), 0.2);
  EXPECT_DOUBLE_EQ(s.At(4), 1.0);
  EXPECT_DOUBLE_EQ(s.At(5), 1.0);
  EXPECT_DOUBLE_EQ(s.At(14), 1.0);
  EXPECT_NEAR(s.At(15), 0.1, 1e-15);  // first drop after step_size steps past warm-up
  EXPECT_NEAR(s.At(24), 0.1, 1e-15);
  EXPECT_NEAR(s.At(25), 0.01, 1e-15);
  EXPECT_NEAR(s.At(35), 0.001, 1e-15);
}

void ExpectInvalid(const ScheduleConfig& config, const std::string& message) {
  auto made = LearningRateSchedule::Create(config);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(made.status().message(), message);
  EXPECT_EQ(ValidateScheduleConfig(config).message(), message);
}

TEST(ScheduleTest, RejectsBadConfigs) {
  ExpectInvalid(Config(ScheduleKind::kConstant, 0.1, 0, 0), "total_steps: must be > 0 (got 0)");
  ExpectInvalid(Config(ScheduleKind::kConstant, 0.0, 0, 10),
                "base_lr: must be a finite number > 0 (got 0)");
  ExpectInvalid(Config(ScheduleKind::kConstant, std::numeric_limits<double>::quiet_NaN(), 0, 10),
                "base_lr: must be a finite number > 0 (got nan)");
  ExpectInvalid(Config(ScheduleKind::kConstant, 0.1, -1, 10),
                "warmup_steps: must be >= 0 (got -1)");
  ExpectInvalid(Config(ScheduleKind::kCosine, 0.1, 20, 10),
                "warmup_steps: must be <= total_steps (10) (got 20)");

  ScheduleConfig cosine = Config(ScheduleKind::kCosine, 0.1, 0, 10);
  cosine.min_lr = 0.5;
  ExpectInvalid(cosine, "min_lr: must be in [0, base_lr] for a cosine schedule (got 0.5)");

  ScheduleConfig step = Config(ScheduleKind::kStep, 0.1, 0, 10);
  ExpectInvalid(step, "step_size: must be > 0 for a step schedule (got 0)");
  step.step_size = 3;
  step.gamma = 0.0;
  ExpectInvalid(step, "gamma: must be a finite number > 0 (got 0)");
  step.gamma = 0.5;
  EXPECT_TRUE(ValidateScheduleConfig(step).ok());

  // Fields of other kinds are ignored.
  ScheduleConfig constant = Config(ScheduleKind::kConstant, 0.1, 0, 10);
  constant.min_lr = 7.0;
  constant.gamma = -1.0;
  EXPECT_TRUE(ValidateScheduleConfig(constant).ok());
}

TEST(ScheduleTest, LinearScalingMultipliesPeakFloorAndWarmup) {
  // Goyal et al.: lr 0.1 for a batch of 256, run with 8 workers x 64 = 512: lr 0.2.
  ScheduleConfig c = Config(ScheduleKind::kCosine, 0.1, 4, 104);
  c.min_lr = 0.01;
  const ScheduleConfig scaled = ScaleLearningRatesLinearly(c, 512, 256);
  EXPECT_DOUBLE_EQ(scaled.base_lr, 0.2);
  EXPECT_DOUBLE_EQ(scaled.min_lr, 0.02);
  EXPECT_EQ(scaled.warmup_steps, 4);
  EXPECT_EQ(scaled.total_steps, 104);
  const LearningRateSchedule s = Make(scaled);
  EXPECT_DOUBLE_EQ(s.At(0), 0.05);  // warm-up ramps to the scaled peak: 0.2 * 1/4
  EXPECT_DOUBLE_EQ(s.At(3), 0.2);
  EXPECT_DOUBLE_EQ(s.At(104), 0.02);

  // Scaling down, and a factor of 1.
  EXPECT_DOUBLE_EQ(ScaleLearningRatesLinearly(c, 32, 256).base_lr, 0.0125);
  const ScheduleConfig same = ScaleLearningRatesLinearly(c, 256, 256);
  EXPECT_DOUBLE_EQ(same.base_lr, 0.1);
  EXPECT_DOUBLE_EQ(same.min_lr, 0.01);
}

TEST(ScheduleTest, KindNames) {
  EXPECT_STREQ(ScheduleKindName(ScheduleKind::kConstant), "constant");
  EXPECT_STREQ(ScheduleKindName(ScheduleKind::kCosine), "cosine");
  EXPECT_STREQ(ScheduleKindName(ScheduleKind::kStep), "step");
}

}  // namespace
}  // namespace ringtrain::optim
