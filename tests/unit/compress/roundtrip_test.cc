// Round trips of int8, onebit and topk on seeded random data, all-zero and tiny inputs; codec
// names and option validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ringtrain/compress/codec.h"
#include "test_util.h"

namespace ringtrain::compress {
namespace {

using testing::AllCodecs;
using testing::Bits;
using testing::Describe;
using testing::FloatAt;
using testing::Gaussian;
using testing::MustDecode;
using testing::MustEncode;
using testing::Options;

TEST(CodecNameTest, NamesAndParsing) {
  EXPECT_STREQ(CodecName(CodecType::kNone), "none");
  EXPECT_STREQ(CodecName(CodecType::kFp16), "fp16");
  EXPECT_STREQ(CodecName(CodecType::kInt8), "int8");
  EXPECT_STREQ(CodecName(CodecType::kOneBit), "onebit");
  EXPECT_STREQ(CodecName(CodecType::kTopK), "topk");
  EXPECT_STREQ(CodecName(static_cast<CodecType>(99)), "unknown");
  for (CodecType t : {CodecType::kNone, CodecType::kFp16, CodecType::kInt8, CodecType::kOneBit,
                      CodecType::kTopK}) {
    auto parsed = ParseCodecName(CodecName(t));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, t);
  }
  auto bad = ParseCodecName("int4");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "unknown codec \"int4\" (expected one of none, fp16, int8, onebit, topk)");
}

