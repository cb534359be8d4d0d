#include "ringtrain/model/init.h"

#include <cmath>

#include "ringtrain/common/check.h"

namespace ringtrain::model {

uint64_t DeriveSeed(uint64_t seed, uint64_t stream) {
  // Two rounds of the SplitMix64 finaliser over a combination of both inputs; distinct
  // (seed, stream) pairs give unrelated outputs.
  SplitMix64 mix(seed ^ (stream * 0xD1B54A32D192ED03ULL));
  mix.Next();
  return mix.Next();
}

float UniformSymmetric(uint64_t bits, float limit) {
  RT_CHECK(std::isfinite(limit) && limit >= 0.0f);
  // k in [0, 2^24); n = 2k - 2^24 in [-2^24, 2^24 - 2] is exactly representable as a float,
  // and so is limit * 2^-24 (a power-of-two scaling), leaving one rounded multiplication.
  const int64_t k = static_cast<int64_t>(bits >> 40);
  const int64_t n = 2 * k - (int64_t{1} << 24);
  const float step = limit * 0x1.0p-24f;
  return static_cast<float>(n) * step;
}

void FillUniform(uint64_t seed, float limit, std::span<float> out) {
  SplitMix64 rng(seed);
  for (float& v : out) v = UniformSymmetric(rng.Next(), limit);
}

// Division and sqrt are correctly rounded in IEEE-754, so these limits are the same bits
// everywhere.
float HeUniformLimit(int64_t fan_in) {
  RT_CHECK(fan_in >= 1);
  return static_cast<float>(std::sqrt(6.0 / static_cast<double>(fan_in)));
}

float GlorotUniformLimit(int64_t fan_in, int64_t fan_out) {
  RT_CHECK(fan_in >= 1 && fan_out >= 1);
  return static_cast<float>(std::sqrt(6.0 / static_cast<double>(fan_in + fan_out)));
}

}  // namespace ringtrain::model
