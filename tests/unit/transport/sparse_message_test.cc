// DecodeMessage on the sparse slices of PUSH, PULL and PULL_REPLY (Header.sparse).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ringtrain/compress/codec.h"
#include "ringtrain/transport/message.h"

namespace ringtrain::transport {
namespace {

using ::testing::HasSubstr;

proto::Header SparseHeader(proto::MessageKind kind, std::vector<uint64_t> keys_per_slice,
                           uint32_t dim) {
  proto::Header h;
  h.set_wire_version(proto::WIRE_VERSION_1);
  h.set_kind(kind);
  h.set_job("j");
  uint32_t table = 0;
  for (uint64_t n : keys_per_slice) {
    proto::SparseSlice* s = h.add_sparse();
    s->set_table(table++);
    s->set_num_keys(n);
    s->set_dim(dim);
  }
  return h;
}

std::vector<zmq::message_t> Frames(const proto::Header& h, const std::vector<size_t>& bytes,
                                   size_t misalign = 0) {
  std::vector<zmq::message_t> frames;
  const std::string head = h.SerializeAsString();
  frames.emplace_back(head.data(), head.size());
  for (size_t b : bytes) {
    // Frames whose data starts `misalign` bytes into their buffer, as libzmq can hand them
    // out (in place inside its receive buffers); the contents are the byte offsets.
    auto* base = new uint8_t[b + misalign];
    for (size_t i = 0; i < b + misalign; ++i) base[i] = static_cast<uint8_t>(i);
    frames.emplace_back(
        base + misalign, b, [](void*, void* hint) { delete[] static_cast<uint8_t*>(hint); }, base);
  }
  return frames;
}

TEST(SparseMessageTest, APushCarriesKeysThenValuesPerSlice) {
  const proto::Header h = SparseHeader(proto::PUSH, {3, 2}, 4);
  StatusOr<Message> msg = DecodeMessage(Frames(h, {24, 48, 16, 32}));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->payloads.size(), 0u);
  ASSERT_EQ(msg->sparse.size(), 4u);
  EXPECT_EQ(msg->SparseKeys(0).size(), 3u);
  EXPECT_EQ(msg->SparseValues(0).size(), 12u);
  EXPECT_EQ(msg->SparseKeys(1).size(), 2u);
  EXPECT_EQ(msg->SparseValues(1).size(), 8u);
}

TEST(SparseMessageTest, APullCarriesKeysAndItsReplyValues) {
  StatusOr<Message> pull = DecodeMessage(Frames(SparseHeader(proto::PULL, {5}, 2), {40}));
  ASSERT_TRUE(pull.ok()) << pull.status().ToString();
  EXPECT_EQ(pull->SparseKeys(0).size(), 5u);
  StatusOr<Message> reply = DecodeMessage(Frames(SparseHeader(proto::PULL_REPLY, {5}, 2), {40}));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->SparseValues(0).size(), 10u);
}

TEST(SparseMessageTest, FramesOfTheWrongSizeOrCountAreRefused) {
  const proto::Header push = SparseHeader(proto::PUSH, {3}, 4);
  EXPECT_THAT(DecodeMessage(Frames(push, {24, 44})).status().message(),
              HasSubstr("values frame of 44 bytes, expected 48"));
  EXPECT_THAT(DecodeMessage(Frames(push, {20, 48})).status().message(),
              HasSubstr("keys frame of 20 bytes, expected 24"));
  EXPECT_THAT(DecodeMessage(Frames(push, {24})).status().message(),
              HasSubstr("expected 2 payload frames, got 1"));
  EXPECT_FALSE(DecodeMessage(Frames(SparseHeader(proto::PUSH, {0}, 4), {0, 0})).ok());
  EXPECT_FALSE(DecodeMessage(Frames(SparseHeader(proto::PUSH, {2}, 0), {16, 0})).ok());
  // 2^25 + 1 keys: refused from the header alone, before any frame is read.
  EXPECT_THAT(DecodeMessage(Frames(SparseHeader(proto::PULL, {kMaxSparseKeys + 1}, 1), {8}))
                  .status()
                  .message(),
              HasSubstr("must be 1 to 2^25 keys"));
  proto::Header join = SparseHeader(proto::JOIN, {1}, 1);
  EXPECT_THAT(DecodeMessage(Frames(join, {8})).status().message(), HasSubstr("carries none"));
}

TEST(SparseMessageTest, MisalignedFramesAreCopiedToAlignedMemory) {
  const proto::Header h = SparseHeader(proto::PUSH, {2}, 1);
  StatusOr<Message> msg = DecodeMessage(Frames(h, {16, 8}, /*misalign=*/3));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  // Bytes 3..10 of the pattern, read as one little-endian uint64.
  uint64_t expected = 0;
  for (int i = 7; i >= 0; --i) expected = expected << 8 | static_cast<uint64_t>(3 + i);
  EXPECT_EQ(msg->SparseKeys(0)[0], expected);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(msg->SparseKeys(0).data()) % 8, 0u);
}

