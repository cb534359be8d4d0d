// FloatToHalf / HalfToFloat: exhaustive over halves, rounding at every midpoint, special values,
// and the fp16 codec's error bound and inf/NaN handling.
#include "ringtrain/compress/half.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ringtrain/common/random.h"
#include "ringtrain/compress/codec.h"
#include "test_util.h"

namespace ringtrain::compress {
namespace {

using testing::Bits;
using testing::MustDecode;
using testing::MustEncode;
using testing::Options;

bool IsHalfNaN(uint16_t h) { return (h & 0x7C00u) == 0x7C00u && (h & 0x03FFu) != 0; }

// Round-to-nearest-even onto the half grid, in double, for |x| < 65520 (an independent
// reference: the spacing is 2^(e-10) for the binade 2^e, e >= -14).
double ReferenceHalf(float x) {
  const double a = std::fabs(static_cast<double>(x));
  if (a == 0.0) return x;
  const int e = std::max(static_cast<int>(std::floor(std::log2(a))), -14);
  const double spacing = std::ldexp(1.0, e - 10);
  const double r = std::nearbyint(a / spacing) * spacing;  // default mode: ties to even
  return std::signbit(x) ? -r : r;
}

TEST(HalfTest, EveryHalfRoundTripsExactly) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const float f = HalfToFloat(half);
    const uint16_t back = FloatToHalf(f);
    if (IsHalfNaN(half)) {
      ASSERT_TRUE(std::isnan(f)) << h;
      ASSERT_EQ(back, half | 0x0200u) << h;  // same sign and payload, quiet
    } else {
      ASSERT_EQ(back, half) << h;
    }
  }
}

TEST(HalfTest, MidpointsRoundToEvenAndNeighboursToNearest) {
  // Every pair of adjacent finite non-negative halves (subnormal, normal, across binades).
  for (uint16_t h = 0; h < kHalfMax; ++h) {
    const float lo = HalfToFloat(h);
    const float hi = HalfToFloat(static_cast<uint16_t>(h + 1));
    const float mid = (lo + hi) / 2;  // exact: halves have 11 significant bits
    ASSERT_EQ(static_cast<double>(mid) * 2, static_cast<double>(lo) + hi);
    const uint16_t even = (h & 1u) == 0 ? h : static_cast<uint16_t>(h + 1);
    ASSERT_EQ(FloatToHalf(mid), even) << h;
    ASSERT_EQ(FloatToHalf(std::nextafter(mid, 0.0f)), h) << h;
    ASSERT_EQ(FloatToHalf(std::nextafter(mid, hi)), h + 1) << h;
    ASSERT_EQ(FloatToHalf(-mid), even | 0x8000u) << h;
  }
}

TEST(HalfTest, RandomFloatsMatchReferenceRounding) {
  SplitMix64 rng(7);
  for (int t = 0; t < 200000; ++t) {
    const float x = std::bit_cast<float>(static_cast<uint32_t>(rng.Next()));
    if (!std::isfinite(x) || std::fabs(x) >= 65520.0f) continue;
    ASSERT_EQ(static_cast<double>(HalfToFloat(FloatToHalf(x))), ReferenceHalf(x)) << x;
  }
}

TEST(HalfTest, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(FloatToHalf(0.0f), 0x0000);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalf(65504.0f), kHalfMax);
  EXPECT_EQ(FloatToHalf(65519.99f), kHalfMax);  // below the midpoint to 65536
  EXPECT_EQ(FloatToHalf(65520.0f), kHalfMax);   // would round to inf: saturates
  EXPECT_EQ(FloatToHalf(1e6f), kHalfMax);
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::max()), kHalfMax | 0x8000);
  EXPECT_EQ(FloatToHalf(inf), kHalfInfinity);
  EXPECT_EQ(FloatToHalf(-inf), kHalfInfinity | 0x8000);
  EXPECT_TRUE(IsHalfNaN(FloatToHalf(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::quiet_NaN()) & 0x8000, 0x8000);
  // A signalling NaN whose payload lies only in the low 13 bits stays a NaN.
  EXPECT_TRUE(IsHalfNaN(FloatToHalf(std::bit_cast<float>(0x7F800001u))));
  EXPECT_EQ(FloatToHalf(0x1.0p-14f), 0x0400);  // smallest normal
  EXPECT_EQ(FloatToHalf(0x1.0p-24f), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(0x1.0p-25f), 0x0000);  // tie between 0 and 2^-24: even (0)
  EXPECT_EQ(FloatToHalf(std::nextafter(0x1.0p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(FloatToHalf(0x1.ff8p-15f), 0x03FF);  // largest subnormal
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::denorm_min()), 0x8000);
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::min()), 0x0000);  // float's smallest normal
  EXPECT_EQ(HalfToFloat(0x0001), 0x1.0p-24f);
  EXPECT_EQ(HalfToFloat(0x7C00), inf);
  EXPECT_EQ(HalfToFloat(0xFC00), -inf);
  EXPECT_TRUE(std::signbit(HalfToFloat(0x8000)));
}

