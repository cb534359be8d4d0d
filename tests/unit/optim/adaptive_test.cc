// Adagrad and Adam against hand-computed torch.optim.Adagrad / torch.optim.Adam updates, with
// and without weight decay, Adam's bias correction at t = 1, 2, 3, the state layout, and a
// double-precision scalar reference on lengths that exercise Eigen's vector tails.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "optimizer_steps.h"
#include "ringtrain/model/init.h"
#include "ringtrain/optim/optimizer.h"

namespace ringtrain::optim {
namespace {

OptimizerConfig Adagrad(double weight_decay) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdagrad;
  c.weight_decay = weight_decay;
  c.epsilon = kAdagradDefaultEpsilon;
  return c;
}

OptimizerConfig Adam(double weight_decay) {
  OptimizerConfig c;  // betas (0.9, 0.999), epsilon 1e-8: PyTorch's defaults
  c.kind = OptimizerKind::kAdam;
  c.weight_decay = weight_decay;
  return c;
}

TEST(AdagradTest, ThreeSteps) {
  // lr = 0.1, p0 = 1, g = 0.5, -1, 2: s = 0.25, 1.25, 5.25;
  //   p = 1 - 0.1 * 0.5 / 0.5                 = 0.9
  //   p = 0.9 + 0.1 * 1 / sqrt(1.25)          = 0.98944272
  //   p = 0.98944272 - 0.1 * 2 / sqrt(5.25)   = 0.90215556
  auto opt = MakeOrFail(Adagrad(0.0));
  ASSERT_NE(opt, nullptr);
  EXPECT_EQ(opt->state_slots(), 1);
  std::vector<float> p = {1.0f};
  std::vector<float> s = {0.0f};
  const float grads[3] = {0.5f, -1.0f, 2.0f};
  const float expected_s[3] = {0.25f, 1.25f, 5.25f};
  const float expected_p[3] = {0.9f, 0.9894427191f, 0.9021555630f};
  for (int step = 0; step < 3; ++step) {
    const std::vector<float> g = {grads[step]};
    opt->Apply(0.1f, step + 1, g, p, s);
    EXPECT_FLOAT_EQ(s[0], expected_s[step]);
    EXPECT_NEAR(p[0], expected_p[step], 1e-6f);
  }
}

TEST(AdagradTest, WeightDecayThreeSteps) {
  // lr = 0.1, wd = 0.1, p0 = 1, g = 0.5 each step; g' = g + 0.1 p:
  //   g' = 0.6          s = 0.36         p = 1 - 0.1 * 0.6 / 0.6                = 0.9
  //   g' = 0.59         s = 0.7081       p = 0.9 - 0.1 * 0.59 / 0.84149866      = 0.82988600
  //   g' = 0.58298860   s = 1.04797571   p = 0.82988600 - 0.1 * 0.5829886 / 1.0237 = 0.77293722
  auto opt = MakeOrFail(Adagrad(0.1));
  ASSERT_NE(opt, nullptr);
  ExpectThreeSteps(
      *opt, 0.1f, 1.0f, 0.5f,
      {.state = {0.36f, 0.7081f, 1.0479757083f}, .param = {0.9f, 0.8298860048f, 0.7729372209f}});
}

TEST(AdagradTest, EpsilonKeepsAZeroGradientFinite) {
  auto opt = MakeOrFail(Adagrad(0.0));
  ASSERT_NE(opt, nullptr);
  std::vector<float> p = {3.0f};
  std::vector<float> s = {0.0f};
  const std::vector<float> g = {0.0f};
  opt->Apply(0.1f, 1, g, p, s);
  EXPECT_EQ(p[0], 3.0f);
  EXPECT_EQ(s[0], 0.0f);
}

TEST(AdamTest, BiasCorrectionAtSteps1To3) {
  // lr = 0.01, betas (0.9, 0.999), p0 = 1, g = 0.5, -0.25, 1:
  //   t=1: m = 0.05    v = 0.00025       m_hat = 0.5        v_hat = 0.25
  //        p = 1 - 0.01 * 0.5 / (0.5 + 1e-8)                        = 0.99
  //   t=2: m = 0.02    v = 0.00031225    m_hat = 0.02/0.19  v_hat = 0.00031225/0.001999
  //        p = 0.99 - 0.01 * 0.10526316 / 0.39522538                = 0.98733663
  //   t=3: m = 0.118   v = 0.00131194    m_hat = 0.118/0.271 v_hat = 0.00131194/0.002997
  //        p = 0.98733663 - 0.01 * 0.43542435 / 0.66162689          = 0.98075551
  auto opt = MakeOrFail(Adam(0.0));
  ASSERT_NE(opt, nullptr);
  EXPECT_EQ(opt->state_slots(), 2);
  std::vector<float> p = {1.0f};
  std::vector<float> state = {0.0f, 0.0f};  // slot 0: m, slot 1: v
  const float grads[3] = {0.5f, -0.25f, 1.0f};
  const double expected_m[3] = {0.05, 0.02, 0.118};
  const double expected_v[3] = {0.00025, 0.00031225, 0.00131193775};
  const float expected_p[3] = {0.9900000002f, 0.9873366299f, 0.9807555140f};
  for (int step = 0; step < 3; ++step) {
    const std::vector<float> g = {grads[step]};
    opt->Apply(0.01f, step + 1, g, p, state);
    EXPECT_NEAR(state[0], expected_m[step], 1e-7 * std::abs(expected_m[step]) + 1e-9);
    EXPECT_NEAR(state[1], expected_v[step], 1e-6 * expected_v[step]);
    EXPECT_NEAR(p[0], expected_p[step], 1e-6f);
  }
}

TEST(AdamTest, WeightDecayIsL2AddedToTheGradient) {
  // lr = 0.01, wd = 0.1, p0 = 1, g = 0.5 each step; g' = g + 0.1 p = 0.6, 0.599, 0.59800004:
  //   t=1: m = 0.06         v = 0.00036          p = 0.99
  //   t=2: m = 0.1139       v = 0.00071844       p = 0.98000044
  //   t=3: m = 0.16231000   v = 0.00107532661    p = 0.97000161
  // With constant g' Adam moves by about lr per step; AdamW would decay p by lr * wd * p more.
  auto opt = MakeOrFail(Adam(0.1));
  ASSERT_NE(opt, nullptr);
  std::vector<float> p = {1.0f};
  std::vector<float> state = {0.0f, 0.0f};
  const std::vector<float> g = {0.5f};
  const double expected_m[3] = {0.06, 0.1139000000017, 0.1623100043875};
  const double expected_v[3] = {0.00036, 0.00071844100002, 0.00107532661148};
  const float expected_p[3] = {0.9900000002f, 0.9800004386f, 0.9700016074f};
  for (int step = 0; step < 3; ++step) {
    opt->Apply(0.01f, step + 1, g, p, state);
    EXPECT_NEAR(state[0], expected_m[step], 1e-6 * expected_m[step]);
    EXPECT_NEAR(state[1], expected_v[step], 1e-6 * expected_v[step]);
    EXPECT_NEAR(p[0], expected_p[step], 1e-6f);
  }
}

TEST(AdamTest, StateIsSlotMajorAndResumable) {
  // Two parameters: m of both first, then v of both. Stopping after t = 2 and resuming from a
  // copy of (params, state, t) gives the same t = 3 update as running on.
  auto opt = MakeOrFail(Adam(0.0));
  ASSERT_NE(opt, nullptr);
  std::vector<float> p = {1.0f, -1.0f};
  std::vector<float> state(4, 0.0f);
  const std::vector<float> g = {0.5f, 2.0f};
  opt->Apply(0.01f, 1, g, p, state);
  EXPECT_NEAR(state[0], 0.05f, 1e-8f);     // m of parameter 0
  EXPECT_NEAR(state[1], 0.2f, 1e-8f);      // m of parameter 1
  EXPECT_NEAR(state[2], 0.00025f, 1e-9f);  // v of parameter 0
  EXPECT_NEAR(state[3], 0.004f, 1e-9f);    // v of parameter 1
  opt->Apply(0.01f, 2, g, p, state);
  std::vector<float> p_copy = p;
  std::vector<float> state_copy = state;
  opt->Apply(0.01f, 3, g, p, state);
  auto restored = MakeOrFail(Adam(0.0));
  ASSERT_NE(restored, nullptr);
  restored->Apply(0.01f, 3, g, p_copy, state_copy);
  EXPECT_EQ(p, p_copy);
  EXPECT_EQ(state, state_copy);
  // A wrong step count changes the update: t is not derivable from the state.
  std::vector<float> p_wrong = {1.0f, -1.0f};
  std::vector<float> state_wrong(4, 0.0f);
  opt->Apply(0.01f, 1, g, p_wrong, state_wrong);
  opt->Apply(0.01f, 1, g, p_wrong, state_wrong);
  opt->Apply(0.01f, 1, g, p_wrong, state_wrong);
  EXPECT_GT(std::abs(p_wrong[0] - p[0]), 1e-4f);
}

// Double-precision reference of one step of either adaptive kind.
void ReferenceStep(OptimizerKind kind, double lr, int t, double wd, double g, double* p, double* s0,
                   double* s1) {
  const double gd = g + wd * *p;
  if (kind == OptimizerKind::kAdagrad) {
    *s0 += gd * gd;
    *p -= lr * gd / (std::sqrt(*s0) + kAdagradDefaultEpsilon);
    return;
  }
  *s0 = 0.9 * *s0 + 0.1 * gd;
  *s1 = 0.999 * *s1 + 0.001 * gd * gd;
  const double m_hat = *s0 / (1 - std::pow(0.9, t));
  const double v_hat = *s1 / (1 - std::pow(0.999, t));
  *p -= lr * m_hat / (std::sqrt(v_hat) + 1e-8);
}

TEST(AdaptiveTest, MatchScalarReferenceOnOddLengths) {
  for (OptimizerKind kind : {OptimizerKind::kAdagrad, OptimizerKind::kAdam}) {
    SCOPED_TRACE(OptimizerKindName(kind));
    const double wd = 0.05;
    auto opt = MakeOrFail(kind == OptimizerKind::kAdam ? Adam(wd) : Adagrad(wd));
    ASSERT_NE(opt, nullptr);
    const int slots = opt->state_slots();
    SplitMix64 rng(7);
    for (int n : {1, 7, 37}) {
      std::vector<float> p(n), state(static_cast<size_t>(slots * n), 0.0f), g(n);
      for (float& x : p) x = rng.NextFloat() - 0.5f;
      std::vector<double> ref_p(p.begin(), p.end()), ref_s0(n, 0.0), ref_s1(n, 0.0);
      for (int t = 1; t <= 5; ++t) {
        for (float& x : g) x = rng.NextFloat() - 0.5f;
        opt->Apply(0.01f, t, g, p, state);
        for (int i = 0; i < n; ++i) {
          ReferenceStep(kind, 0.01, t, wd, g[i], &ref_p[i], &ref_s0[i], &ref_s1[i]);
          EXPECT_NEAR(p[i], ref_p[i], 2e-6) << "n " << n << " i " << i << " t " << t;
          EXPECT_NEAR(state[i], ref_s0[i], 1e-6) << "n " << n << " i " << i << " t " << t;
        }
      }
    }
  }
}

}  // namespace
}  // namespace ringtrain::optim
