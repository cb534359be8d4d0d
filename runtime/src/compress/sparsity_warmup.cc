#include "ringtrain/compress/sparsity_warmup.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "ringtrain/common/check.h"

namespace ringtrain::compress {
namespace {

// 0.25 / 4^stage, exact (a power of two).
double StageRatio(int stage) { return std::ldexp(kWarmupStartRatio, -2 * stage); }

}  // namespace

Status ValidateSparsityWarmup(const SparsityWarmup& warmup) {
  if (!(warmup.target_ratio > 0.0 && warmup.target_ratio <= 1.0)) {  // NaN fails
    std::ostringstream got;
    got << warmup.target_ratio;
    return InvalidArgument("target_ratio: must be in (0, 1] (got " + got.str() + ")");
  }
  if (warmup.warmup_steps < 0) {
    return InvalidArgument("warmup_steps: must be >= 0 (got " +
                           std::to_string(warmup.warmup_steps) + ")");
  }
  return Status::Ok();
}

int WarmupStages(double target_ratio) {
  RT_CHECK(target_ratio > 0.0 && target_ratio <= 1.0);
  int stages = 0;
  while (StageRatio(stages) > target_ratio) ++stages;  // ends: ratios reach 0 (below 1e-323)
  return stages;
}

double TopKRatioAt(const SparsityWarmup& warmup, int64_t step) {
  RT_CHECK(ValidateSparsityWarmup(warmup).ok());
  RT_CHECK(step >= 0);
  const int64_t w = warmup.warmup_steps;
  const int stages = WarmupStages(warmup.target_ratio);
  if (step >= w || stages == 0) return warmup.target_ratio;
  // floor(step * stages / w), in integers unless the product would overflow.
  int64_t stage = 0;
  if (step <= std::numeric_limits<int64_t>::max() / stages) {
    stage = step * stages / w;
  } else {
    stage = static_cast<int64_t>(static_cast<double>(step) / static_cast<double>(w) * stages);
  }
  stage = std::min<int64_t>(stage, stages - 1);
  return std::max(warmup.target_ratio, StageRatio(static_cast<int>(stage)));
}

}  // namespace ringtrain::compress
