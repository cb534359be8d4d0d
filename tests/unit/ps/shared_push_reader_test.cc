// SharedPushReader: a PUSH whose gradient is in its worker's shared memory becomes a PUSH of
// frames holding a copy of it; a copy the worker wrote over, memory that cannot be opened and a
// sender that is not a worker are refused; a replacement worker's new segment is opened again.
#include "ringtrain/ps/shared_push_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

namespace ringtrain::ps {
namespace {

using transport::kSegmentDataOffset;

// A worker's segment holding partitions of `sizes` floats, partition i at
// kSegmentDataOffset + 4096 * i filled with value + i.
class WorkerMemory {
 public:
  WorkerMemory(std::vector<uint64_t> sizes, float value) : sizes_(std::move(sizes)) {
    segment_ = transport::SharedSegment::Create("test-worker", 4096 * sizes_.size()).value();
    Write(value);
  }

  void Write(float value) {
    segment_->BeginWrite();
    for (size_t i = 0; i < sizes_.size(); ++i) {
      std::vector<float> v(sizes_[i], value + static_cast<float>(i));
      std::memcpy(segment_->base() + Offset(i), v.data(), v.size() * sizeof(float));
    }
    seq_ = segment_->EndWrite();
  }

  static uint64_t Offset(size_t i) { return kSegmentDataOffset + 4096 * i; }

  // A decoded PUSH from `sender` naming every partition in the segment but those in `framed`,
  // which carry a frame of 7s.
  transport::Message Push(uint32_t sender, std::vector<bool> framed = {}) const {
    framed.resize(sizes_.size(), false);
    proto::Header h;
    h.set_wire_version(proto::WIRE_VERSION_1);
    h.set_kind(proto::PUSH);
    h.set_job("j");
    h.set_sender(sender);
    std::vector<zmq::message_t> frames;
    for (size_t i = 0; i < sizes_.size(); ++i) {
      proto::PartitionSlice* s = h.add_partitions();
      s->set_id(static_cast<uint32_t>(i));
      s->set_num_elements(sizes_[i]);
      s->set_payload_bytes(sizes_[i] * sizeof(float));
      if (framed[i]) {
        std::vector<float> sevens(sizes_[i], 7.0f);
        frames.push_back(transport::CopyFrame(sevens.data(), sevens.size()));
        continue;
      }
      s->set_shared(true);
      s->set_shared_offset(Offset(i));
    }
    transport::SetSegment(segment_->address(), seq_, h.mutable_segment());
    std::vector<zmq::message_t> all;
    const std::string head = h.SerializeAsString();
    all.emplace_back(head.data(), head.size());
    for (auto& f : frames) all.push_back(std::move(f));
    return transport::DecodeMessage(std::move(all)).value();
  }

 private:
  std::vector<uint64_t> sizes_;
  std::unique_ptr<transport::SharedSegment> segment_;
  uint64_t seq_ = 0;
};

void ExpectValues(const transport::Message& msg, size_t i, float value) {
  std::span<const float> got = msg.Floats(i);
  ASSERT_FALSE(got.empty());
  for (float f : got) EXPECT_EQ(f, value);
}

TEST(SharedPushReaderTest, CopiesTheSharedPartitionsIntoFrames) {
  WorkerMemory memory({16, 3, 8}, 1.0f);
  SharedPushReader reader(/*num_workers=*/2);
  transport::Message msg = memory.Push(1, {false, true, false});
  ASSERT_TRUE(reader.Resolve(&msg).ok());
  EXPECT_FALSE(transport::HasSharedPartitions(msg.header));
  EXPECT_FALSE(msg.header.has_segment()) << "a forward to a backup names no memory";
  ExpectValues(msg, 0, 1.0f);
  ExpectValues(msg, 1, 7.0f);  // its frame, untouched
  ExpectValues(msg, 2, 3.0f);
  EXPECT_EQ(msg.header.partitions(0).shared_offset(), 0u);
  EXPECT_EQ(reader.bytes_read(), (16 + 8) * sizeof(float));
  // The next push of the same process: mapped once.
  memory.Write(5.0f);
  transport::Message next = memory.Push(1);
  ASSERT_TRUE(reader.Resolve(&next).ok());
  ExpectValues(next, 1, 6.0f);
  EXPECT_EQ(reader.segments_opened(), 1u);
}

TEST(SharedPushReaderTest, RefusesACopyTheWorkerWroteOver) {
  WorkerMemory memory({16}, 1.0f);
  SharedPushReader reader(1);
  transport::Message stale = memory.Push(0);
  memory.Write(2.0f);  // the worker's next gradient, before this push was read
  Status s = reader.Resolve(&stale);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("written while it was read"), std::string::npos) << s.message();
  EXPECT_EQ(reader.bytes_read(), 0u);
}

TEST(SharedPushReaderTest, RefusesMemoryItCannotOpenAndSendersThatAreNotWorkers) {
  WorkerMemory memory({16}, 1.0f);
  SharedPushReader reader(1);
  transport::Message elsewhere = memory.Push(0);
  elsewhere.header.mutable_segment()->set_fd(1 << 20);  // as from another PID namespace
  EXPECT_EQ(reader.Resolve(&elsewhere).code(), StatusCode::kUnavailable);
  transport::Message other_id = memory.Push(0);
  other_id.header.mutable_segment()->set_id(other_id.header.segment().id() + 1);  // a reused pid
  EXPECT_EQ(reader.Resolve(&other_id).code(), StatusCode::kDataLoss);
  transport::Message stranger = memory.Push(1);
  Status s = reader.Resolve(&stranger);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(reader.segments_opened(), 0u);
}

TEST(SharedPushReaderTest, AReplacementWorkersSegmentIsOpenedAgain) {
  SharedPushReader reader(1);
  {
    WorkerMemory first({16}, 1.0f);
    transport::Message msg = first.Push(0);
    ASSERT_TRUE(reader.Resolve(&msg).ok());
  }
  WorkerMemory replacement({16}, 4.0f);
  transport::Message msg = replacement.Push(0);
  ASSERT_TRUE(reader.Resolve(&msg).ok());
  ExpectValues(msg, 0, 4.0f);
  EXPECT_EQ(reader.segments_opened(), 2u);
}

}  // namespace
}  // namespace ringtrain::ps
