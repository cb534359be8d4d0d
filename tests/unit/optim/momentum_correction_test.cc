#include "ringtrain/optim/momentum_correction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ringtrain::optim {
namespace {

using ::testing::FloatNear;
using ::testing::Pointwise;

TEST(MomentumCorrectionTest, SplitMovesMomentumAndWeightDecayToTheWorkers) {
  OptimizerConfig c{OptimizerKind::kNesterov, 0.8, 0.01};
  const LocalMomentum local = SplitForMomentumCorrection(&c, compress::CodecType::kTopK, true);
  EXPECT_EQ(c.kind, OptimizerKind::kSgd);
  EXPECT_EQ(c.momentum, 0);
  EXPECT_EQ(c.weight_decay, 0);
  EXPECT_DOUBLE_EQ(local.momentum, 0.8);
  EXPECT_TRUE(local.nesterov);
  EXPECT_DOUBLE_EQ(local.weight_decay, 0.01);
  EXPECT_TRUE(local.mask_sent) << "top-k with error feedback masks what it sent";

  OptimizerConfig dense{OptimizerKind::kMomentum, 0.9, 0.01};
  EXPECT_FALSE(SplitForMomentumCorrection(&dense, compress::CodecType::kNone, false).enabled());
  EXPECT_EQ(dense.kind, OptimizerKind::kMomentum)
      << "without a codec momentum stays on the servers";
  OptimizerConfig onebit{OptimizerKind::kMomentum, 0.9, 0};
  EXPECT_FALSE(SplitForMomentumCorrection(&onebit, compress::CodecType::kOneBit, true).mask_sent);

  OptimizerConfig adam{OptimizerKind::kAdam, 0, 0.01};
  EXPECT_FALSE(SplitForMomentumCorrection(&adam, compress::CodecType::kTopK, true).enabled());
  EXPECT_EQ(adam.kind, OptimizerKind::kAdam) << "adaptive optimizers stay on the servers";
  EXPECT_DOUBLE_EQ(adam.weight_decay, 0.01);
}

// Two workers with local momentum, the server averaging their pushes and applying plain SGD,
// follow the same trajectory as server-side momentum SGD on the mean gradient.
class EquivalenceTest : public ::testing::TestWithParam<OptimizerKind> {};

TEST_P(EquivalenceTest, SyncUpdateEqualsServerSideMomentum) {
  const size_t n = 5;
  OptimizerConfig config{GetParam(), 0.9, 0.05};
  OptimizerConfig server_side = config;
  const LocalMomentum local =
      SplitForMomentumCorrection(&config, compress::CodecType::kInt8, false);
  auto sgd = MakeOptimizer(config).value();
  auto reference = MakeOptimizer(server_side).value();

  std::vector<float> p(n, 1.0f), p_ref(n, 1.0f), state_ref(n * reference->state_slots(), 0.0f);
  std::vector<float> none;
  std::vector<std::vector<float>> velocity(2, std::vector<float>(n, 0.0f));
  for (int step = 1; step <= 20; ++step) {
    // Worker w's gradient at step t: a smooth function of both, so steps differ.
    std::vector<std::vector<float>> g(2, std::vector<float>(n));
    for (size_t w = 0; w < 2; ++w) {
      for (size_t i = 0; i < n; ++i) {
        g[w][i] = std::sin(0.3f * static_cast<float>(step * (i + 1)) + static_cast<float>(w)) +
                  0.1f * p[i];
      }
    }
    // Reference: the server gets the mean gradient (same parameters on both sides, which the
    // check below keeps true) and applies momentum SGD with weight decay.
    std::vector<float> mean(n);
    for (size_t i = 0; i < n; ++i) mean[i] = 0.5f * (g[0][i] + g[1][i]);
    reference->Apply(0.1f, step, mean, p_ref, state_ref);
    // Momentum correction: each worker turns its gradient into its update, the server
    // averages them and applies SGD.
    std::vector<float> update(n, 0.0f);
    for (size_t w = 0; w < 2; ++w) {
      local.Apply(g[w], p, velocity[w]);
      for (size_t i = 0; i < n; ++i) update[i] += 0.5f * g[w][i];
    }
    sgd->Apply(0.1f, step, update, p, none);
    ASSERT_THAT(p, Pointwise(FloatNear(1e-5f), p_ref)) << "step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(MomentumKinds, EquivalenceTest,
                         ::testing::Values(OptimizerKind::kMomentum, OptimizerKind::kNesterov));

TEST(MomentumCorrectionTest, MaskingRestartsTheVelocityOfSentElements) {
  std::vector<float> velocity = {1, 2, 3, 4};
  const std::vector<float> residual = {0, 0.5f, 0, -1};
  LocalMomentum::MaskSent(residual, velocity);
  EXPECT_EQ(velocity, (std::vector<float>{0, 2, 0, 4}));
}

}  // namespace
}  // namespace ringtrain::optim
