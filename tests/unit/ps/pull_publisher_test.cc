// PullPublisher: pull replies of partitions a server owns go into its shared memory once per
// version, frames of anything else stay, and a reader's copy of an older version is found torn.
#include "ringtrain/ps/pull_publisher.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/transport/message.h"

namespace ringtrain::ps {
namespace {

// Two servers; partitions of 4 floats over 24 parameters.
std::shared_ptr<const ring::PartitionTable> Table() {
  auto ring = ring::HashRing::Make({"ps-0", "ps-1"}).value();
  auto t = ring::PartitionTable::Build({{"w", 0, 24}}, 4, ring).value();
  return std::make_shared<const ring::PartitionTable>(std::move(t));
}

// A PULL_REPLY of `ids` at `version`, partition id i filled with value + i, and one sparse
// frame after them; marked shared_ok as the core marks a reply to a pull that asked.
Reply MakeReply(const ring::PartitionTable& table, const std::vector<uint32_t>& ids,
                int64_t version, float value, bool shared_ok = true) {
  Reply r;
  r.peer = "w0";
  r.header.set_wire_version(proto::WIRE_VERSION_1);
  r.header.set_kind(proto::PULL_REPLY);
  r.header.set_shared_ok(shared_ok);
  for (uint32_t id : ids) {
    const int64_t n = table.partition(id).size;
    proto::PartitionSlice* s = r.header.add_partitions();
    s->set_id(id);
    s->set_num_elements(static_cast<uint64_t>(n));
    s->set_payload_bytes(static_cast<uint64_t>(n) * sizeof(float));
    s->set_version(version);
    std::vector<float> v(static_cast<size_t>(n), value + static_cast<float>(id));
    r.payloads.push_back(transport::CopyFrame(v.data(), v.size()));
  }
  r.payloads.emplace_back("sparse", 6);
  return r;
}

class PullPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = Table();
    owned_ = table_->partitions_of(0);
    other_ = table_->partitions_of(1);
    ASSERT_FALSE(owned_.empty());
    ASSERT_FALSE(other_.empty());
  }

  // The floats of partition slice i of `r`, read through a reader of its segment.
  std::vector<float> SharedValues(const Reply& r, int i) {
    const proto::SharedSegment& seg = r.header.segment();
    if (reader_ == nullptr || reader_->address() != transport::AddressOf(seg)) {
      reader_ = transport::SegmentReader::Open(transport::AddressOf(seg)).value();
    }
    const proto::PartitionSlice& s = r.header.partitions(i);
    std::span<const std::byte> b = reader_->Bytes(s.shared_offset(), s.payload_bytes());
    std::vector<float> out(b.size() / sizeof(float));
    std::memcpy(out.data(), b.data(), b.size());
    return out;
  }

  std::shared_ptr<const ring::PartitionTable> table_;
  std::vector<uint32_t> owned_;
  std::vector<uint32_t> other_;
  std::unique_ptr<transport::SegmentReader> reader_;
  std::vector<std::string> log_;
  PullPublisher publisher_{Table(), 0, [this](const std::string& l) { log_.push_back(l); }};
};

TEST_F(PullPublisherTest, OwnedPartitionsGoIntoTheSegmentAndTheirFramesAway) {
  Reply r = MakeReply(*table_, owned_, 3, 10.0f);
  publisher_.Publish(/*generation=*/0, &r);
  EXPECT_FALSE(r.header.shared_ok());
  ASSERT_TRUE(r.header.has_segment());
  EXPECT_EQ(r.header.segment().seq() % 2, 0u);
  ASSERT_EQ(r.payloads.size(), 1u) << "only the sparse frame is left";
  EXPECT_EQ(r.payloads[0].to_string(), "sparse");
  for (int i = 0; i < r.header.partitions_size(); ++i) {
    const proto::PartitionSlice& s = r.header.partitions(i);
    EXPECT_TRUE(s.shared());
    EXPECT_EQ(s.shared_offset() % transport::kSharedAlignment, 0u);
    EXPECT_EQ(SharedValues(r, i), std::vector<float>(4, 10.0f + static_cast<float>(s.id())));
  }
  EXPECT_EQ(publisher_.bytes_written(), owned_.size() * 4 * sizeof(float));
  EXPECT_EQ(publisher_.bytes_shared(), owned_.size() * 4 * sizeof(float));
  // What a worker decodes (without the sparse frame, which no slice of this header lists).
  std::vector<zmq::message_t> frames;
  frames.emplace_back(r.header.SerializeAsString());
  auto decoded = transport::DecodeMessage(std::move(frames));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->payloads.size(), owned_.size());
}

