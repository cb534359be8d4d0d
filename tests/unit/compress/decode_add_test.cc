// DecodeAdd (the server's aggregation) equals Decode followed by accumulate += weight * decoded.
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
using testing::MustDecode;
using testing::MustEncode;

TEST(DecodeAddTest, EqualsDecodeThenAxpy) {
  const size_t n = 3001;
  for (const CodecOptions& o : AllCodecs()) {
    SCOPED_TRACE(Describe(o));
    const std::vector<uint8_t> bytes = MustEncode(o, Gaussian(5, n));
    const std::vector<float> decoded = MustDecode(o, bytes, n);
    for (float weight : {1.0f, 0.25f, -1.5f, 0.0f}) {
      const std::vector<float> start = Gaussian(6, n);
      std::vector<float> expected = start;
      for (size_t i = 0; i < n; ++i) expected[i] += weight * decoded[i];
      std::vector<float> acc = start;
      ASSERT_TRUE(DecodeAdd(o, bytes, acc, weight).ok());
      for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(acc[i], expected[i]) << "weight " << weight << " i " << i;
    }
  }
}

TEST(DecodeAddTest, AggregatesSeveralWorkers) {
  // Three workers' topk gradients averaged into one dense accumulator.
  const size_t n = 1000;
  const auto o = testing::Options(CodecType::kTopK, 0.02);
  std::vector<float> acc(n, 0.0f), expected(n, 0.0f);
  for (uint64_t w = 0; w < 3; ++w) {
    const std::vector<uint8_t> bytes = MustEncode(o, Gaussian(40 + w, n));
    const std::vector<float> decoded = MustDecode(o, bytes, n);
    for (size_t i = 0; i < n; ++i) expected[i] += decoded[i] / 3.0f;
    ASSERT_TRUE(DecodeAdd(o, bytes, acc, 1.0f / 3.0f).ok());
  }
  for (size_t i = 0; i < n; ++i) EXPECT_FLOAT_EQ(acc[i], expected[i]) << i;
}

}  // namespace
}  // namespace ringtrain::compress
