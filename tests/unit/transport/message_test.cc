#include "ringtrain/transport/message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/transport/shared_segment.h"
#include "ringtrain/transport/socket_options.h"

namespace ringtrain::transport {
namespace {

using ::testing::HasSubstr;

proto::Header PushHeader(std::vector<uint64_t> sizes) {
  proto::Header h;
  h.set_wire_version(proto::WIRE_VERSION_1);
  h.set_kind(proto::PUSH);
  h.set_job("j");
  uint32_t id = 0;
  for (uint64_t n : sizes) {
    auto* s = h.add_partitions();
    s->set_id(id++);
    s->set_num_elements(n);
    s->set_payload_bytes(n * 4);
  }
  return h;
}

std::vector<zmq::message_t> Frames(const proto::Header& h, std::vector<size_t> payload_bytes) {
  std::vector<zmq::message_t> frames;
  std::string head = h.SerializeAsString();
  frames.emplace_back(head.data(), head.size());
  for (size_t b : payload_bytes) frames.emplace_back(b);
  return frames;
}

TEST(DecodeMessageTest, AcceptsWellFormedPush) {
  auto msg = DecodeMessage(Frames(PushHeader({3, 5}), {12, 20}));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->payloads.size(), 2u);
  EXPECT_EQ(msg->Floats(1).size(), 5u);
}

TEST(DecodeMessageTest, PullListsPartitionsWithoutPayloads) {
  proto::Header h = PushHeader({3});
  h.set_kind(proto::PULL);
  auto msg = DecodeMessage(Frames(h, {}));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  auto bad = DecodeMessage(Frames(h, {12}));
  EXPECT_FALSE(bad.ok());
}

proto::Header MarginsHeader(uint32_t rows, uint32_t cols) {
  proto::Header h;
  h.set_wire_version(proto::WIRE_VERSION_1);
  h.set_kind(proto::MARGINS);
  h.set_job("j");
  h.set_margin_rows(rows);
  h.set_margin_cols(cols);
  return h;
}

TEST(DecodeMessageTest, MarginsTravelInOneFrameOfTheirShape) {
  auto msg = DecodeMessage(Frames(MarginsHeader(3, 2), {24}));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->Floats(0).size(), 6u);
  auto short_frame = DecodeMessage(Frames(MarginsHeader(3, 2), {20}));
  ASSERT_FALSE(short_frame.ok());
  EXPECT_THAT(short_frame.status().message(), HasSubstr("margins of 3 x 2"));
  EXPECT_FALSE(DecodeMessage(Frames(MarginsHeader(3, 2), {})).ok());
  EXPECT_FALSE(DecodeMessage(Frames(MarginsHeader(3, 2), {24, 24})).ok());
  EXPECT_FALSE(DecodeMessage(Frames(MarginsHeader(0, 2), {})).ok());
  // 2^16 x 2^16 floats: refused from the header, before any frame is looked at.
  auto huge = DecodeMessage(Frames(MarginsHeader(1u << 16, 1u << 16), {}));
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.status().message(), HasSubstr("must be 1 to 2^24"));
  proto::Header fp16 = MarginsHeader(1, 2);
  fp16.set_codec(proto::CODEC_FP16);
  EXPECT_FALSE(DecodeMessage(Frames(fp16, {4})).ok());
}

TEST(DecodeMessageTest, RejectsGarbageHeader) {
  std::vector<zmq::message_t> frames;
  const char garbage[] = "\xff\xff\xff\xff\xff\x01garbage";
  frames.emplace_back(garbage, sizeof(garbage));
  auto msg = DecodeMessage(std::move(frames));
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.status().code(), StatusCode::kDataLoss);
}

TEST(DecodeMessageTest, RejectsOversizedHeaderUnread) {
  std::vector<zmq::message_t> frames;
  frames.emplace_back(kMaxHeaderBytes + 1);
  auto msg = DecodeMessage(std::move(frames));
  ASSERT_FALSE(msg.ok());
  EXPECT_THAT(msg.status().message(), HasSubstr("exceeds the limit"));
}

TEST(DecodeMessageTest, RejectsEmptyMessage) { EXPECT_FALSE(DecodeMessage({}).ok()); }

