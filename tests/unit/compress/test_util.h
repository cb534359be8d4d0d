// Helpers shared by the compress tests: seeded random gradients, the codec configurations under
// test and Encode/Decode wrappers that fail the test on error.
#ifndef RINGTRAIN_TESTS_UNIT_COMPRESS_TEST_UTIL_H_
#define RINGTRAIN_TESTS_UNIT_COMPRESS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "ringtrain/common/random.h"
#include "ringtrain/compress/codec.h"

namespace ringtrain::compress::testing {

// n standard-normal values times stddev (Box-Muller on SplitMix64), from a fixed seed.
inline std::vector<float> Gaussian(uint64_t seed, size_t n, float stddev = 1.0f) {
  SplitMix64 rng(seed);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    const double u1 = 1.0 - rng.NextFloat();  // in (0, 1]
    const double u2 = rng.NextFloat();
    v[i] = static_cast<float>(stddev * std::sqrt(-2.0 * std::log(u1)) *
                              std::cos(2.0 * std::numbers::pi * u2));
  }
  return v;
}

inline CodecOptions Options(CodecType type, double ratio = 0.01, int block = 256) {
  CodecOptions o;
  o.type = type;
  o.ratio = ratio;
  o.block = block;
  return o;
}

// Every codec, with block sizes that leave a partial last block and a topk ratio large enough
// to matter on small tensors.
inline std::vector<CodecOptions> AllCodecs() {
  return {Options(CodecType::kNone),       Options(CodecType::kFp16),
          Options(CodecType::kInt8),       Options(CodecType::kInt8, 0.01, 37),
          Options(CodecType::kOneBit),     Options(CodecType::kOneBit, 0.01, 37),
          Options(CodecType::kTopK, 0.01), Options(CodecType::kTopK, 0.3)};
}

inline std::string Describe(const CodecOptions& o) {
  return std::string(CodecName(o.type)) + " ratio=" + std::to_string(o.ratio) +
         " block=" + std::to_string(o.block);
}

inline std::vector<uint8_t> MustEncode(const CodecOptions& o, std::span<const float> grad,
                                       std::span<float> residual = {}) {
  std::vector<uint8_t> out;
  const Status s = Encode(o, grad, residual, &out);
  EXPECT_TRUE(s.ok()) << Describe(o) << ": " << s.ToString();
  return out;
}

inline std::vector<float> MustDecode(const CodecOptions& o, std::span<const uint8_t> bytes,
                                     size_t n) {
  std::vector<float> out(n, -12345.0f);
  const Status s = Decode(o, bytes, out);
  EXPECT_TRUE(s.ok()) << Describe(o) << ": " << s.ToString();
  return out;
}

inline uint32_t Bits(float x) { return std::bit_cast<uint32_t>(x); }

// The float32 at byte offset `at`, read little-endian.
inline float FloatAt(const std::vector<uint8_t>& bytes, size_t at) {
  const uint32_t u =
      static_cast<uint32_t>(bytes[at]) | (static_cast<uint32_t>(bytes[at + 1]) << 8) |
      (static_cast<uint32_t>(bytes[at + 2]) << 16) | (static_cast<uint32_t>(bytes[at + 3]) << 24);
  return std::bit_cast<float>(u);
}

}  // namespace ringtrain::compress::testing

#endif  // RINGTRAIN_TESTS_UNIT_COMPRESS_TEST_UTIL_H_