TEST_F(PullPublisherTest, ASecondReplyOfTheSameVersionCostsNoCopy) {
  Reply first = MakeReply(*table_, owned_, 5, 1.0f);
  publisher_.Publish(0, &first);
  const uint64_t written = publisher_.bytes_written();
  Reply second = MakeReply(*table_, owned_, 5, 1.0f);
  publisher_.Publish(0, &second);
  EXPECT_EQ(publisher_.bytes_written(), written);
  EXPECT_EQ(second.header.segment().seq(), first.header.segment().seq());
  EXPECT_EQ(publisher_.bytes_shared(), 2 * written);
}

TEST_F(PullPublisherTest, ANewerVersionIsWrittenAndAnOlderCopyIsFoundTorn) {
  Reply old_reply = MakeReply(*table_, owned_, 5, 1.0f);
  publisher_.Publish(0, &old_reply);
  ASSERT_EQ(SharedValues(old_reply, 0)[0], 1.0f + static_cast<float>(owned_[0]));
  Reply newer = MakeReply(*table_, owned_, 6, 2.0f);
  publisher_.Publish(0, &newer);
  EXPECT_GT(newer.header.segment().seq(), old_reply.header.segment().seq());
  EXPECT_EQ(SharedValues(newer, 0)[0], 2.0f + static_cast<float>(owned_[0]));
  EXPECT_FALSE(reader_->Unchanged(old_reply.header.segment().seq()))
      << "a worker that copied the older reply must pull again";
  EXPECT_TRUE(reader_->Unchanged(newer.header.segment().seq()));
}

TEST_F(PullPublisherTest, ANewGenerationOfTheSameVersionIsWrittenAgain) {
  Reply before = MakeReply(*table_, owned_, 5, 1.0f);
  publisher_.Publish(0, &before);
  Reply restored = MakeReply(*table_, owned_, 5, 7.0f);  // same version, another history
  publisher_.Publish(1, &restored);
  EXPECT_EQ(SharedValues(restored, 0)[0], 7.0f + static_cast<float>(owned_[0]));
}

TEST_F(PullPublisherTest, PartitionsItDoesNotOwnKeepTheirFrames) {
  std::vector<uint32_t> ids = {owned_[0], other_[0]};
  Reply r = MakeReply(*table_, ids, 1, 0.0f);
  publisher_.Publish(0, &r);
  EXPECT_TRUE(r.header.partitions(0).shared());
  EXPECT_FALSE(r.header.partitions(1).shared());
  ASSERT_EQ(r.payloads.size(), 2u);
  EXPECT_EQ(r.payloads[0].size(), 4 * sizeof(float)) << "the other server's partition";
  EXPECT_EQ(r.payloads[1].to_string(), "sparse");
}

TEST_F(PullPublisherTest, RepliesToPullsThatDidNotAskStayAsTheyAre) {
  Reply r = MakeReply(*table_, owned_, 1, 0.0f, /*shared_ok=*/false);
  publisher_.Publish(0, &r);
  EXPECT_FALSE(r.header.has_segment());
  EXPECT_EQ(r.payloads.size(), owned_.size() + 1);
  EXPECT_EQ(publisher_.segment(), nullptr) << "no memory until a worker asks";
  Reply ack;
  ack.header.set_kind(proto::PUSH_ACK);
  ack.header.set_shared_ok(true);
  publisher_.Publish(0, &ack);
  EXPECT_FALSE(ack.header.shared_ok());
  EXPECT_FALSE(ack.header.has_segment());
  EXPECT_TRUE(log_.empty());
}

}  // namespace
}  // namespace ringtrain::ps