TEST(DecodeMessageTest, RejectsWrongVersionKindAndCodec) {
  proto::Header h = PushHeader({1});
  h.set_wire_version(proto::WIRE_VERSION_UNSPECIFIED);
  EXPECT_THAT(DecodeMessage(Frames(h, {4})).status().message(), HasSubstr("wire version"));
  h = PushHeader({1});
  h.set_kind(static_cast<proto::MessageKind>(77));
  EXPECT_THAT(DecodeMessage(Frames(h, {4})).status().message(), HasSubstr("kind"));
  h = PushHeader({1});
  h.set_codec(static_cast<proto::Codec>(9));
  EXPECT_THAT(DecodeMessage(Frames(h, {4})).status().message(), HasSubstr("codec"));
}

TEST(DecodeMessageTest, RejectsFrameCountAndSizeMismatches) {
  EXPECT_THAT(DecodeMessage(Frames(PushHeader({3, 5}), {12})).status().message(),
              HasSubstr("expected 2 payload frames, got 1"));
  EXPECT_THAT(DecodeMessage(Frames(PushHeader({3}), {11})).status().message(),
              HasSubstr("frame has 11"));
  proto::Header h = PushHeader({3});
  h.mutable_partitions(0)->set_payload_bytes(16);
  EXPECT_THAT(DecodeMessage(Frames(h, {12})).status().message(),
              HasSubstr("a none payload for 3 elements is 12 bytes, not 16"));
  h = PushHeader({3});
  EXPECT_THAT(DecodeMessage(Frames(h, {16})).status().message(),
              HasSubstr("header says 12 payload bytes, frame has 16"));
  h = PushHeader({kMaxPartitionElements + 1});
  EXPECT_THAT(DecodeMessage(Frames(h, {0})).status().message(), HasSubstr("exceeds the limit"));
}

// The size of each encoded frame is checked against the codec before anyone reads it.
TEST(DecodeMessageTest, ChecksEncodedPayloadSizesForTheirCodec) {
  auto with = [](proto::Codec codec, uint32_t block, uint64_t n, uint64_t bytes) {
    proto::Header h = PushHeader({n});
    h.set_codec(codec);
    h.set_codec_block(block);
    h.mutable_partitions(0)->set_payload_bytes(bytes);
    return DecodeMessage(Frames(h, {bytes}));
  };
  EXPECT_TRUE(with(proto::CODEC_FP16, 0, 10, 20).ok());
  EXPECT_THAT(with(proto::CODEC_FP16, 0, 10, 40).status().message(),
              HasSubstr("a fp16 payload for 10 elements is 20 bytes, not 40"));
  // int8, block 4, 10 elements: 3 scales + 10 bytes.
  EXPECT_TRUE(with(proto::CODEC_INT8, 4, 10, 22).ok());
  EXPECT_FALSE(with(proto::CODEC_INT8, 4, 10, 21).ok());
  EXPECT_THAT(with(proto::CODEC_INT8, 0, 10, 22).status().message(),
              HasSubstr("CODEC_INT8 with block 0"));
  // onebit, block 8, 10 elements: 2 scales + 2 sign bytes.
  EXPECT_TRUE(with(proto::CODEC_ONEBIT, 8, 10, 10).ok());
  EXPECT_FALSE(with(proto::CODEC_ONEBIT, 8, 10, 12).ok());
  // topk: 1..n pairs of 6 bytes (uint16 indices up to 65536 elements), else of 8.
  EXPECT_TRUE(with(proto::CODEC_TOPK, 0, 10, 6).ok());
  EXPECT_TRUE(with(proto::CODEC_TOPK, 0, 10, 60).ok());
  EXPECT_THAT(with(proto::CODEC_TOPK, 0, 10, 0).status().message(), HasSubstr("topk payload"));
  EXPECT_FALSE(with(proto::CODEC_TOPK, 0, 10, 8).ok());
  EXPECT_FALSE(with(proto::CODEC_TOPK, 0, 10, 66).ok());
  EXPECT_TRUE(with(proto::CODEC_TOPK, 0, 65537, 8).ok());
  EXPECT_FALSE(with(proto::CODEC_TOPK, 0, 65537, 6).ok());
}

