// ValidatePayload is the one check of encoded bytes; the decoders that take its result check
// nothing again and give what the byte-level API gives. EncodeInto writes into a caller's
// slice exactly what Encode writes.
#include "ringtrain/compress/validated_payload.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
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
using testing::Options;

TEST(ValidatedPayloadTest, SpecOfKeepsTheBlockOnlyWhereTheWireCarriesIt) {
  EXPECT_EQ(SpecOf(Options(CodecType::kInt8, 0.5, 37)), (CodecSpec{CodecType::kInt8, 37}));
  EXPECT_EQ(SpecOf(Options(CodecType::kOneBit, 0.5, 8)), (CodecSpec{CodecType::kOneBit, 8}));
  EXPECT_EQ(SpecOf(Options(CodecType::kTopK, 0.5, 37)), (CodecSpec{CodecType::kTopK, 0}));
  EXPECT_EQ(SpecOf(Options(CodecType::kNone, 0.5, 37)), (CodecSpec{CodecType::kNone, 0}));
}

TEST(ValidatedPayloadTest, DecodersOfAValidatedPayloadEqualTheByteLevelOnes) {
  for (const CodecOptions& o : AllCodecs()) {
    for (size_t n : {0u, 1u, 9u, 300u}) {
      SCOPED_TRACE(Describe(o) + " n=" + std::to_string(n));
      const std::vector<uint8_t> bytes = MustEncode(o, Gaussian(n + 1, n));
      StatusOr<ValidatedPayload> payload = ValidatePayload(SpecOf(o), bytes, n);
      ASSERT_TRUE(payload.ok()) << payload.status().ToString();
      EXPECT_EQ(payload->bytes().data(), bytes.data()) << "a view, not a copy";
      EXPECT_EQ(payload->num_elements(), n);
      std::vector<float> out(n, -1.0f);
      Decode(*payload, out);
      EXPECT_EQ(out, MustDecode(o, bytes, n));
      std::vector<float> acc(n, 0.25f), expected(n, 0.25f);
      DecodeAdd(*payload, acc, 3.0f);
      ASSERT_TRUE(DecodeAdd(o, bytes, expected, 3.0f).ok());
      EXPECT_EQ(acc, expected);
    }
  }
}

TEST(ValidatedPayloadTest, RefusesWhatValidateEncodedRefuses) {
  const auto o = Options(CodecType::kTopK, 0.5);
  std::vector<uint8_t> bytes = MustEncode(o, Gaussian(5, 10));
  bytes[0] = 10;  // first index == n
  bytes[1] = 0;
  StatusOr<ValidatedPayload> payload = ValidatePayload(SpecOf(o), bytes, 10);
  ASSERT_FALSE(payload.ok());
  EXPECT_EQ(payload.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(payload.status().message(), ValidateEncoded(o, bytes, 10).message());
  EXPECT_EQ(ValidatePayload(SpecOf(o), std::vector<uint8_t>(7), 10).status().code(),
            StatusCode::kDataLoss);
}

TEST(ValidatedPayloadTest, RefusesSpecsNoWireHeaderCanName) {
  const std::vector<uint8_t> bytes(20);
  for (int block : {0, -1, kMaxBlock + 1}) {
    for (CodecType t : {CodecType::kInt8, CodecType::kOneBit}) {
      const Status s = ValidatePayload({t, block}, bytes, 10).status();
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
      EXPECT_NE(s.message().find("block"), std::string::npos) << s.message();
    }
  }
  EXPECT_EQ(ValidatePayload({static_cast<CodecType>(42), 0}, bytes, 10).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidatePayload({CodecType::kTopK, 0}, {}, kMaxElements + 1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(EncodeIntoTest, WritesWhatEncodeWritesIntoASlice) {
  for (const CodecOptions& o : AllCodecs()) {
    SCOPED_TRACE(Describe(o));
    const std::vector<float> grad = Gaussian(11, 100);
    std::vector<float> residual_a(100, 0.01f), residual_b(100, 0.01f);
    std::vector<uint8_t> expected;
    ASSERT_TRUE(Encode(o, grad, residual_a, &expected).ok());
    const size_t size = EncodedSize(o, grad.size());
    ASSERT_EQ(size, expected.size());
    std::vector<uint8_t> buffer(size + 6, 0xAB);  // the slice sits between two guards of 3
    ASSERT_TRUE(EncodeInto(o, grad, residual_b, std::span<uint8_t>(buffer).subspan(3, size)).ok());
    EXPECT_EQ(std::vector<uint8_t>(buffer.begin() + 3, buffer.end() - 3), expected);
    EXPECT_EQ(buffer[2], 0xAB);
    EXPECT_EQ(buffer[size + 3], 0xAB);
    EXPECT_EQ(residual_b, residual_a);
  }
}

TEST(EncodeIntoTest, AnOutputOfAnotherSizeIsRefusedAndNothingChanges) {
  const auto o = Options(CodecType::kInt8);
  const std::vector<float> grad = Gaussian(12, 10);
  std::vector<float> residual(10, 0.5f);
  std::vector<uint8_t> out(EncodedSize(o, 10) + 1, 7);
  const Status s = EncodeInto(o, grad, residual, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(residual, std::vector<float>(10, 0.5f));
  EXPECT_EQ(out, std::vector<uint8_t>(EncodedSize(o, 10) + 1, 7));
}

}  // namespace
}  // namespace ringtrain::compress
