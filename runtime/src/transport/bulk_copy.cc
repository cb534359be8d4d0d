#include "ringtrain/transport/bulk_copy.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace ringtrain::transport {

namespace internal {

void CopyInChunks(void* dst, const void* src, size_t bytes, bool vector_moves) {
  if (bytes == 0) return;
  auto* to = static_cast<unsigned char*>(dst);
  const auto* from = static_cast<const unsigned char*>(src);
  constexpr size_t kChunk = 32;
  size_t done = 0;
#if defined(__AVX__)
  if (vector_moves) {
    // Up to the destination's first 32-byte boundary as one small copy, then unaligned loads
    // and aligned stores (a store that crosses a cache line costs more than such a load).
    const auto misaligned = static_cast<size_t>(reinterpret_cast<uintptr_t>(to) % kChunk);
    done = std::min(bytes, (kChunk - misaligned) % kChunk);
    std::memcpy(to, from, done);
    for (; bytes - done >= kChunk; done += kChunk) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(from + done));
      _mm256_store_si256(reinterpret_cast<__m256i*>(to + done), v);
    }
  }
#endif
  for (; bytes - done >= kChunk; done += kChunk) std::memcpy(to + done, from + done, kChunk);
  std::memcpy(to + done, from + done, bytes - done);
}

}  // namespace internal

void CopyBulk(void* dst, const void* src, size_t bytes) {
  const auto at = [](const void* p) { return reinterpret_cast<uintptr_t>(p); };
  if (bytes == 0) return;
  // How far the destination is ahead of the source within a 64-byte line: memcpy's `rep movsb`
  // is slowed from 1 to 31 (see the header). The chunks move bytes, whatever either address's
  // alignment (a NaN stays the NaN: no float is loaded).
  const uintptr_t ahead = (at(dst) - at(src)) % 64;
  if (ahead == 0 || ahead >= 32) {
    std::memcpy(dst, src, bytes);
    return;
  }
  internal::CopyInChunks(dst, src, bytes, /*vector_moves=*/true);
}

}  // namespace ringtrain::transport