// The codec is parsed once, by DecodeMessage; receivers read Message::codec.
TEST(DecodeMessageTest, DecodedMessageCarriesItsParsedCodec) {
  proto::Header h = PushHeader({10});
  h.set_codec(proto::CODEC_INT8);
  h.set_codec_block(4);
  h.mutable_partitions(0)->set_payload_bytes(22);
  auto msg = DecodeMessage(Frames(h, {22}));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->codec, (compress::CodecSpec{compress::CodecType::kInt8, 4}));
  msg = DecodeMessage(Frames(PushHeader({3}), {12}));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->codec, (compress::CodecSpec{compress::CodecType::kNone, 0}));
}

TEST(CodecOfTest, ReadsWhatSetCodecWrites) {
  for (compress::CodecSpec spec : {compress::CodecSpec{compress::CodecType::kNone, 0},
                                   compress::CodecSpec{compress::CodecType::kFp16, 0},
                                   compress::CodecSpec{compress::CodecType::kInt8, 256},
                                   compress::CodecSpec{compress::CodecType::kOneBit, 1},
                                   compress::CodecSpec{compress::CodecType::kTopK, 0}}) {
    proto::Header h;
    SetCodec(spec, &h);
    StatusOr<compress::CodecSpec> parsed = CodecOf(h);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, spec) << compress::CodecName(spec.type);
  }
  // A block on the wire for a codec without blocks is ignored, as before.
  proto::Header h;
  h.set_codec(proto::CODEC_FP16);
  h.set_codec_block(9);
  EXPECT_EQ(CodecOf(h).value(), (compress::CodecSpec{compress::CodecType::kFp16, 0}));
}

TEST(DecodeMessageTest, ParametersTravelUncompressed) {
  proto::Header h = PushHeader({4});
  h.set_kind(proto::PULL_REPLY);
  h.set_codec(proto::CODEC_FP16);
  h.mutable_partitions(0)->set_payload_bytes(8);
  EXPECT_THAT(DecodeMessage(Frames(h, {8})).status().message(),
              HasSubstr("parameters travel as CODEC_NONE"));
}

// Regression: libzmq delivers frames in place inside its receive buffer, at odd offsets;
// UBSan caught the server reading floats from a misaligned address.
TEST(DecodeMessageTest, MisalignedPayloadIsRealignedWithSameValues) {
  alignas(16) static char storage[64];
  const float values[3] = {1.25f, -7.5f, 3.0f};
  std::memcpy(storage + 1, values, sizeof(values));
  std::vector<zmq::message_t> frames = Frames(PushHeader({3}), {});
  frames.emplace_back(
      storage + 1, sizeof(values), [](void*, void*) {}, nullptr);
  ASSERT_NE(reinterpret_cast<uintptr_t>(frames[1].data()) % alignof(float), 0u);
  auto msg = DecodeMessage(std::move(frames));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  std::span<const float> f = msg->Floats(0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.data()) % alignof(float), 0u);
  EXPECT_THAT(std::vector<float>(f.begin(), f.end()), ::testing::ElementsAre(1.25f, -7.5f, 3.0f));
}

// A PULL_REPLY's partitions are copied out as bytes by the worker, never read as floats in
// place: a misaligned one is left where libzmq put it (no copy), and Floats refuses it.
TEST(DecodeMessageTest, APullReplysMisalignedPartitionIsLeftInPlace) {
  alignas(16) static char storage[64];
  const float values[3] = {1.25f, -7.5f, 3.0f};
  std::memcpy(storage + 1, values, sizeof(values));
  proto::Header h = PushHeader({3});
  h.set_kind(proto::PULL_REPLY);
  std::vector<zmq::message_t> frames = Frames(h, {});
  frames.emplace_back(
      storage + 1, sizeof(values), [](void*, void*) {}, nullptr);
  auto msg = DecodeMessage(std::move(frames));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  ASSERT_EQ(msg->payloads.size(), 1u);
  EXPECT_EQ(msg->payloads[0].data(), storage + 1) << "no aligned copy";
  std::span<const uint8_t> bytes = msg->Bytes(0);
  ASSERT_EQ(bytes.size(), sizeof(values));
  float got[3];
  std::memcpy(got, bytes.data(), sizeof(got));
  EXPECT_THAT(got, ::testing::ElementsAre(1.25f, -7.5f, 3.0f));
  EXPECT_DEATH((void)msg->Floats(0), "invariant violated");
}

