// Decoding bytes from the network: every malformed input gives DataLoss naming the problem,
// leaves the output untouched and reads nothing out of bounds (this file also runs under ASan).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ringtrain/common/random.h"
#include "ringtrain/compress/codec.h"
#include "test_util.h"

namespace ringtrain::compress {
namespace {

using testing::AllCodecs;
using testing::Describe;
using testing::Gaussian;
using testing::MustEncode;
using testing::Options;

void PutU32(std::vector<uint8_t>& bytes, size_t at, uint32_t v) {
  for (int b = 0; b < 4; ++b) bytes[at + b] = static_cast<uint8_t>(v >> (8 * b));
}
void PutF32(std::vector<uint8_t>& bytes, size_t at, float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  PutU32(bytes, at, u);
}

// Expects DataLoss with `what` in the message from ValidateEncoded, Decode and DecodeAdd, and
// that neither output was written.
void ExpectDataLoss(const CodecOptions& o, const std::vector<uint8_t>& bytes, size_t n,
                    const std::string& what) {
  SCOPED_TRACE(Describe(o) + " n=" + std::to_string(n) + " bytes=" + std::to_string(bytes.size()));
  const Status v = ValidateEncoded(o, bytes, n);
  EXPECT_EQ(v.code(), StatusCode::kDataLoss) << v.ToString();
  EXPECT_NE(v.message().find(what), std::string::npos) << v.message();
  std::vector<float> out(n, 7.0f);
  EXPECT_EQ(Decode(o, bytes, out).code(), StatusCode::kDataLoss);
  EXPECT_EQ(out, std::vector<float>(n, 7.0f));
  EXPECT_EQ(DecodeAdd(o, bytes, out, 1.0f).code(), StatusCode::kDataLoss);
  EXPECT_EQ(out, std::vector<float>(n, 7.0f));
}

TEST(MalformedTest, WrongSizesForDenseCodecs) {
  for (const CodecOptions& o : AllCodecs()) {
    if (o.type == CodecType::kTopK) continue;
    for (size_t n : {1u, 8u, 100u, 257u}) {
      const size_t expected = EncodedSize(o, n);
      for (size_t size : {size_t{0}, expected - 1, expected + 1, 2 * expected}) {
        ExpectDataLoss(o, std::vector<uint8_t>(size, 0), n, " bytes for " + std::to_string(n));
      }
    }
  }
  // The message says what was expected.
  EXPECT_EQ(ValidateEncoded(Options(CodecType::kInt8), std::vector<uint8_t>(1030), 1024).message(),
            "int8: 1030 bytes for 1024 elements; expected 1040 (4 float32 scales for blocks of "
            "256, then 1 byte per element)");
}

TEST(MalformedTest, BadScales) {
  for (CodecType t : {CodecType::kInt8, CodecType::kOneBit}) {
    const auto o = Options(t, 0.01, 16);
    const std::vector<uint8_t> good = MustEncode(o, Gaussian(3, 40));
    ASSERT_TRUE(ValidateEncoded(o, good, 40).ok());
    for (float bad :
         {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -1.0f}) {
      std::vector<uint8_t> bytes = good;
      PutF32(bytes, 8, bad);  // block 2
      ExpectDataLoss(o, bytes, 40, "scale of block 2 is ");
    }
  }
}

TEST(MalformedTest, Int8ScaleWhoseProductOverflowsIsRefused) {
  ASSERT_TRUE(std::isfinite(127.0f * kInt8MaxScale));
  const float too_large = std::nextafter(kInt8MaxScale, std::numeric_limits<float>::infinity());
  ASSERT_FALSE(std::isfinite(127.0f * too_large));
  const auto o = Options(CodecType::kInt8);
  std::vector<uint8_t> bytes = MustEncode(o, Gaussian(3, 10));
  PutF32(bytes, 0, too_large);
  ExpectDataLoss(o, bytes, 10, "int8: scale of block 0 is too large");
  PutF32(bytes, 0, kInt8MaxScale);
  EXPECT_TRUE(ValidateEncoded(o, bytes, 10).ok());
}

TEST(MalformedTest, Int8MinusOneTwentyEightAndOneBitPaddingBits) {
  const auto i8 = Options(CodecType::kInt8);
  std::vector<uint8_t> bytes = MustEncode(i8, Gaussian(4, 10));
  bytes[4 + 6] = 0x80;
  ExpectDataLoss(i8, bytes, 10, "int8: element 6 is -128");

  const auto ob = Options(CodecType::kOneBit);
  bytes = MustEncode(ob, Gaussian(4, 10));  // 4 + 2 bytes; 6 padding bits in the last
  bytes.back() |= 0x80;
  ExpectDataLoss(ob, bytes, 10, "onebit: padding bits after element 9");
}

TEST(MalformedTest, TopKPairs) {
  const auto o = Options(CodecType::kTopK, 0.5);
  const size_t n = 10;
  const std::vector<uint8_t> good = MustEncode(o, Gaussian(5, n));  // 5 pairs of 6 bytes
  ASSERT_EQ(good.size(), 30u);
  ASSERT_TRUE(ValidateEncoded(o, good, n).ok());
  const size_t pair = 6;  // uint16 index, float32 value

  ExpectDataLoss(o, std::vector<uint8_t>(good.begin(), good.end() - 4), n,
                 "26 bytes is not a whole number of 6-byte");
  ExpectDataLoss(o, std::vector<uint8_t>(pair * (n + 1), 0), n, "11 pairs for 10 elements");
  ExpectDataLoss(o, good, 4, "5 pairs for 4 elements");

  std::vector<uint8_t> bytes = good;
  bytes[pair * 4] = 10;  // last index == n
  bytes[pair * 4 + 1] = 0;
  ExpectDataLoss(o, bytes, n, "pair 4 has index 10, not below the 10 elements");
  bytes[pair * 4] = 0xFF;
  bytes[pair * 4 + 1] = 0xFF;
  ExpectDataLoss(o, bytes, n, "pair 4 has index 65535");

  bytes = good;
  std::memcpy(bytes.data() + pair * 2, bytes.data() + pair * 1, 2);  // duplicate index
  ExpectDataLoss(o, bytes, n, "pair 2 has index");
  ExpectDataLoss(o, bytes, n, "(indices must be strictly increasing)");

  bytes = good;
  std::swap_ranges(bytes.begin(), bytes.begin() + pair, bytes.begin() + pair);  // unsorted
  ExpectDataLoss(o, bytes, n, "pair 1 has index");

  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    bytes = good;
    PutF32(bytes, pair * 3 + 2, bad);
    ExpectDataLoss(o, bytes, n, "pair 3 (index ");
  }

