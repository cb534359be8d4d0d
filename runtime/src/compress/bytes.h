// Internal to the compress library: little-endian loads and stores at arbitrary (unaligned)
// offsets. Written with shifts so that they are correct on any host; compilers turn them into
// plain moves on little-endian machines.
#ifndef RINGTRAIN_SRC_COMPRESS_BYTES_H_
#define RINGTRAIN_SRC_COMPRESS_BYTES_H_

#include <bit>
#include <cstdint>

namespace ringtrain::compress::internal {

inline void StoreU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

inline uint16_t LoadU16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (static_cast<uint16_t>(p[1]) << 8));
}

inline void StoreU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

inline uint32_t LoadU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

inline void StoreF32(uint8_t* p, float v) { StoreU32(p, std::bit_cast<uint32_t>(v)); }
inline float LoadF32(const uint8_t* p) { return std::bit_cast<float>(LoadU32(p)); }

}  // namespace ringtrain::compress::internal

#endif  // RINGTRAIN_SRC_COMPRESS_BYTES_H_