TEST(SendReceiveTest, RoundTripOverInprocDealerRouter) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  ASSERT_TRUE(ApplySocketOptions(router, ServerSocketOptions(1 << 20)).ok());
  ASSERT_TRUE(ApplySocketOptions(dealer, WorkerSocketOptions()).ok());
  router.bind("inproc://t");
  dealer.connect("inproc://t");

  std::vector<float> grad = {1.5f, -2.0f, 3.25f};
  std::vector<zmq::message_t> payloads;
  payloads.push_back(CopyFrame(grad.data(), grad.size()));
  uint64_t sent = 0;
  ASSERT_TRUE(SendMessage(dealer, nullptr, PushHeader({3}), std::move(payloads), &sent).ok());
  EXPECT_GT(sent, 12u);

  zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
  ASSERT_EQ(zmq::poll(&item, 1, std::chrono::milliseconds(5000)), 1);
  std::vector<zmq::message_t> frames;
  bool received = false;
  ASSERT_TRUE(ReceiveMultipart(router, &frames, &received).ok());
  ASSERT_TRUE(received);
  ASSERT_EQ(frames.size(), 3u);  // identity, header, payload
  std::string peer(static_cast<const char*>(frames[0].data()), frames[0].size());
  frames.erase(frames.begin());
  auto msg = DecodeMessage(std::move(frames));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->header.kind(), proto::PUSH);
  EXPECT_THAT(std::vector<float>(msg->Floats(0).begin(), msg->Floats(0).end()),
              ::testing::ElementsAre(1.5f, -2.0f, 3.25f));

  // A reply to an unknown peer fails instead of vanishing (ROUTER_MANDATORY).
  std::string nobody = "nobody";
  proto::Header ack;
  ack.set_kind(proto::PUSH_ACK);
  Status s = SendMessage(router, &nobody, ack, {});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  // And to the real peer it arrives.
  ASSERT_TRUE(SendMessage(router, &peer, ack, {}).ok());
  zmq::pollitem_t ditem{dealer.handle(), 0, ZMQ_POLLIN, 0};
  ASSERT_EQ(zmq::poll(&ditem, 1, std::chrono::milliseconds(5000)), 1);
  ASSERT_TRUE(ReceiveMultipart(dealer, &frames, &received).ok());
  ASSERT_TRUE(received);
  auto reply = DecodeMessage(std::move(frames));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->header.kind(), proto::PUSH_ACK);
}

TEST(SendReceiveTest, ReceiveReturnsFalseWhenNothingQueued) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.bind("inproc://empty");
  std::vector<zmq::message_t> frames;
  bool received = true;
  ASSERT_TRUE(ReceiveMultipart(router, &frames, &received).ok());
  EXPECT_FALSE(received);
}

// A PULL_REPLY of partitions of `sizes` floats; those marked in `shared` are in a segment of
// 64 KiB, one every 4 KiB after the header page.
proto::Header PullReplyHeader(std::vector<uint64_t> sizes, std::vector<bool> shared) {
  proto::Header h = PushHeader(sizes);
  h.set_kind(proto::PULL_REPLY);
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (!shared[i]) continue;
    auto* p = h.mutable_partitions(static_cast<int>(i));
    p->set_shared(true);
    p->set_shared_offset(kSegmentDataOffset + 4096 * i);
  }
  proto::SharedSegment* seg = h.mutable_segment();
  seg->set_pid(1234);
  seg->set_fd(7);
  seg->set_id(99);
  seg->set_bytes(kSegmentDataOffset + 65536);
  seg->set_seq(4);
  return h;
}

TEST(DecodeMessageTest, PartitionsInSharedMemoryHaveNoFrame) {
  // Partitions 0 and 2 in the segment, 1 in a frame.
  auto msg = DecodeMessage(Frames(PullReplyHeader({3, 5, 2}, {true, false, true}), {20}));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  ASSERT_EQ(msg->payloads.size(), 3u) << "payloads[i] stays partition i's";
  EXPECT_EQ(msg->payloads[0].size(), 0u);
  EXPECT_EQ(msg->Bytes(1).size(), 5 * sizeof(float));
  EXPECT_EQ(msg->payloads[2].size(), 0u);
  // One frame too many: the shared partitions' frames are not expected.
  EXPECT_FALSE(
      DecodeMessage(Frames(PullReplyHeader({3, 5, 2}, {true, false, true}), {12, 20})).ok());
  auto all = DecodeMessage(Frames(PullReplyHeader({3, 5}, {true, true}), {}));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->payloads.size(), 2u);
}