TEST(Fp16CodecTest, RelativeErrorAtMostTwoToMinusElevenInNormalRange) {
  SplitMix64 rng(11);
  std::vector<float> g(100000);
  for (float& x : g) {
    const float mantissa = 1.0f + rng.NextFloat();              // [1, 2)
    const int exponent = static_cast<int>(rng.Below(30)) - 14;  // [-14, 15]
    const float magnitude = std::min(std::ldexp(mantissa, exponent), 65504.0f);
    x = (rng.Next() & 1) != 0 ? -magnitude : magnitude;
  }
  const auto o = Options(CodecType::kFp16);
  const std::vector<uint8_t> bytes = MustEncode(o, g);
  ASSERT_EQ(bytes.size(), 2 * g.size());
  const std::vector<float> d = MustDecode(o, bytes, g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_LE(std::fabs(static_cast<double>(g[i]) - d[i]), std::ldexp(std::fabs(g[i]), -11))
        << g[i];
  }
}

TEST(Fp16CodecTest, ZerosDenormalsInfinitiesAndNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float denorm = std::numeric_limits<float>::denorm_min();
  const std::vector<float> g = {0.0f, -0.0f, denorm, -denorm, 0x1.0p-20f,
                                inf,  -inf,  nan,    1e6f,    -1e6f};
  const auto o = Options(CodecType::kFp16);
  const std::vector<float> d = MustDecode(o, MustEncode(o, g), g.size());
  EXPECT_EQ(Bits(d[0]), Bits(0.0f));
  EXPECT_EQ(Bits(d[1]), Bits(-0.0f));
  EXPECT_EQ(Bits(d[2]), Bits(0.0f));   // float denormals flush to zero ...
  EXPECT_EQ(Bits(d[3]), Bits(-0.0f));  // ... keeping the sign
  EXPECT_EQ(d[4], 0x1.0p-20f);         // a half subnormal, exact
  EXPECT_EQ(d[5], inf);
  EXPECT_EQ(d[6], -inf);
  EXPECT_TRUE(std::isnan(d[7]));
  EXPECT_EQ(d[8], 65504.0f);
  EXPECT_EQ(d[9], -65504.0f);

  // With error feedback: saturation leaves the excess in the residual; non-finite values are
  // sent as they are and leave no residual (an inf - inf would poison every later step).
  std::vector<float> residual(g.size(), 0.0f);
  const std::vector<float> d2 = MustDecode(o, MustEncode(o, g, residual), g.size());
  EXPECT_EQ(d2[5], inf);
  EXPECT_TRUE(std::isnan(d2[7]));
  EXPECT_EQ(residual[2], denorm);
  EXPECT_EQ(residual[5], 0.0f);
  EXPECT_EQ(residual[6], 0.0f);
  EXPECT_EQ(residual[7], 0.0f);
  EXPECT_EQ(residual[8], 1e6f - 65504.0f);
  EXPECT_EQ(residual[9], -1e6f + 65504.0f);
}

// The fp16 codec encodes 8 elements at a time with the CPU's F16C instruction where it has
// one: every float class (random bit patterns, so NaNs with payloads, infinities, denormals,
// values beyond the half range, midpoints) must give FloatToHalf's bits, in every lane and in
// the scalar tail.
TEST(HalfTest, CodecEncodingEqualsFloatToHalfBitForBit) {
  SplitMix64 rng(11);
  std::vector<float> v;
  for (int t = 0; t < 400000; ++t)
    v.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng.Next())));
  const float inf = std::numeric_limits<float>::infinity();
  for (float x :
       {0.0f, -0.0f, inf, -inf, 65504.0f, 65519.99f, 65520.0f, -65520.0f, 1e30f, -1e30f, 0x1.0p-25f,
        0x1.0p-24f, 0x1.8p-25f, std::numeric_limits<float>::denorm_min(),
        std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::signaling_NaN(),
        -std::numeric_limits<float>::quiet_NaN()}) {
    v.push_back(x);
  }
  for (uint32_t h = 0; h < 0x7C00; h += 7) {  // midpoints between adjacent halves
    v.push_back(
        (HalfToFloat(static_cast<uint16_t>(h)) + HalfToFloat(static_cast<uint16_t>(h + 1))) / 2);
  }
  v.resize(v.size() / 8 * 8 + 5);  // leave a scalar tail
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(Encode({CodecType::kFp16}, v, {}, &bytes).ok());
  ASSERT_EQ(bytes.size(), 2 * v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t got = static_cast<uint16_t>(bytes[2 * i] | bytes[2 * i + 1] << 8);
    ASSERT_EQ(got, FloatToHalf(v[i])) << "element " << i << " = " << v[i] << " (bits 0x" << std::hex
                                      << std::bit_cast<uint32_t>(v[i]) << ")";
  }
}

}  // namespace
}  // namespace ringtrain::compress
