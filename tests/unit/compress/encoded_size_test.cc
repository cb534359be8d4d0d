// Encoded sizes (EncodedSize against real encodings), k for topk, the little-endian byte layouts
// and topk's saving over dense float32.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ringtrain/compress/codec.h"
#include "test_util.h"

namespace ringtrain::compress {
namespace {

using testing::AllCodecs;
using testing::Describe;
using testing::Gaussian;
using testing::MustEncode;
using testing::Options;

TEST(EncodedSizeTest, Formulas) {
  const size_t n = 1000;
  EXPECT_EQ(EncodedSize(Options(CodecType::kNone), n), 4000u);
  EXPECT_EQ(EncodedSize(Options(CodecType::kFp16), n), 2000u);
  EXPECT_EQ(EncodedSize(Options(CodecType::kInt8), n), 4 * 4 + 1000u);  // 4 blocks of 256
  EXPECT_EQ(EncodedSize(Options(CodecType::kOneBit), n), 4 * 4 + 125u);
  EXPECT_EQ(EncodedSize(Options(CodecType::kOneBit, 0.01, 1000), 1001), 2 * 4 + 126u);
  EXPECT_EQ(EncodedSize(Options(CodecType::kTopK, 0.01), n), 6 * 10u);  // uint16 indices
  EXPECT_EQ(EncodedSize(Options(CodecType::kTopK, 0.01), 65536), 6 * 656u);
  EXPECT_EQ(EncodedSize(Options(CodecType::kTopK, 0.01), 65537), 8 * 656u);  // uint32 indices
  for (const CodecOptions& o : AllCodecs()) EXPECT_EQ(EncodedSize(o, 0), 0u) << Describe(o);
}

TEST(EncodedSizeTest, MatchesRealEncodings) {
  for (const CodecOptions& o : AllCodecs()) {
    for (size_t n : {1u, 7u, 8u, 9u, 36u, 37u, 38u, 255u, 256u, 257u, 1000u}) {
      EXPECT_EQ(MustEncode(o, Gaussian(n, n)).size(), EncodedSize(o, n)) << Describe(o) << n;
    }
  }
}

TEST(EncodedSizeTest, TopKCount) {
  EXPECT_EQ(TopKCount(0.01, 1000000), 10000u);
  EXPECT_EQ(TopKCount(0.07, 100), 7u);  // 0.07 * 100 is 7.000000000000001 in double
  EXPECT_EQ(TopKCount(0.29, 100), 29u);
  EXPECT_EQ(TopKCount(0.5, 3), 2u);  // ceil(1.5)
  EXPECT_EQ(TopKCount(0.011, 1000), 11u);
  EXPECT_EQ(TopKCount(0.0101, 1000), 11u);  // ceil(10.1)
  EXPECT_EQ(TopKCount(1e-9, 10), 1u);       // at least one element
  EXPECT_EQ(TopKCount(1.0, 12345), 12345u);
  EXPECT_EQ(TopKCount(0.5, 0), 0u);
}

TEST(EncodedSizeTest, TopKOnePercentSendsFiftyTimesFewerBytesThanDense) {
  const size_t n = 1000000;
  const auto topk = Options(CodecType::kTopK, 0.01);
  const size_t dense = EncodedSize(Options(CodecType::kNone), n);
  ASSERT_EQ(dense, 4 * n);
  EXPECT_GE(dense, 50 * EncodedSize(topk, n));
  const std::vector<uint8_t> bytes = MustEncode(topk, Gaussian(8, n));
  EXPECT_EQ(bytes.size(), EncodedSize(topk, n));
  EXPECT_GE(dense, 50 * bytes.size());
}

TEST(ByteLayoutTest, LittleEndianLayouts) {
  using Bytes = std::vector<uint8_t>;
  EXPECT_EQ(MustEncode(Options(CodecType::kNone), std::vector<float>{1.0f, -2.0f}),
            (Bytes{0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0}));
  EXPECT_EQ(MustEncode(Options(CodecType::kFp16), std::vector<float>{1.0f, -65504.0f}),
            (Bytes{0x00, 0x3C, 0xFF, 0xFB}));
  // int8: scale 1.0 (max 127), then q = 127, -1, 0.
  EXPECT_EQ(MustEncode(Options(CodecType::kInt8), std::vector<float>{127.0f, -1.0f, 0.2f}),
            (Bytes{0x00, 0x00, 0x80, 0x3F, 0x7F, 0xFF, 0x00}));
  // onebit, blocks of 2: scales 1.5 and 4, sign bits 0b101 (elements 0 and 2 negative).
  EXPECT_EQ(MustEncode(Options(CodecType::kOneBit, 0.01, 2), std::vector<float>{-1, 2, -4}),
            (Bytes{0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x80, 0x40, 0x05}));
  // topk, k = 2 of 4: (1, 5.0), (2, -7.0), uint16 indices.
  EXPECT_EQ(MustEncode(Options(CodecType::kTopK, 0.5), std::vector<float>{0, 5, -7, 1}),
            (Bytes{0x01, 0x00, 0x00, 0x00, 0xA0, 0x40,  //
                   0x02, 0x00, 0x00, 0x00, 0xE0, 0xC0}));
  // Above 65536 elements the indices are uint32: k = 1 of 65537, the last element.
  std::vector<float> wide(65537, 0.0f);
  wide.back() = 5.0f;
  EXPECT_EQ(MustEncode(Options(CodecType::kTopK, 1e-6), wide),
            (Bytes{0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xA0, 0x40}));
}

}  // namespace
}  // namespace ringtrain::compress