TEST(DecodeMessageTest, APushMayHaveItsGradientInSharedMemory) {
  proto::Header h = PullReplyHeader({3, 5}, {true, false});
  h.set_kind(proto::PUSH);
  auto msg = DecodeMessage(Frames(h, {20}));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  ASSERT_EQ(msg->payloads.size(), 2u);
  EXPECT_EQ(msg->payloads[0].size(), 0u);
  EXPECT_EQ(msg->Floats(1).size(), 5u);
  EXPECT_TRUE(HasSharedPartitions(msg->header));
  h.mutable_partitions(0)->set_shared(false);
  EXPECT_FALSE(HasSharedPartitions(h));
}

TEST(DecodeMessageTest, RejectsSharedMemoryAnywhereButInAPullReplyOrADensePush) {
  for (proto::MessageKind kind : {proto::PULL, proto::JOIN, proto::PUSH_ACK, proto::ERROR}) {
    proto::Header h = PullReplyHeader({3}, {true});
    h.set_kind(kind);
    auto msg = DecodeMessage(Frames(h, {}));
    ASSERT_FALSE(msg.ok()) << proto::MessageKind_Name(kind);
    EXPECT_THAT(msg.status().message(), HasSubstr("shared memory on a message that carries none"));
  }
  // An encoded gradient is never in shared memory.
  proto::Header h = PullReplyHeader({3}, {true});
  h.set_kind(proto::PUSH);
  h.set_codec(proto::CODEC_FP16);
  h.mutable_partitions(0)->set_payload_bytes(6);
  auto msg = DecodeMessage(Frames(h, {}));
  ASSERT_FALSE(msg.ok());
  EXPECT_THAT(msg.status().message(), HasSubstr("shared memory on a message that carries none"));
}

TEST(DecodeMessageTest, RejectsASharedPartitionOutsideItsSegment) {
  proto::Header h = PullReplyHeader({3}, {true});
  h.mutable_partitions(0)->set_shared_offset(kSegmentDataOffset + 65536 - 8);  // 12 bytes
  auto msg = DecodeMessage(Frames(h, {}));
  ASSERT_FALSE(msg.ok());
  EXPECT_THAT(msg.status().message(), HasSubstr("of a shared segment of"));
  h.mutable_partitions(0)->set_shared_offset(kSegmentDataOffset + 4);  // not aligned
  EXPECT_FALSE(DecodeMessage(Frames(h, {})).ok());
  h.mutable_partitions(0)->set_shared_offset(0);  // the header page
  EXPECT_FALSE(DecodeMessage(Frames(h, {})).ok());
  h.mutable_partitions(0)->set_shared_offset(UINT64_MAX - 63);
  EXPECT_FALSE(DecodeMessage(Frames(h, {})).ok());
}

TEST(DecodeMessageTest, RejectsAnImpossibleSegment) {
  proto::Header no_segment = PullReplyHeader({3}, {true});
  no_segment.clear_segment();
  EXPECT_FALSE(DecodeMessage(Frames(no_segment, {})).ok());
  proto::Header odd = PullReplyHeader({3}, {true});
  odd.mutable_segment()->set_seq(5);  // a write in progress
  EXPECT_FALSE(DecodeMessage(Frames(odd, {})).ok());
  proto::Header huge = PullReplyHeader({3}, {true});
  huge.mutable_segment()->set_bytes(kMaxSegmentBytes + 1);
  EXPECT_FALSE(DecodeMessage(Frames(huge, {})).ok());
  proto::Header encoded = PullReplyHeader({3}, {true});
  encoded.set_codec(proto::CODEC_FP16);
  EXPECT_FALSE(DecodeMessage(Frames(encoded, {})).ok());
}

}  // namespace
}  // namespace ringtrain::transport
