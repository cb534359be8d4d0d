// SplitMix64: a small, fast pseudo-random generator with a fixed, published definition
// (Steele, Lea, Flood 2014; the seeding generator of xoshiro). Its output depends only on the
// seed, on every platform and standard library, unlike std::shuffle and the std::*_distribution
// classes, whose algorithms are implementation-defined. Use it wherever several processes must
// draw the same numbers (data order, initialisation).
//
// Thread-safety: a value; one thread at a time per instance.
#ifndef RINGTRAIN_COMMON_RANDOM_H_
#define RINGTRAIN_COMMON_RANDOM_H_

#include <cstdint>

#include "ringtrain/common/check.h"

namespace ringtrain {

class SplitMix64 {
 public:
  explicit constexpr SplitMix64(uint64_t seed) : state_(seed) {}

  constexpr uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform on [0, 1): the top 24 bits, scaled exactly.
  constexpr float NextFloat() { return static_cast<float>(Next() >> 40) * 0x1.0p-24f; }

  // Uniform in [0, bound), without modulo bias: draws below 2^64 mod bound are rejected, so
  // the accepted range is a whole multiple of bound.
  // REQUIRES: bound >= 1
  constexpr uint64_t Below(uint64_t bound) {
    RT_CHECK(bound >= 1);
    const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    for (;;) {
      const uint64_t r = Next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  uint64_t state_;
};

// The first output of SplitMix64(x): a strong 64-bit mix, used to derive seeds.
constexpr uint64_t MixSeed(uint64_t x) { return SplitMix64(x).Next(); }

}  // namespace ringtrain

#endif  // RINGTRAIN_COMMON_RANDOM_H_
