#include "ringtrain/optim/ftrl.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ringtrain/optim/optimizer.h"

namespace ringtrain::optim {
namespace {

// McMahan et al. 2013, Algorithm 1, per coordinate, in double.
struct Reference {
  double z = 0, n = 0, w = 0;
  void Step(double g, double alpha, double beta, double l1, double l2) {
    const double sigma = (std::sqrt(n + g * g) - std::sqrt(n)) / alpha;
    z += g - sigma * w;
    n += g * g;
    w = std::fabs(z) <= l1 ? 0.0
                           : -(z - std::copysign(l1, z)) / ((beta + std::sqrt(n)) / alpha + l2);
  }
};

TEST(FtrlTest, FollowsAlgorithmOneOfThePaper) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kFtrl;
  c.ftrl_beta = 1.0;
  c.l1 = 0.05;
  c.l2 = 0.5;
  auto ftrl = MakeOptimizer(c).value();
  ASSERT_EQ(ftrl->state_slots(), 2);
  const std::vector<double> grads = {0.3, -0.2, 0.9, 0.05, -1.5, 0.4, 0.4, -0.1};
  std::vector<float> w(2, 0.0f), state(4, 0.0f);
  Reference ref[2];
  for (size_t t = 0; t < grads.size(); ++t) {
    const std::vector<float> g = {static_cast<float>(grads[t]), static_cast<float>(-grads[t])};
    ftrl->Apply(0.1f, static_cast<int64_t>(t + 1), g, w, state);
    for (int i = 0; i < 2; ++i) {
      ref[i].Step(g[static_cast<size_t>(i)], 0.1, 1.0, 0.05, 0.5);
      EXPECT_NEAR(w[static_cast<size_t>(i)], ref[i].w, 1e-6) << "step " << t << " coord " << i;
      EXPECT_NEAR(state[static_cast<size_t>(i)], ref[i].z, 1e-5);
      EXPECT_NEAR(state[2 + static_cast<size_t>(i)], ref[i].n, 1e-5);
    }
  }
}

TEST(FtrlTest, L1KeepsSmallWeightsExactlyZero) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kFtrl;
  c.l1 = 1.0;
  auto ftrl = MakeOptimizer(c).value();
  std::vector<float> w = {0.0f}, state = {0.0f, 0.0f};
  for (int t = 1; t <= 5; ++t) {
    const std::vector<float> g = {0.1f};  // |z| reaches 0.5 < l1
    ftrl->Apply(0.5f, t, g, w, state);
    EXPECT_EQ(w[0], 0.0f);
  }
  // A large, consistent gradient pushes |z| past l1: the weight moves against it.
  const std::vector<float> big = {5.0f};
  ftrl->Apply(0.5f, 6, big, w, state);
  EXPECT_LT(w[0], 0.0f);
}

TEST(FtrlTest, ARateOfZeroChangesNothing) {
  auto ftrl = MakeOptimizer({OptimizerKind::kFtrl}).value();
  std::vector<float> w = {0.5f}, state = {0.25f, 1.0f};
  const std::vector<float> g = {2.0f};
  ftrl->Apply(0.0f, 1, g, w, state);
  EXPECT_EQ(w[0], 0.5f);
  EXPECT_EQ(state[0], 0.25f);
  EXPECT_EQ(state[1], 1.0f);
}

TEST(FtrlTest, RefusesBadSettingsNamingTheField) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kFtrl;
  c.ftrl_beta = 0.0;
  EXPECT_NE(ValidateOptimizerConfig(c).message().find("beta"), std::string::npos);
  c.ftrl_beta = 1.0;
  c.l1 = -1;
  EXPECT_NE(ValidateOptimizerConfig(c).message().find("l1"), std::string::npos);
  c.l1 = 0;
  c.l2 = std::nan("");
  EXPECT_NE(ValidateOptimizerConfig(c).message().find("l2"), std::string::npos);
  c.l2 = 0;
  EXPECT_TRUE(ValidateOptimizerConfig(c).ok());
  EXPECT_STREQ(OptimizerKindName(OptimizerKind::kFtrl), "ftrl");
}

}  // namespace
}  // namespace ringtrain::optim
