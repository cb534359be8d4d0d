// SGD, momentum, Nesterov and weight decay against hand-computed torch.optim.SGD updates, the
// state slot counts of every kind, and config validation. Adagrad and Adam: adaptive_test.cc.
#include "ringtrain/optim/optimizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "optimizer_steps.h"
#include "ringtrain/model/init.h"

namespace ringtrain::optim {
namespace {

// One step of a double-precision reference of a one-slot optimizer on one element: updates
// the parameter *p and its state *v from the gradient g.
using ReferenceStep = std::function<void(double g, double* p, double* v)>;

// Runs `opt` for 4 steps at rate `lr` on random parameters and gradients (from `seed`) of each
// of `lengths`, and expects parameters and state within 1e-6 of `reference` after every step.
// Lengths that are not multiples of the SIMD width exercise Eigen's vector tails.
// REQUIRES: opt.state_slots() == 1.
void ExpectMatchesReference(const Optimizer& opt, float lr, uint64_t seed,
                            std::initializer_list<int> lengths, const ReferenceStep& reference) {
  SplitMix64 rng(seed);
  for (int n : lengths) {
    std::vector<float> p(n), v(n, 0.0f), g(n);
    for (float& x : p) x = rng.NextFloat() - 0.5f;
    std::vector<double> ref_p(p.begin(), p.end()), ref_v(n, 0.0);
    for (int step = 0; step < 4; ++step) {
      for (float& x : g) x = rng.NextFloat() - 0.5f;
      opt.Apply(lr, step + 1, g, p, v);
      for (int i = 0; i < n; ++i) {
        reference(g[i], &ref_p[i], &ref_v[i]);
        EXPECT_NEAR(p[i], ref_p[i], 1e-6) << "n " << n << " i " << i;
        EXPECT_NEAR(v[i], ref_v[i], 1e-6) << "n " << n << " i " << i;
      }
    }
  }
}

TEST(OptimizerTest, PlainSgdThreeSteps) {
  auto opt = MakeOrFail({OptimizerKind::kSgd, 0.9, 0.0});
  ASSERT_NE(opt, nullptr);
  EXPECT_EQ(opt->state_slots(), 0);
  std::vector<float> p = {1.0f, -2.0f};
  const std::vector<float> g = {0.5f, 0.25f};
  // p -= 0.1 * g each step: [0.95, -2.025], [0.9, -2.05], [0.85, -2.075].
  const float expected[3][2] = {{0.95f, -2.025f}, {0.9f, -2.05f}, {0.85f, -2.075f}};
  for (const auto& e : expected) {
    opt->Apply(0.1f, 1, g, p, {});
    EXPECT_FLOAT_EQ(p[0], e[0]);
    EXPECT_FLOAT_EQ(p[1], e[1]);
  }
}

TEST(OptimizerTest, MomentumThreeSteps) {
  auto opt = MakeOrFail({OptimizerKind::kMomentum, 0.9, 0.0});
  ASSERT_NE(opt, nullptr);
  EXPECT_EQ(opt->state_slots(), 1);
  std::vector<float> p = {0.0f, 1.0f};
  std::vector<float> v = {0.0f, 0.0f};
  const std::vector<float> g = {1.0f, -1.0f};
  // v: 1, 1.9, 2.71 (first step v = g); p -= 0.1 v: -0.1, -0.29, -0.561.
  const float expected_v[3] = {1.0f, 1.9f, 2.71f};
  const float expected_p[3] = {-0.1f, -0.29f, -0.561f};
  for (int step = 0; step < 3; ++step) {
    opt->Apply(0.1f, step + 1, g, p, v);
    EXPECT_FLOAT_EQ(v[0], expected_v[step]);
    EXPECT_FLOAT_EQ(v[1], -expected_v[step]);
    EXPECT_FLOAT_EQ(p[0], expected_p[step]);
    EXPECT_FLOAT_EQ(p[1], 1.0f - expected_p[step]);
  }
}

TEST(OptimizerTest, SgdWeightDecayThreeSteps) {
  // g = 0, wd = 0.1, lr = 0.5: p *= (1 - 0.05) per step: 1.9, 1.805, 1.71475.
  auto opt = MakeOrFail({OptimizerKind::kSgd, 0.0, 0.1});
  ASSERT_NE(opt, nullptr);
  std::vector<float> p = {2.0f};
  const std::vector<float> g = {0.0f};
  const float expected[3] = {1.9f, 1.805f, 1.71475f};
  for (float e : expected) {
    opt->Apply(0.5f, 1, g, p, {});
    EXPECT_FLOAT_EQ(p[0], e);
  }
}

TEST(OptimizerTest, MomentumWithWeightDecayThreeSteps) {
  // mu = 0.9, wd = 0.01, lr = 0.1, p0 = 1, g = 0.5 each step:
  //   g' = 0.51        v = 0.51          p = 0.949
  //   g' = 0.50949     v = 0.96849       p = 0.852151
  //   g' = 0.50852151  v = 1.38016251    p = 0.714134749
  auto opt = MakeOrFail({OptimizerKind::kMomentum, 0.9, 0.01});
  ASSERT_NE(opt, nullptr);
  ExpectThreeSteps(
      *opt, 0.1f, 1.0f, 0.5f,
      {.state = {0.51f, 0.96849f, 1.38016251f}, .param = {0.949f, 0.852151f, 0.714134749f}});
}

TEST(OptimizerTest, MatchesScalarReferenceOnOddLengths) {
  auto opt = MakeOrFail({OptimizerKind::kMomentum, 0.8, 0.05});
  ASSERT_NE(opt, nullptr);
  ExpectMatchesReference(*opt, 0.05f, /*seed=*/5, {1, 7, 37}, [](double g, double* p, double* v) {
    *v = 0.8 * *v + (g + 0.05 * *p);
    *p -= 0.05 * *v;
  });
}

TEST(OptimizerTest, NesterovThreeSteps) {
  // mu = 0.9, lr = 0.1, g = 1: v = 1, 1.9, 2.71 as for momentum, but the step is
  // lr * (g + mu * v) = 0.19, 0.271, 0.3439: p = -0.19, -0.461, -0.8049.
  auto opt = MakeOrFail({OptimizerKind::kNesterov, 0.9, 0.0});
  ASSERT_NE(opt, nullptr);
  ExpectThreeSteps(*opt, 0.1f, 0.0f, 1.0f,
                   {.state = {1.0f, 1.9f, 2.71f}, .param = {-0.19f, -0.461f, -0.8049f}});
}

TEST(OptimizerTest, NesterovWithWeightDecayThreeSteps) {
  // mu = 0.9, wd = 0.01, lr = 0.1, p0 = 1, g = 0.5 each step; p -= lr * (g' + mu * v):
  //   g' = 0.51           v = 0.51            p = 1 - 0.1 * 0.969              = 0.9031
  //   g' = 0.509031       v = 0.968031        p = 0.9031 - 0.1 * 1.38025890    = 0.76507411
  //   g' = 0.50765074110  v = 1.37887864110   p = 0.76507411 - 0.1 * 1.7486415 = 0.590209958
  auto opt = MakeOrFail({OptimizerKind::kNesterov, 0.9, 0.01});
  ASSERT_NE(opt, nullptr);
  ExpectThreeSteps(*opt, 0.1f, 1.0f, 0.5f,
                   {.state = {0.51f, 0.968031f, 1.3788786411f},
                    .param = {0.9031f, 0.76507411f, 0.590209958191f}});
}

TEST(OptimizerTest, NesterovMatchesScalarReferenceOnOddLengths) {
  auto opt = MakeOrFail({OptimizerKind::kNesterov, 0.7, 0.02});
  ASSERT_NE(opt, nullptr);
  ExpectMatchesReference(*opt, 0.05f, /*seed=*/11, {1, 9, 33}, [](double g, double* p, double* v) {
    const double gd = g + 0.02 * *p;
    *v = 0.7 * *v + gd;
    *p -= 0.05 * (gd + 0.7 * *v);
  });
}

TEST(OptimizerTest, StateSlotsAndNamesOfEveryKind) {
  const struct {
    OptimizerKind kind;
    int slots;
    const char* name;
  } kinds[] = {{OptimizerKind::kSgd, 0, "sgd"},
               {OptimizerKind::kMomentum, 1, "momentum"},
               {OptimizerKind::kNesterov, 1, "nesterov"},
               {OptimizerKind::kAdagrad, 1, "adagrad"},
               {OptimizerKind::kAdam, 2, "adam"}};
  for (const auto& k : kinds) {
    SCOPED_TRACE(k.name);
    OptimizerConfig config;
    config.kind = k.kind;
    auto opt = MakeOrFail(config);
    ASSERT_NE(opt, nullptr);
    EXPECT_EQ(opt->state_slots(), k.slots);
    EXPECT_STREQ(OptimizerKindName(k.kind), k.name);
  }
}

// ApplyScaled(s, g) is Apply(s * g) for every kind, with and without weight decay: the sync
// round's mean, scaled as the optimizer reads the sum, updates as the mean written first did.
// Bit for bit on x86 (no FMA contraction there: -ffp-contract=off, or no FMA at all), so that a
// resumed or replayed round computes what the first did; elsewhere within a float's rounding.
// 4 steps of 37 elements (a SIMD tail).
TEST(OptimizerTest, ApplyScaledIsApplyOfTheScaledGradientForEveryKind) {
  const OptimizerKind kinds[] = {OptimizerKind::kSgd,      OptimizerKind::kMomentum,
                                 OptimizerKind::kNesterov, OptimizerKind::kAdagrad,
                                 OptimizerKind::kAdam,     OptimizerKind::kFtrl};
  for (OptimizerKind kind : kinds) {
    for (double decay : {0.0, 0.01}) {
      SCOPED_TRACE(std::string(OptimizerKindName(kind)) + " weight decay " + std::to_string(decay));
      OptimizerConfig config;
      config.kind = kind;
      config.weight_decay = decay;
      auto opt = MakeOrFail(config);
      ASSERT_NE(opt, nullptr);
      constexpr size_t n = 37;
      const size_t slots = static_cast<size_t>(opt->state_slots());
      SplitMix64 rng(7);
      std::vector<float> scaled_p(n), scaled_s(slots * n, 0.0f);
      for (float& x : scaled_p) x = rng.NextFloat() - 0.5f;
      std::vector<float> ref_p = scaled_p, ref_s = scaled_s;
      std::vector<float> sum(n), mean(n);
      const float scale = 1.0f / 6.0f;  // not a power of two: the product rounds
      for (int step = 1; step <= 4; ++step) {
        for (size_t i = 0; i < n; ++i) {
          sum[i] = 6.0f * (rng.NextFloat() - 0.5f);
          mean[i] = sum[i] * scale;
        }
        opt->ApplyScaled(0.1f, step, scale, sum, scaled_p, scaled_s);
        opt->Apply(0.1f, step, mean, ref_p, ref_s);
#if defined(__x86_64__)
        EXPECT_EQ(scaled_p, ref_p) << "step " << step;
        EXPECT_EQ(scaled_s, ref_s) << "step " << step;
#else
        for (size_t i = 0; i < n; ++i) {
          EXPECT_NEAR(scaled_p[i], ref_p[i], 1e-6f * (1.0f + std::fabs(ref_p[i])))
              << "step " << step << " i " << i;
        }
        for (size_t i = 0; i < slots * n; ++i) {
          EXPECT_NEAR(scaled_s[i], ref_s[i], 1e-6f * (1.0f + std::fabs(ref_s[i])))
              << "step " << step << " state " << i;
        }
#endif
      }
      // And the sum unscaled is not the mean: the scale is applied, not ignored.
      std::vector<float> unscaled_p = ref_p, unscaled_s = ref_s;
      opt->ApplyScaled(0.1f, 5, 1.0f, sum, unscaled_p, unscaled_s);
      opt->ApplyScaled(0.1f, 5, scale, sum, ref_p, ref_s);
      EXPECT_NE(unscaled_p, ref_p);
    }
  }
}

// The floats' bits: == on floats takes -0 for +0.
std::vector<uint32_t> Bits(const std::vector<float>& v) {
  std::vector<uint32_t> out(v.size());
  if (!v.empty()) std::memcpy(out.data(), v.data(), v.size() * sizeof(float));
  return out;
}

// ApplySum(s, base, w, g) is ApplyScaled(s, base + w * g) for every kind, with and without
// weight decay, and with an empty base ApplyScaled(s, 0 + w * g): a sync round's last push
// applied from its frame updates as adding it to the round's sum first did. Bit for bit on x86,
// as above; the state too. A -0 in the gradient is in the data (0 + w * -0 is +0).
TEST(OptimizerTest, ApplySumIsApplyScaledOfTheSumWrittenFirstForEveryKind) {
  const OptimizerKind kinds[] = {OptimizerKind::kSgd,      OptimizerKind::kMomentum,
                                 OptimizerKind::kNesterov, OptimizerKind::kAdagrad,
                                 OptimizerKind::kAdam,     OptimizerKind::kFtrl};
  for (OptimizerKind kind : kinds) {
    for (double decay : {0.0, 0.01}) {
      for (bool with_base : {false, true}) {
        SCOPED_TRACE(std::string(OptimizerKindName(kind)) + " weight decay " +
                     std::to_string(decay) + (with_base ? " with a sum" : " from zeros"));
        OptimizerConfig config;
        config.kind = kind;
        config.weight_decay = decay;
        auto opt = MakeOrFail(config);
        ASSERT_NE(opt, nullptr);
        constexpr size_t n = 37;
        const size_t slots = static_cast<size_t>(opt->state_slots());
        SplitMix64 rng(11);
        std::vector<float> fused_p(n), fused_s(slots * n, 0.0f);
        for (float& x : fused_p) x = rng.NextFloat() - 0.5f;
        fused_p[5] = -0.0f;  // where the gradient is -0 too: -0 - (+0) is -0, -0 - (-0) is +0
        std::vector<float> ref_p = fused_p, ref_s = fused_s;
        std::vector<float> base(n), grad(n), sum(n);
        const float scale = 1.0f / 6.0f;
        const float weight = 3.0f;  // the push's samples
        for (int step = 1; step <= 4; ++step) {
          for (size_t i = 0; i < n; ++i) {
            base[i] = 3.0f * (rng.NextFloat() - 0.5f);
            grad[i] = rng.NextFloat() - 0.5f;
          }
          grad[5] = -0.0f;
          for (size_t i = 0; i < n; ++i) {
            sum[i] = with_base ? base[i] + weight * grad[i] : 0.0f + weight * grad[i];
          }
          opt->ApplySum(0.1f, step, scale,
                        with_base ? std::span<const float>(base) : std::span<const float>(), weight,
                        grad, fused_p, fused_s);
          opt->ApplyScaled(0.1f, step, scale, sum, ref_p, ref_s);
#if defined(__x86_64__)
          EXPECT_EQ(Bits(fused_p), Bits(ref_p)) << "step " << step;
          EXPECT_EQ(Bits(fused_s), Bits(ref_s)) << "step " << step;
#else
          for (size_t i = 0; i < n; ++i) {
            EXPECT_NEAR(fused_p[i], ref_p[i], 1e-6f * (1.0f + std::fabs(ref_p[i])))
                << "step " << step << " i " << i;
          }
#endif
        }
        // The weight and the base are read, not ignored.
        std::vector<float> other_p = ref_p, other_s = ref_s;
        opt->ApplySum(0.1f, 5, scale, {}, 1.0f, grad, other_p, other_s);
        opt->ApplySum(0.1f, 5, scale, {}, weight, grad, ref_p, ref_s);
        EXPECT_NE(other_p, ref_p);
        if (with_base) {
          other_p = fused_p;
          other_s = fused_s;
          opt->ApplySum(0.1f, 5, scale, base, weight, grad, other_p, other_s);
          opt->ApplySum(0.1f, 5, scale, {}, weight, grad, fused_p, fused_s);
          EXPECT_NE(other_p, fused_p);
        }
      }
    }
  }
}

// Every kind updates the same wherever its buffers start. Eigen's default float packet sqrt
// (EIGEN_FAST_MATH) was an approximation and its scalar one exact, and a loop takes scalars up
// to the first packet-aligned element of its destination: Adagrad's and Adam's updates depended
// on the buffers' addresses (and were not PyTorch's). The build sets EIGEN_FAST_MATH=0.
TEST(OptimizerTest, AnUpdateIsTheSameWhereverTheBuffersStart) {
  const OptimizerKind kinds[] = {OptimizerKind::kSgd,      OptimizerKind::kMomentum,
                                 OptimizerKind::kNesterov, OptimizerKind::kAdagrad,
                                 OptimizerKind::kAdam,     OptimizerKind::kFtrl};
  constexpr size_t n = 37;
  constexpr size_t kShifts = 16;  // floats: every start within 64 bytes
  for (OptimizerKind kind : kinds) {
    SCOPED_TRACE(OptimizerKindName(kind));
    OptimizerConfig config;
    config.kind = kind;
    auto opt = MakeOrFail(config);
    ASSERT_NE(opt, nullptr);
    const size_t slots = static_cast<size_t>(opt->state_slots());
    SplitMix64 rng(3);
    std::vector<float> p0(n), grad(n);
    for (float& x : p0) x = rng.NextFloat() - 0.5f;
    for (float& x : grad) x = rng.NextFloat() - 0.5f;
    std::vector<float> first_p, first_s;
    for (size_t shift = 0; shift < kShifts; ++shift) {
      std::vector<float> p_store(n + kShifts + 16), s_store(slots * n + kShifts + 16, 0.0f);
      // The same offset from a 64-byte boundary for parameters and state.
      const auto at = [&](std::vector<float>& v) {
        const auto addr = reinterpret_cast<uintptr_t>(v.data());
        return v.data() + (64 - addr % 64) % 64 / sizeof(float) + shift;
      };
      const std::span<float> p(at(p_store), n), s(at(s_store), slots * n);
      std::copy(p0.begin(), p0.end(), p.begin());
      for (int step = 1; step <= 3; ++step) opt->Apply(0.1f, step, grad, p, s);
      if (shift == 0) {
        first_p.assign(p.begin(), p.end());
        first_s.assign(s.begin(), s.end());
        continue;
      }
      EXPECT_EQ(Bits(std::vector<float>(p.begin(), p.end())), Bits(first_p))
          << "starting " << shift << " floats on";
      EXPECT_EQ(Bits(std::vector<float>(s.begin(), s.end())), Bits(first_s))
          << "starting " << shift << " floats on";
    }
  }
}

TEST(OptimizerTest, EmptySpansAreANoOp) {
  auto opt = MakeOrFail({OptimizerKind::kMomentum, 0.9, 0.1});
  ASSERT_NE(opt, nullptr);
  opt->Apply(0.1f, 1, {}, {}, {});
}

void ExpectInvalid(const OptimizerConfig& config, const std::string& message) {
  auto made = MakeOptimizer(config);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(made.status().message(), message);
}

TEST(OptimizerTest, RejectsBadConfigs) {
  ExpectInvalid({OptimizerKind::kMomentum, 1.0, 0.0}, "momentum: must be in [0, 1) (got 1)");
  ExpectInvalid({OptimizerKind::kMomentum, -0.5, 0.0}, "momentum: must be in [0, 1) (got -0.5)");
  ExpectInvalid({OptimizerKind::kSgd, 0.9, -0.1},
                "weight_decay: must be >= 0 and finite as a float (got -0.1)");
  ExpectInvalid({OptimizerKind::kSgd, 0.9, std::numeric_limits<double>::quiet_NaN()},
                "weight_decay: must be >= 0 and finite as a float (got nan)");
  ExpectInvalid({OptimizerKind::kSgd, 0.9, 1e300},
                "weight_decay: must be >= 0 and finite as a float (got 1e+300)");
  // A double just below 1 that rounds to 1.0f as a float.
  ExpectInvalid({OptimizerKind::kMomentum, 0.99999999, 0.0}, "momentum: must be in [0, 1) (got 1)");
  ExpectInvalid({OptimizerKind::kMomentum, std::numeric_limits<double>::quiet_NaN(), 0.0},
                "momentum: must be in [0, 1) (got nan)");
  // Plain SGD ignores the momentum field.
  EXPECT_TRUE(MakeOptimizer({OptimizerKind::kSgd, 5.0, 0.0}).ok());
  EXPECT_TRUE(MakeOptimizer({OptimizerKind::kMomentum, 0.0, 0.0}).ok());
}

TEST(OptimizerTest, RejectsNesterovWithoutMomentum) {
  // As torch.optim.SGD: "Nesterov momentum requires a momentum and zero dampening".
  ExpectInvalid({OptimizerKind::kNesterov, 0.0, 0.0},
                "momentum: must be in (0, 1) for nesterov (got 0)");
  ExpectInvalid({OptimizerKind::kNesterov, 1.0, 0.0},
                "momentum: must be in (0, 1) for nesterov (got 1)");
  ExpectInvalid({OptimizerKind::kNesterov, 1e-50, 0.0},
                "momentum: must be in (0, 1) for nesterov (got 1e-50)");
  EXPECT_TRUE(MakeOptimizer({OptimizerKind::kNesterov, 1e-6, 0.0}).ok());
}

TEST(OptimizerTest, RejectsBadAdaptiveConfigs) {
  OptimizerConfig adam;
  adam.kind = OptimizerKind::kAdam;
  EXPECT_TRUE(ValidateOptimizerConfig(adam).ok());
  adam.beta1 = 1.0;
  ExpectInvalid(adam, "beta1: must be in [0, 1) (got 1)");
  adam.beta1 = -0.1;
  ExpectInvalid(adam, "beta1: must be in [0, 1) (got -0.1)");
  adam.beta1 = 0.0;
  adam.beta2 = std::numeric_limits<double>::quiet_NaN();
  ExpectInvalid(adam, "beta2: must be in [0, 1) (got nan)");
  adam.beta2 = 0.999999999;  // 1.0f as a float
  ExpectInvalid(adam, "beta2: must be in [0, 1) (got 1)");
  adam.beta2 = 0.0;
  adam.epsilon = 0.0;
  ExpectInvalid(adam, "epsilon: must be in (0, 1] and nonzero as a float (got 0)");
  adam.epsilon = 1.5;
  ExpectInvalid(adam, "epsilon: must be in (0, 1] and nonzero as a float (got 1.5)");
  adam.epsilon = 1e-60;  // 0 as a float
  ExpectInvalid(adam, "epsilon: must be in (0, 1] and nonzero as a float (got 1e-60)");
  adam.epsilon = 1.0;
  EXPECT_TRUE(ValidateOptimizerConfig(adam).ok());
  adam.weight_decay = -1.0;
  ExpectInvalid(adam, "weight_decay: must be >= 0 and finite as a float (got -1)");

  OptimizerConfig adagrad;
  adagrad.kind = OptimizerKind::kAdagrad;
  adagrad.epsilon = kAdagradDefaultEpsilon;
  adagrad.beta1 = 7.0;  // Adam's fields are ignored
  adagrad.momentum = 7.0;
  EXPECT_TRUE(ValidateOptimizerConfig(adagrad).ok());
  adagrad.epsilon = -1e-10;
  ExpectInvalid(adagrad, "epsilon: must be in (0, 1] and nonzero as a float (got -1e-10)");

  // Momentum kinds ignore epsilon and the betas.
  EXPECT_TRUE(MakeOptimizer({OptimizerKind::kMomentum, 0.9, 0.0, 5.0, 5.0, -1.0}).ok());
  ExpectInvalid({static_cast<OptimizerKind>(42), 0.9, 0.0}, "kind: unknown optimizer kind 42");
}

}  // namespace
}  // namespace ringtrain::optim
