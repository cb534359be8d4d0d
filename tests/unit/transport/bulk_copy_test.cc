// CopyBulk: every byte arrives as it was, at any offset of either address and any length, the
// float-aligned ones (Eigen's vector loop) and the others (memcpy) alike.
#include "ringtrain/transport/bulk_copy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace ringtrain::transport {
namespace {

std::vector<unsigned char> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> out(n);
  for (unsigned char& b : out) b = static_cast<unsigned char>(rng());
  return out;
}

// Copies `bytes` from src_offset of a random buffer to dst_offset of another and checks the
// copy, and that nothing around it was written.
void ExpectCopied(size_t src_offset, size_t dst_offset, size_t bytes) {
  constexpr size_t kGuard = 64;
  alignas(64) static unsigned char src[kGuard + 300000 + kGuard];
  alignas(64) static unsigned char dst[kGuard + 300000 + kGuard];
  ASSERT_LE(src_offset + bytes, sizeof(src) - kGuard);
  static const std::vector<unsigned char> random = RandomBytes(sizeof(src), 42);
  std::memcpy(src, random.data(), sizeof(src));
  std::memset(dst, 0xA5, sizeof(dst));
  CopyBulk(dst + kGuard + dst_offset, src + src_offset, bytes);
  EXPECT_EQ(std::memcmp(dst + kGuard + dst_offset, src + src_offset, bytes), 0)
      << bytes << " bytes from offset " << src_offset << " to " << dst_offset;
  for (size_t i = 0; i < sizeof(dst); ++i) {
    if (i >= kGuard + dst_offset && i < kGuard + dst_offset + bytes) continue;
    ASSERT_EQ(dst[i], 0xA5) << "byte " << i << " written outside the copy of " << bytes
                            << " bytes from offset " << src_offset << " to " << dst_offset;
  }
}

TEST(BulkCopyTest, CopiesEveryByteAtEveryOffsetAndLength) {
  // Lengths around Eigen's packets (8 floats) and glibc's `rep movsb` threshold (~2 KiB), and a
  // parameter partition's 256 KiB; offsets of both float-aligned and not.
  for (size_t bytes :
       {size_t{0}, size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{31}, size_t{32}, size_t{33},
        size_t{36}, size_t{2112}, size_t{2115}, size_t{262144}, size_t{262147}}) {
    for (size_t src_offset : {0, 1, 4, 16, 32, 60}) {
      for (size_t dst_offset : {0, 2, 4, 8, 16, 48}) ExpectCopied(src_offset, dst_offset, bytes);
    }
  }
}

TEST(BulkCopyTest, FloatsKeepTheirBitsNaNsInfinitiesAndDenormalsIncluded) {
  // A signalling NaN would come out quiet through arithmetic or x87 loads; a copy keeps it.
  const std::vector<uint32_t> bits = {0x7FA00001u, 0xFFC00000u, 0x7F800000u, 0xFF800000u,
                                      0x00000001u, 0x80000000u, 0x3F800000u, 0x7FBFFFFFu,
                                      0x7FC12345u, 0x807FFFFFu, 0x00000000u};
  std::vector<uint32_t> src;
  for (int r = 0; r < 100; ++r) src.insert(src.end(), bits.begin(), bits.end());
  std::vector<uint32_t> dst(src.size() + 1, 0);
  // One element in, so the destination is 4 bytes off the source's alignment.
  CopyBulk(dst.data() + 1, src.data(), src.size() * sizeof(uint32_t));
  for (size_t i = 0; i < src.size(); ++i) ASSERT_EQ(dst[i + 1], src[i]) << "element " << i;
  EXPECT_EQ(dst[0], 0u);
  static_assert(std::numeric_limits<float>::has_signaling_NaN);
}

}  // namespace
}  // namespace ringtrain::transport
