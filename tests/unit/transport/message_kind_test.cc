#include "ringtrain/transport/message_kind.h"

#include <gtest/gtest.h>

namespace ringtrain::transport {
namespace {

constexpr RequestKind kRequests[] = {
    RequestKind::kPush, RequestKind::kPull, RequestKind::kWorkerDone, RequestKind::kStats,
    RequestKind::kJoin, RequestKind::kTask, RequestKind::kMargins};

TEST(MessageKindTest, RequestsRoundTripThroughTheirWireKind) {
  for (RequestKind r : kRequests) {
    SCOPED_TRACE(KindName(r));
    EXPECT_EQ(RequestOf(KindOf(r)), r);
  }
}

TEST(MessageKindTest, RepliesAreNotRequests) {
  for (RequestKind r : kRequests) {
    SCOPED_TRACE(KindName(r));
    EXPECT_EQ(RequestOf(ReplyKindOf(r)), std::nullopt);
  }
  EXPECT_EQ(RequestOf(proto::ERROR), std::nullopt);
  EXPECT_EQ(RequestOf(proto::KIND_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(RequestOf(static_cast<proto::MessageKind>(77)), std::nullopt);
}

TEST(MessageKindTest, ReplyKinds) {
  EXPECT_EQ(ReplyKindOf(RequestKind::kPush), proto::PUSH_ACK);
  EXPECT_EQ(ReplyKindOf(RequestKind::kPull), proto::PULL_REPLY);
  EXPECT_EQ(ReplyKindOf(RequestKind::kWorkerDone), proto::DONE_ACK);
  EXPECT_EQ(ReplyKindOf(RequestKind::kStats), proto::STATS_REPLY);
  EXPECT_EQ(ReplyKindOf(RequestKind::kMargins), proto::MARGINS_REPLY);
}

TEST(MessageKindTest, OnlyMarginsCarryMargins) {
  for (int k = proto::MessageKind_MIN; k <= proto::MessageKind_MAX; ++k) {
    const auto kind = static_cast<proto::MessageKind>(k);
    SCOPED_TRACE(KindName(kind));
    EXPECT_EQ(CarriesMargins(kind), kind == proto::MARGINS || kind == proto::MARGINS_REPLY);
  }
}

TEST(MessageKindTest, OnlyGradientsAndParametersCarryPayloads) {
  for (int k = proto::MessageKind_MIN; k <= proto::MessageKind_MAX; ++k) {
    const auto kind = static_cast<proto::MessageKind>(k);
    SCOPED_TRACE(KindName(kind));
    EXPECT_EQ(CarriesPayload(kind), kind == proto::PUSH || kind == proto::PULL_REPLY);
  }
}

TEST(MessageKindTest, NamesKnownAndUnknownKinds) {
  EXPECT_EQ(KindName(proto::PULL_REPLY), "PULL_REPLY");
  EXPECT_EQ(KindName(RequestKind::kWorkerDone), "WORKER_DONE");
  EXPECT_EQ(KindName(static_cast<proto::MessageKind>(77)), "kind 77");
}

}  // namespace
}  // namespace ringtrain::transport