TEST(CodecOptionsTest, InvalidOptionsAreInvalidArgument) {
  const std::vector<float> g(10, 1.0f);
  std::vector<uint8_t> out;
  for (double ratio : {0.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    const Status s = Encode(Options(CodecType::kTopK, ratio), g, {}, &out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << ratio;
    EXPECT_NE(s.message().find("ratio: must be in (0, 1]"), std::string::npos) << s.message();
  }
  for (int block : {0, -1, kMaxBlock + 1}) {
    for (CodecType t : {CodecType::kInt8, CodecType::kOneBit}) {
      const Status s = Encode(Options(t, 0.01, block), g, {}, &out);
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << block;
      EXPECT_NE(s.message().find("block: must be in [1, "), std::string::npos) << s.message();
    }
  }
  EXPECT_EQ(Encode(Options(static_cast<CodecType>(99)), g, {}, &out).code(),
            StatusCode::kInvalidArgument);
  // Fields a codec does not use are not checked.
  EXPECT_TRUE(ValidateOptions(Options(CodecType::kFp16, 0.0, 0)).ok());
  EXPECT_TRUE(out.empty());
}

TEST(CodecOptionsTest, ResidualOfTheWrongSizeIsInvalidArgument) {
  const std::vector<float> g(10, 1.0f);
  std::vector<float> residual(9, 0.0f);
  std::vector<uint8_t> out;
  const Status s = Encode(Options(CodecType::kInt8), g, residual, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "residual: has 9 elements; expected 0 (no error feedback) or 10");
}

TEST(Int8Test, ErrorAtMostHalfAScalePerElement) {
  for (int block : {256, 37, 1}) {
    const auto o = Options(CodecType::kInt8, 0.01, block);
    const std::vector<float> g = Gaussian(21, 1000, 3.0f);
    const std::vector<uint8_t> bytes = MustEncode(o, g);
    const std::vector<float> d = MustDecode(o, bytes, g.size());
    const size_t nb = (g.size() + block - 1) / block;
    for (size_t b = 0; b < nb; ++b) {
      const size_t lo = b * block;
      const size_t hi = std::min(g.size(), lo + block);
      float max_abs = 0.0f;
      for (size_t i = lo; i < hi; ++i) max_abs = std::max(max_abs, std::fabs(g[i]));
      const float scale = FloatAt(bytes, 4 * b);
      ASSERT_EQ(scale, max_abs / 127.0f) << "block " << b;
      for (size_t i = lo; i < hi; ++i) {
        const auto q = static_cast<int8_t>(bytes[4 * nb + i]);
        ASSERT_GE(q, -127);
        ASSERT_EQ(d[i], static_cast<float>(q) * scale);
        // scale / 2 plus the float rounding of the scale and of q * scale.
        ASSERT_LE(std::fabs(g[i] - d[i]), 0.5f * scale + 4e-7f * max_abs) << "element " << i;
        if (std::fabs(g[i]) == max_abs) {
          ASSERT_EQ(std::abs(q), 127);
        }
      }
    }
  }
}

TEST(Int8Test, LargestFloatsDecodeToFiniteValues) {
  const float max = std::numeric_limits<float>::max();
  const auto o = Options(CodecType::kInt8);
  const std::vector<float> d = MustDecode(o, MustEncode(o, std::vector<float>{max, -max, 1}), 3);
  EXPECT_TRUE(std::isfinite(d[0]));
  EXPECT_EQ(d[0], 127.0f * kInt8MaxScale);
  EXPECT_EQ(d[1], -127.0f * kInt8MaxScale);
  EXPECT_EQ(d[2], 0.0f);
}

TEST(OneBitTest, DecodesToPlusOrMinusTheMeanMagnitudeOfTheBlock) {
  for (int block : {256, 37, 1}) {
    const auto o = Options(CodecType::kOneBit, 0.01, block);
    const std::vector<float> g = Gaussian(22, 1000, 2.0f);
    const std::vector<float> d = MustDecode(o, MustEncode(o, g), g.size());
    for (size_t lo = 0; lo < g.size(); lo += block) {
      const size_t hi = std::min(g.size(), lo + block);
      double sum = 0;
      for (size_t i = lo; i < hi; ++i) sum += std::fabs(g[i]);
      const auto scale = static_cast<float>(sum / static_cast<double>(hi - lo));
      for (size_t i = lo; i < hi; ++i) ASSERT_EQ(d[i], g[i] < 0 ? -scale : scale) << i;
    }
  }
}

TEST(TopKTest, KeepsExactlyTheKLargestMagnitudesAndZeroesTheRest) {
  for (double ratio : {0.01, 0.1, 0.5, 1.0}) {
    const auto o = Options(CodecType::kTopK, ratio);
    const std::vector<float> g = Gaussian(23, 10000);
    const size_t k = TopKCount(ratio, g.size());
    const std::vector<float> d = MustDecode(o, MustEncode(o, g), g.size());
    std::vector<float> kept_abs;
    float smallest_kept = std::numeric_limits<float>::infinity();
    float largest_dropped = 0.0f;
    for (size_t i = 0; i < g.size(); ++i) {
      ASSERT_NE(g[i], 0.0f);
      if (d[i] != 0.0f) {
        ASSERT_EQ(Bits(d[i]), Bits(g[i])) << i;  // values travel exactly
        smallest_kept = std::min(smallest_kept, std::fabs(g[i]));
        kept_abs.push_back(std::fabs(g[i]));
      } else {
        largest_dropped = std::max(largest_dropped, std::fabs(g[i]));
      }
    }
    EXPECT_EQ(kept_abs.size(), k) << ratio;
    EXPECT_GT(smallest_kept, largest_dropped) << ratio;
  }
}

TEST(TopKTest, TiesGoToTheLowerIndexAndZerosStillFillK) {
  const auto o = Options(CodecType::kTopK, 0.3);  // k = 3 of 10
  const std::vector<float> g = {1, -2, 2, 0, -2, 2, 1, 0, 2, 1};
  const std::vector<float> d = MustDecode(o, MustEncode(o, g), g.size());
  EXPECT_EQ(d, (std::vector<float>{0, -2, 2, 0, -2, 0, 0, 0, 0, 0}));

  const std::vector<float> zeros(10, 0.0f);
  const std::vector<uint8_t> bytes = MustEncode(o, zeros);
  EXPECT_EQ(bytes.size(), 18u);  // k pairs even when all are zero: the size stays exact
  EXPECT_EQ(MustDecode(o, bytes, 10), zeros);
}

TEST(AllCodecsTest, ZerosTinyAndEmptyTensors) {
  for (const CodecOptions& o : AllCodecs()) {
    SCOPED_TRACE(Describe(o));
    const std::vector<float> zeros(300, 0.0f);
    EXPECT_EQ(MustDecode(o, MustEncode(o, zeros), zeros.size()), zeros);
    // Float denormals: every codec stays finite and within the denormal's magnitude.
    const float denorm = 3 * std::numeric_limits<float>::denorm_min();
    const std::vector<float> tiny = {denorm, -denorm, 0.0f, denorm};
    for (float x : MustDecode(o, MustEncode(o, tiny), tiny.size())) {
      EXPECT_TRUE(std::isfinite(x));
      EXPECT_LE(std::fabs(x), denorm);
    }
    EXPECT_TRUE(MustEncode(o, std::vector<float>{}).empty());
    EXPECT_TRUE(MustDecode(o, {}, 0).empty());
  }
}

TEST(AllCodecsTest, NonFiniteInputIsRefusedByScaledCodecsWithoutTouchingBuffers) {
  for (CodecType t : {CodecType::kInt8, CodecType::kOneBit, CodecType::kTopK}) {
    for (float bad :
         {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
      const auto o = Options(t, 0.5);
      std::vector<float> g = {1.0f, 2.0f, bad, 4.0f};
      std::vector<float> residual = {0.5f, 0.5f, 0.5f, 0.5f};
      std::vector<uint8_t> out = {42};
      const Status s = Encode(o, g, residual, &out);
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
      EXPECT_NE(s.message().find("element 2 of the gradient plus residual is not finite"),
                std::string::npos)
          << s.message();
      EXPECT_EQ(out, std::vector<uint8_t>{42});
      EXPECT_EQ(residual, std::vector<float>(4, 0.5f));
      // A finite gradient whose sum with the residual overflows is refused too.
      g = {std::numeric_limits<float>::max(), 0, 0, 0};
      residual = {std::numeric_limits<float>::max(), 0, 0, 0};
      EXPECT_EQ(Encode(o, g, residual, &out).code(), StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace ringtrain::compress
