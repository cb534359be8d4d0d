// CopyBulk: every byte arrives as it was, at any offset of either address and any length: those
// 1 to 31 bytes apart within a line (32-byte copies) and the rest (memcpy) alike.
#include "ringtrain/transport/bulk_copy.h"

#include <gtest/gtest.h>

#include <cstddef>
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

// Copies `bytes` from src_offset of a random buffer to dst_offset of another with `copy` and
// checks the copy, and that the 64 bytes on either side of it were not written.
void ExpectCopied(size_t src_offset, size_t dst_offset, size_t bytes,
                  void (*copy)(void*, const void*, size_t) = &CopyBulk) {
  constexpr size_t kGuard = 64;
  constexpr size_t kSize = kGuard + 300000 + kGuard;
  alignas(64) static unsigned char src[kSize];
  alignas(64) static unsigned char dst[kSize];
  ASSERT_LE(src_offset + bytes, kSize - kGuard);
  static const std::vector<unsigned char> random = RandomBytes(kSize, 42);
  std::memcpy(src, random.data(), kSize);
  unsigned char* to = dst + kGuard + dst_offset;
  std::memset(to - kGuard, 0xA5, bytes + 2 * kGuard);
  copy(to, src + src_offset, bytes);
  EXPECT_EQ(std::memcmp(to, src + src_offset, bytes), 0)
      << bytes << " bytes from offset " << src_offset << " to " << dst_offset;
  for (size_t i = 0; i < kGuard; ++i) {
    ASSERT_EQ(to[-1 - static_cast<std::ptrdiff_t>(i)], 0xA5)
        << "written before the copy of " << bytes << " bytes from offset " << src_offset << " to "
        << dst_offset;
    ASSERT_EQ(to[bytes + i], 0xA5) << "written after the copy of " << bytes << " bytes from offset "
                                   << src_offset << " to " << dst_offset;
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

// The copy of addresses that are not float-aligned, with AVX's moves (in builds with AVX; the
// same path twice otherwise) and with the fixed-size memcpys builds without AVX run: whole
// chunks, and tails of 0, 1 and 31 bytes. (What only costs speed, e.g. the AVX path compiled
// out, is bulk_copy_bench's to show.)
TEST(BulkCopyTest, TheChunkedCopyIsRightWithAndWithoutVectorMoves) {
  const auto with_avx = [](void* d, const void* s, size_t n) {
    internal::CopyInChunks(d, s, n, /*vector_moves=*/true);
  };
  const auto with_memcpys = [](void* d, const void* s, size_t n) {
    internal::CopyInChunks(d, s, n, /*vector_moves=*/false);
  };
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{63},
                       size_t{64}, size_t{95}, size_t{2112}, size_t{3137}}) {
    for (size_t src_offset : {0, 1, 3, 33}) {
      for (size_t dst_offset : {0, 2, 5}) {
        {
          SCOPED_TRACE("vector_moves=true");
          ExpectCopied(src_offset, dst_offset, bytes, with_avx);
        }
        {
          SCOPED_TRACE("vector_moves=false");
          ExpectCopied(src_offset, dst_offset, bytes, with_memcpys);
        }
      }
    }
  }
}

TEST(BulkCopyTest, FloatsKeepTheirBitsNaNsInfinitiesAndDenormalsIncluded) {
  // A signalling NaN would come out quiet through arithmetic or x87 loads; a copy keeps it.
  const std::vector<uint32_t> bits = {0x7FA00001u, 0xFFC00000u, 0x7F800000u, 0xFF800000u,
                                      0x00000001u, 0x80000000u, 0x3F800000u, 0x7FBFFFFFu,
                                      0x7FC12345u, 0x807FFFFFu, 0x00000000u};
  std::vector<float> src(100 * bits.size());
  for (size_t i = 0; i < src.size(); ++i) {
    std::memcpy(&src[i], &bits[i % bits.size()], sizeof(float));
  }
  std::vector<float> dst(src.size() + 1, 0.0f);
  // One element in, so the destination is 4 bytes ahead of the source's alignment (the vector
  // loop's case, not memcpy's).
  CopyBulk(dst.data() + 1, src.data(), src.size() * sizeof(float));
  for (size_t i = 0; i < src.size(); ++i) {
    uint32_t got = 0;
    std::memcpy(&got, &dst[i + 1], sizeof(got));
    ASSERT_EQ(got, bits[i % bits.size()]) << "element " << i;
  }
  EXPECT_EQ(dst[0], 0.0f);
  static_assert(std::numeric_limits<float>::has_signaling_NaN);
}

}  // namespace
}  // namespace ringtrain::transport
