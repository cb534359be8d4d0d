// SharedSegment and SegmentReader: memory one process owns and another of the same host maps
// through /proc/<pid>/fd/<fd>, with a sequence that tells a reader whether its copy may be torn.
#include "ringtrain/transport/shared_segment.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

namespace ringtrain::transport {
namespace {

void Fill(SharedSegment& s, uint64_t offset, const std::vector<float>& values) {
  std::memcpy(s.base() + offset, values.data(), values.size() * sizeof(float));
}

std::vector<float> Read(const SegmentReader& r, uint64_t offset, size_t count) {
  std::span<const std::byte> b = r.Bytes(offset, count * sizeof(float));
  std::vector<float> out(b.size() / sizeof(float));
  std::memcpy(out.data(), b.data(), b.size());
  return out;
}

TEST(SharedSegmentTest, AReaderSeesWhatTheOwnerWrote) {
  auto segment = SharedSegment::Create("test", 1024);
  ASSERT_TRUE(segment.ok()) << segment.status().ToString();
  SharedSegment& s = **segment;
  EXPECT_EQ(s.address().bytes, kSegmentDataOffset + 1024);
  EXPECT_EQ(s.sequence(), 0u);
  s.BeginWrite();
  Fill(s, kSegmentDataOffset + 64, {1.5f, 2.5f, 3.5f});
  const uint64_t seq = s.EndWrite();
  EXPECT_EQ(seq, 2u);
  auto reader = SegmentReader::Open(s.address());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(Read(**reader, kSegmentDataOffset + 64, 3), (std::vector<float>{1.5f, 2.5f, 3.5f}));
  EXPECT_TRUE((*reader)->Unchanged(seq));
}

TEST(SharedSegmentTest, AWriteDuringACopyChangesTheSequence) {
  auto s = SharedSegment::Create("test", 256).value();
  s->BeginWrite();
  const uint64_t seq = s->EndWrite();
  auto reader = SegmentReader::Open(s->address()).value();
  s->BeginWrite();  // the owner writes while the reader copies
  EXPECT_FALSE(reader->Unchanged(seq));
  const uint64_t after = s->EndWrite();
  EXPECT_FALSE(reader->Unchanged(seq));
  EXPECT_TRUE(reader->Unchanged(after));
  EXPECT_EQ(after % 2, 0u);
}

TEST(SharedSegmentTest, BytesOutsideTheDataAreEmpty) {
  auto s = SharedSegment::Create("test", 256).value();
  auto reader = SegmentReader::Open(s->address()).value();
  EXPECT_EQ(reader->Bytes(kSegmentDataOffset, 256).size(), 256u);
  EXPECT_TRUE(reader->Bytes(0, 16).empty()) << "the header is not data";
  EXPECT_TRUE(reader->Bytes(kSegmentDataOffset + 128, 129).empty());
  EXPECT_TRUE(reader->Bytes(kSegmentDataOffset + 257, 0).empty());
  EXPECT_TRUE(reader->Bytes(UINT64_MAX - 2, 8).empty());
}

TEST(SharedSegmentTest, OpenRefusesAnotherSegmentUnderTheSameFd) {
  auto s = SharedSegment::Create("test", 256).value();
  SegmentAddress other = s->address();
  other.id ^= 1;  // another process's segment after a pid was reused
  auto reader = SegmentReader::Open(other);
  EXPECT_EQ(reader.status().code(), StatusCode::kDataLoss) << reader.status().ToString();
  other = s->address();
  other.bytes += 4096;
  EXPECT_EQ(SegmentReader::Open(other).status().code(), StatusCode::kDataLoss);
}

TEST(SharedSegmentTest, OpenSaysWhatItCannotOpen) {
  auto s = SharedSegment::Create("test", 256).value();
  SegmentAddress missing = s->address();
  missing.fd = 1 << 20;  // no such descriptor
  auto reader = SegmentReader::Open(missing);
  EXPECT_EQ(reader.status().code(), StatusCode::kUnavailable) << reader.status().ToString();
  EXPECT_NE(reader.status().message().find("/proc/"), std::string::npos);
  SegmentAddress impossible = s->address();
  impossible.bytes = 0;
  EXPECT_EQ(SegmentReader::Open(impossible).status().code(), StatusCode::kDataLoss);
  impossible.bytes = kMaxSegmentBytes + 1;
  EXPECT_EQ(SegmentReader::Open(impossible).status().code(), StatusCode::kDataLoss);
}

TEST(SharedSegmentTest, AMappingOutlivesTheOwner) {
  auto s = SharedSegment::Create("test", 256).value();
  Fill(*s, kSegmentDataOffset, {7.0f});
  auto reader = SegmentReader::Open(s->address()).value();
  s.reset();
  EXPECT_EQ(Read(*reader, kSegmentDataOffset, 1), std::vector<float>{7.0f});
}

TEST(SharedSegmentTest, AnotherProcessReadsIt) {
  auto s = SharedSegment::Create("test", 256).value();
  s->BeginWrite();
  Fill(*s, kSegmentDataOffset, {42.0f});
  const uint64_t seq = s->EndWrite();
  const SegmentAddress address = s->address();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only async-signal-safe work would be strictly allowed here; opening and mapping are
    // system calls, and the child exits without running anything of the test's.
    auto reader = SegmentReader::Open(address);
    float v = 0;
    if (reader.ok()) std::memcpy(&v, (*reader)->Bytes(kSegmentDataOffset, 4).data(), 4);
    _exit(reader.ok() && v == 42.0f && (*reader)->Unchanged(seq) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child could not read the parent's segment";
}

}  // namespace
}  // namespace ringtrain::transport
