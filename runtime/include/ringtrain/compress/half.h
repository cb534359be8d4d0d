// IEEE 754 binary16 ("half") conversions used by the fp16 codec, written out in integer
// arithmetic so that they do not depend on compiler support for _Float16 or on the FPU's
// rounding mode.
//
// FloatToHalf rounds to nearest, ties to even, except that finite values whose rounding would
// overflow (|x| >= 65520) saturate to +-65504 (0x7BFF). +-inf map to +-inf (0x7C00); NaN maps to
// a quiet NaN with the same sign and the top 9 bits of its payload. Results below the smallest
// normal half (2^-14) are half subnormals; |x| <= 2^-25 gives a zero of x's sign.
// HalfToFloat is exact (every half is a float), NaN payloads included.
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_COMPRESS_HALF_H_
#define RINGTRAIN_COMPRESS_HALF_H_

#include <bit>
#include <cstdint>

namespace ringtrain::compress {

inline constexpr uint16_t kHalfMax = 0x7BFF;       // 65504
inline constexpr uint16_t kHalfInfinity = 0x7C00;  // +inf

constexpr uint16_t FloatToHalf(float x) {
  const uint32_t f = std::bit_cast<uint32_t>(x);
  const auto sign = static_cast<uint16_t>((f >> 16) & 0x8000u);
  const uint32_t a = f & 0x7FFFFFFFu;
  if (a > 0x7F800000u) {  // NaN: keep the top payload bits, force the quiet bit
    return static_cast<uint16_t>(sign | kHalfInfinity | 0x0200u | ((a >> 13) & 0x03FFu));
  }
  if (a == 0x7F800000u) return static_cast<uint16_t>(sign | kHalfInfinity);
  if (a >= 0x477FF000u) return static_cast<uint16_t>(sign | kHalfMax);  // rounds to >= 65536
  if (a >= 0x38800000u) {  // normal half: rebias the exponent (127 -> 15), round 13 bits away
    uint32_t h = (a - 0x38000000u) >> 13;
    const uint32_t rest = a & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0)) ++h;  // a carry bumps the exponent
    return static_cast<uint16_t>(sign | h);
  }
  if (a <= 0x33000000u) return sign;  // |x| <= 2^-25: rounds to zero (2^-25 ties to even 0)
  // Half subnormal: the result is round(|x| / 2^-24). |x| = m * 2^(e - 150) with the implicit
  // bit in m, and e in [102, 112] here, so the quotient is m >> (126 - e) plus rounding.
  const uint32_t e = a >> 23;
  const uint32_t m = (a & 0x007FFFFFu) | 0x00800000u;
  const uint32_t shift = 126 - e;  // in [14, 24]
  uint32_t h = m >> shift;
  const uint32_t rest = m & ((1u << shift) - 1);
  const uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (h & 1u) != 0)) ++h;  // 0x3FF + 1 is 2^-14, normal
  return static_cast<uint16_t>(sign | h);
}

constexpr float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1Fu;
  const uint32_t m = h & 0x03FFu;
  if (e == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (m << 13));  // inf, NaN
  if (e != 0) return std::bit_cast<float>(sign | ((e + 112) << 23) | (m << 13));
  const float magnitude = static_cast<float>(m) * 0x1.0p-24f;  // subnormal or zero, exact
  return sign != 0 ? -magnitude : magnitude;
}

}  // namespace ringtrain::compress

#endif  // RINGTRAIN_COMPRESS_HALF_H_
