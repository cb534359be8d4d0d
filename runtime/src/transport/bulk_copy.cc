#include "ringtrain/transport/bulk_copy.h"

#include <Eigen/Core>
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
    for (; done + kChunk <= bytes; done += kChunk) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(from + done));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + done), v);
    }
  }
#endif
  for (; done + kChunk <= bytes; done += kChunk) std::memcpy(to + done, from + done, kChunk);
  std::memcpy(to + done, from + done, bytes - done);
}

}  // namespace internal

void CopyBulk(void* dst, const void* src, size_t bytes) {
  const auto at = [](const void* p) { return reinterpret_cast<uintptr_t>(p); };
  if (bytes == 0) return;
  // How far the destination is ahead of the source within a 64-byte line: memcpy's `rep movsb`
  // is slowed from 1 to 31 (see the header), and floats are read only at float-aligned addresses.
  const uintptr_t ahead = (at(dst) - at(src)) % 64;
  if (ahead == 0 || ahead >= 32) {
    std::memcpy(dst, src, bytes);
    return;
  }
  if (at(dst) % alignof(float) != 0 || at(src) % alignof(float) != 0) {
    // Not as floats (a small frame where libzmq's receive buffer put it): 32 bytes at a time as
    // bytes. (A loop of fixed-size memcpys became two 16-byte moves a chunk with GCC 12, 27-36
    // GB/s at 3 KiB where AVX's moves make 105.)
    internal::CopyInChunks(dst, src, bytes, /*vector_moves=*/true);
    return;
  }
  const auto words = static_cast<Eigen::Index>(bytes / sizeof(float));
  // As floats: Eigen's packet loop moves bits, it does no arithmetic (a NaN stays the NaN).
  Eigen::Map<Eigen::ArrayXf>(static_cast<float*>(dst), words) =
      Eigen::Map<const Eigen::ArrayXf>(static_cast<const float*>(src), words);
  const size_t done = static_cast<size_t>(words) * sizeof(float);
  if (done < bytes) {
    std::memcpy(static_cast<std::byte*>(dst) + done, static_cast<const std::byte*>(src) + done,
                bytes - done);
  }
}

}  // namespace ringtrain::transport
