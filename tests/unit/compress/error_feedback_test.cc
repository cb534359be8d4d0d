// Error feedback: the residual after Encode is exactly (grad + residual) - decoded as computed in
// float, and over many steps the decoded gradients sum to the true ones minus the residual.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ringtrain/compress/codec.h"
#include "test_util.h"

namespace ringtrain::compress {
namespace {

using testing::AllCodecs;
using testing::Bits;
using testing::Describe;
using testing::Gaussian;
using testing::MustDecode;
using testing::MustEncode;
using testing::Options;

// Sterbenz' lemma: v - d is exact in float when d/2 <= v <= 2d (same sign), or d == 0.
bool SubtractionIsExact(float v, float d) {
  if (d == 0.0f) return true;
  const float a = std::fabs(v);
  const float b = std::fabs(d);
  return std::signbit(v) == std::signbit(d) && b / 2 <= a && a <= 2 * b;
}

void CheckOneStep(const CodecOptions& o, const std::vector<float>& g, std::vector<float> r) {
  SCOPED_TRACE(Describe(o));
  const std::vector<float> r0 = r;
  const std::vector<float> d = MustDecode(o, MustEncode(o, g, r), g.size());
  size_t exact = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const float v = g[i] + r0[i];
    // The definition, computed in float as the implementation does.
    ASSERT_EQ(Bits(r[i]), Bits(v - d[i])) << "element " << i;
    if (SubtractionIsExact(v, d[i])) {
      ASSERT_EQ(Bits(d[i] + r[i]), Bits(v)) << "element " << i << " v=" << v << " d=" << d[i];
      ++exact;
    } else {
      // The only loss: one rounding of v - d (half an ulp of the new residual).
      const double err = std::fabs(static_cast<double>(d[i]) + r[i] - v);
      ASSERT_LE(err, 0.5 * (std::nextafter(std::fabs(r[i]), INFINITY) - std::fabs(r[i])));
    }
  }
  // Every codec but onebit sends values close enough to v that the identity is bit-exact
  // everywhere; onebit's +-mean|v| is far from most v.
  if (o.type != CodecType::kOneBit) {
    EXPECT_EQ(exact, g.size());
  }
}

TEST(ErrorFeedbackTest, ResidualIsSumMinusDecodedForEveryCodec) {
  for (const CodecOptions& o : AllCodecs()) {
    for (uint64_t seed : {1, 2, 3}) {
      CheckOneStep(o, Gaussian(seed, 5000), Gaussian(seed + 100, 5000, 0.3f));
    }
  }
}

TEST(ErrorFeedbackTest, ExactAcrossMagnitudesAndSaturation) {
  // Values spanning many binades in one block, and fp16 saturation up to 2 * 65504.
  std::vector<float> g;
  for (int e = -30; e <= 16; ++e) {
    g.push_back(std::ldexp(1.37f, e));
    g.push_back(-std::ldexp(1.91f, e));
  }
  g.push_back(100000.0f);
  g.push_back(-131008.0f);
  for (const CodecOptions& o : AllCodecs()) {
    CheckOneStep(o, g, std::vector<float>(g.size(), 0.0f));
  }
}

// The largest |sum_true - sum_other| relative to the largest |sum_true|.
double RelativeError(const std::vector<double>& sum_true, const std::vector<double>& other) {
  double max_error = 0, max_sum = 0;
  for (size_t i = 0; i < sum_true.size(); ++i) {
    max_error = std::max(max_error, std::fabs(sum_true[i] - other[i]));
    max_sum = std::max(max_sum, std::fabs(sum_true[i]));
  }
  return max_error / max_sum;
}

TEST(ErrorFeedbackTest, RunningSumOfDecodedConvergesToRunningSumOfTrue) {
  const size_t n = 1000;
  const int steps = 1000;
  const int early = 100;
  const std::vector<float> bias = Gaussian(77, n, 0.05f);  // a persistent signal under noise
  for (const CodecOptions& o : {Options(CodecType::kFp16), Options(CodecType::kInt8, 0.01, 64),
                                Options(CodecType::kOneBit), Options(CodecType::kTopK, 0.05)}) {
    SCOPED_TRACE(Describe(o));
    std::vector<float> residual(n, 0.0f);
    std::vector<double> sum_true(n, 0.0), sum_decoded(n, 0.0), sum_plain(n, 0.0);
    double early_error = 0;
    for (int t = 1; t <= steps; ++t) {
      std::vector<float> g = Gaussian(1000 + t, n, 0.1f);
      for (size_t i = 0; i < n; ++i) g[i] += bias[i];
      const std::vector<float> d = MustDecode(o, MustEncode(o, g, residual), n);
      const std::vector<float> plain = MustDecode(o, MustEncode(o, g), n);  // no feedback
      for (size_t i = 0; i < n; ++i) {
        sum_true[i] += g[i];
        sum_decoded[i] += d[i];
        sum_plain[i] += plain[i];
        // sum_true - sum_decoded == residual, up to the float rounding of each g + r: the
        // error of the running sum is bounded by the residual.
        ASSERT_NEAR(sum_true[i] - sum_decoded[i], residual[i], 1e-5 * t)
            << "step " << t << " element " << i;
      }
      if (t == early) early_error = RelativeError(sum_true, sum_decoded);
    }
    // The relative error of the running sum shrinks with the steps (measured: fp16 and int8
    // below 1e-4, topk 0.005, onebit 0.15 after 100 steps and 0.054 after 1000), while without
    // feedback the codec's bias accumulates (onebit 0.49, topk 0.53 after 1000 steps).
    const double final_error = RelativeError(sum_true, sum_decoded);
    EXPECT_LT(final_error, 0.1);
    EXPECT_LT(final_error, early_error / 2);
    if (o.type != CodecType::kFp16) {
      EXPECT_LT(final_error, RelativeError(sum_true, sum_plain) / 4);
    }
  }
}

}  // namespace
}  // namespace ringtrain::compress
