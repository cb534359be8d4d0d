// SparsityWarmup: the top-k ratio to use at each step while Deep Gradient Compression warms up
// (Lin et al. 2018, "Warm-up training"): starting dense-ish and sparsifying exponentially
// keeps the early, fast-changing gradients from piling up in the residual.
//
// The warm-up starts at kWarmupStartRatio (25%) and divides the ratio by kWarmupStageFactor (4)
// at each stage until the next division would reach target_ratio:
//   S = the number of k >= 0 with 0.25 / 4^k > target_ratio        (stages)
//   step <  warmup_steps:  max(target_ratio, 0.25 / 4^floor(step * S / warmup_steps))
//   step >= warmup_steps:  target_ratio
// so the S stages split the warm-up evenly. Example (the paper's schedule, warm-up over 4
// epochs): target 0.001 gives S = 4 and ratios 25%, 6.25%, 1.5625%, 0.390625%, then 0.1%
// (sparsity 75%, 93.75%, 98.4375%, 99.6%, 99.9%). Target 0.01 gives 25%, 6.25%, 1.5625%, then
// 1%. A target >= 25% or warmup_steps == 0 means no warm-up.
//
// The decoder does not need the schedule: a topk payload's size tells its k (codec.h).
//
// Thread-safety: pure functions on a value.
#ifndef RINGTRAIN_COMPRESS_SPARSITY_WARMUP_H_
#define RINGTRAIN_COMPRESS_SPARSITY_WARMUP_H_

#include <cstdint>

#include "ringtrain/common/status.h"

namespace ringtrain::compress {

inline constexpr double kWarmupStartRatio = 0.25;
inline constexpr double kWarmupStageFactor = 4.0;

struct SparsityWarmup {
  double target_ratio = 0.01;  // in (0, 1]: CodecOptions::ratio after the warm-up
  int64_t warmup_steps = 0;    // >= 0
};

// OK, or InvalidArgument naming the field: "target_ratio: must be in (0, 1] (got 0)".
Status ValidateSparsityWarmup(const SparsityWarmup& warmup);

// S above: the number of warm-up stages before target_ratio.
// REQUIRES: target_ratio in (0, 1].
int WarmupStages(double target_ratio);

// The ratio for the 0-based step (to put in CodecOptions::ratio).
// REQUIRES: ValidateSparsityWarmup(warmup).ok(), step >= 0.
double TopKRatioAt(const SparsityWarmup& warmup, int64_t step);

}  // namespace ringtrain::compress

#endif  // RINGTRAIN_COMPRESS_SPARSITY_WARMUP_H_
