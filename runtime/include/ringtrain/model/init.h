// Deterministic pseudo-random numbers and weight initialisation.
//
// Model initialisation must give the same bits on every process and platform, so that every
// worker and parameter server can derive the initial model from a seed alone. The standard
// library's distributions are implementation-defined, so this file uses SplitMix64 (Steele,
// Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) and maps bits to
// floats with exact integer arithmetic followed by a single IEEE-754 multiplication.
//
// Thread-safety: free functions are thread-safe; a SplitMix64 instance is a value and must not
// be shared between threads without synchronisation.
#ifndef RINGTRAIN_MODEL_INIT_H_
#define RINGTRAIN_MODEL_INIT_H_

#include <cstdint>
#include <span>

#include "ringtrain/common/random.h"

namespace ringtrain::model {

// Returns a seed for sub-stream `stream` of `seed` (e.g. one per tensor) so that streams do
// not depend on how many numbers other streams consumed.
uint64_t DeriveSeed(uint64_t seed, uint64_t stream);

// Maps 64 random bits to a float uniform on [-limit, limit): the top 24 bits select one of
// 2^24 evenly spaced points, computed exactly and scaled by one rounding multiplication.
// REQUIRES: limit is finite and >= 0.
float UniformSymmetric(uint64_t bits, float limit);

// Fills `out` with UniformSymmetric values drawn from SplitMix64(seed).
void FillUniform(uint64_t seed, float limit, std::span<float> out);

// sqrt(6 / fan_in): He (Kaiming) uniform limit, for weights followed by a ReLU.
// REQUIRES: fan_in >= 1.
float HeUniformLimit(int64_t fan_in);

// sqrt(6 / (fan_in + fan_out)): Glorot (Xavier) uniform limit, for the logits layer.
// REQUIRES: fan_in >= 1, fan_out >= 1.
float GlorotUniformLimit(int64_t fan_in, int64_t fan_out);

}  // namespace ringtrain::model

#endif  // RINGTRAIN_MODEL_INIT_H_