  // Above 65536 elements indices take 4 bytes.
  const size_t big = 65537;
  const std::vector<uint8_t> wide = MustEncode(o, Gaussian(6, big));
  ASSERT_EQ(wide.size(), 8 * TopKCount(0.5, big));
  ASSERT_TRUE(ValidateEncoded(o, wide, big).ok());
  bytes = wide;
  PutU32(bytes, 0, 0xFFFFFFFFu);
  ExpectDataLoss(o, bytes, big, "pair 0 has index 4294967295");

  // Fewer pairs than the ratio implies is well-formed (the encoder chooses k), and so is none.
  std::vector<float> out(n, 7.0f);
  EXPECT_TRUE(Decode(o, std::vector<uint8_t>(good.begin(), good.begin() + 2 * pair), out).ok());
  EXPECT_TRUE(Decode(o, {}, out).ok());
  EXPECT_EQ(out, std::vector<float>(n, 0.0f));
}

TEST(MalformedTest, TooManyElementsIsInvalidArgument) {
  EXPECT_EQ(ValidateEncoded(Options(CodecType::kTopK), {}, kMaxElements + 1).code(),
            StatusCode::kInvalidArgument);
}

// Random bytes and random corruptions of valid encodings: OK or DataLoss, never a crash or an
// out-of-bounds read (ASan checks the latter).
TEST(MalformedTest, RandomBytesNeverCrash) {
  SplitMix64 rng(99);
  for (const CodecOptions& o : AllCodecs()) {
    for (int t = 0; t < 300; ++t) {
      const size_t n = rng.Below(300);
      std::vector<uint8_t> bytes;
      if (rng.Below(2) == 0) {
        bytes.resize(rng.Below(2 * EncodedSize(o, n) + 16));
        for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.Next());
      } else {
        bytes = MustEncode(o, Gaussian(rng.Next(), n));
        for (int flips = 0; flips < 3 && !bytes.empty(); ++flips) {
          bytes[rng.Below(bytes.size())] ^= static_cast<uint8_t>(1u << rng.Below(8));
        }
      }
      std::vector<float> out(n);
      const Status s = Decode(o, bytes, out);
      ASSERT_TRUE(s.ok() || s.code() == StatusCode::kDataLoss) << Describe(o) << s.ToString();
      if (s.ok() && o.type != CodecType::kNone && o.type != CodecType::kFp16) {
        for (float x : out) ASSERT_TRUE(std::isfinite(x));  // validated scales stay finite
      }
      std::vector<float> acc(n, 1.0f);
      const Status a = DecodeAdd(o, bytes, acc, 0.5f);
      ASSERT_EQ(a.code(), s.code());
    }
  }
}

}  // namespace
}  // namespace ringtrain::compress