// A PUSH of one slice of 3 keys x dim 4 whose values are encoded with `codec`.
std::vector<zmq::message_t> EncodedPush(const compress::CodecOptions& codec,
                                        const std::vector<float>& values, proto::Header* h) {
  *h = SparseHeader(proto::PUSH, {3}, 4);
  proto::SparseSlice* s = h->mutable_sparse(0);
  s->set_value_codec(codec.type == compress::CodecType::kFp16 ? proto::CODEC_FP16
                                                              : proto::CODEC_INT8);
  if (codec.type == compress::CodecType::kInt8) s->set_value_codec_block(codec.block);
  std::vector<uint8_t> bytes(compress::EncodedSize(codec, values.size()));
  EXPECT_TRUE(compress::EncodeInto(codec, values, {}, bytes).ok());
  std::vector<zmq::message_t> frames = Frames(*h, {24});
  frames.emplace_back(bytes.data(), bytes.size());
  return frames;
}

TEST(SparseMessageTest, EncodedPushValuesAreCheckedAndDecodedToFloats) {
  const std::vector<float> values = {0.5f,  -1.25f, 3.0f, 1e-3f, 0.0f, 7.5f,
                                     -2.0f, 0.125f, 9.0f, -0.3f, 1.0f, 2.5f};
  for (const compress::CodecOptions codec :
       {compress::CodecOptions{compress::CodecType::kFp16},
        compress::CodecOptions{compress::CodecType::kInt8, 1.0, /*block=*/5}}) {
    proto::Header h;
    StatusOr<Message> msg = DecodeMessage(EncodedPush(codec, values, &h));
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    EXPECT_NE(msg->header.sparse(0).value_codec(), proto::CODEC_NONE);
    ASSERT_TRUE(DecodeSparseValues(&*msg).ok());
    // Decoded: floats, and the slice says so (a backup it is forwarded to reads them as such).
    EXPECT_EQ(msg->header.sparse(0).value_codec(), proto::CODEC_NONE);
    const std::span<const float> got = msg->SparseValues(0);
    ASSERT_EQ(got.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      // fp16: 11 significant bits; int8: half a step of the block's scale (max |x| / 127).
      const float tolerance =
          codec.type == compress::CodecType::kFp16 ? std::abs(values[i]) / 1024 : 9.0f / 254;
      EXPECT_NEAR(got[i], values[i], tolerance + 1e-6f) << compress::CodecName(codec.type) << i;
    }
  }
}

TEST(SparseMessageTest, EncodedValuesAreRefusedWhereTheyDoNotBelongOrDoNotDecode) {
  const std::vector<float> values(12, 1.0f);
  proto::Header h;
  // A reply's rows travel as float32.
  EncodedPush({compress::CodecType::kFp16}, values, &h);
  h.set_kind(proto::PULL_REPLY);
  EXPECT_THAT(DecodeMessage(Frames(h, {24})).status().message(),
              HasSubstr("values encoded as CODEC_FP16"));
  // Top-k and one-bit are not for sparse values.
  h = SparseHeader(proto::PUSH, {3}, 4);
  h.mutable_sparse(0)->set_value_codec(proto::CODEC_TOPK);
  EXPECT_THAT(DecodeMessage(Frames(h, {24, 48})).status().message(),
              HasSubstr("values encoded as CODEC_TOPK"));
  h.mutable_sparse(0)->set_value_codec(static_cast<proto::Codec>(99));
  EXPECT_THAT(DecodeMessage(Frames(h, {24, 48})).status().message(),
              HasSubstr("values encoded as 99"));
  // int8 needs a block; the frame must have the codec's size.
  h.mutable_sparse(0)->set_value_codec(proto::CODEC_INT8);
  EXPECT_THAT(DecodeMessage(Frames(h, {24, 16})).status().message(),
              HasSubstr("CODEC_INT8 with block 0"));
  h.mutable_sparse(0)->set_value_codec_block(4);
  EXPECT_THAT(DecodeMessage(Frames(h, {24, 48})).status().message(),
              HasSubstr("values frame of 48 bytes, expected 24"));
  // The right size, a scale that is not finite: refused when the bytes are checked.
  std::vector<zmq::message_t> nan = EncodedPush({compress::CodecType::kInt8, 1.0, 4}, values, &h);
  const float bad = std::nanf("");
  std::memcpy(nan[2].data(), &bad, sizeof bad);
  StatusOr<Message> sized = DecodeMessage(std::move(nan));
  ASSERT_TRUE(sized.ok()) << sized.status().ToString();
  const Status refused = DecodeSparseValues(&*sized);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("sparse slice 0 (table 0): values:"));
}

}  // namespace
}  // namespace ringtrain::transport
