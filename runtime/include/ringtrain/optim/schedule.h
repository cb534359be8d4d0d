// LearningRateSchedule: the learning rate as a function of the 0-based global step.
//
//   step < warmup_steps:  base_lr * (step + 1) / warmup_steps          (linear warm-up)
//   then, with t = step - warmup_steps:
//     kConstant: base_lr
//     kCosine:   min_lr + (base_lr - min_lr) * (1 + cos(pi * t / T)) / 2, T = total_steps -
//                warmup_steps; min_lr for t >= T (clamped after the end)
//     kStep:     base_lr * gamma ^ floor(t / step_size)
//
// Thread-safety: an immutable value; At() may be called from any thread.
// Errors: Create/ValidateScheduleConfig return InvalidArgument naming the bad field, e.g.
// "total_steps: must be > 0 (got 0)".
#ifndef RINGTRAIN_OPTIM_SCHEDULE_H_
#define RINGTRAIN_OPTIM_SCHEDULE_H_

#include <cstdint>

#include "ringtrain/common/status.h"

namespace ringtrain::optim {

enum class ScheduleKind { kConstant, kCosine, kStep };

struct ScheduleConfig {
  ScheduleKind kind = ScheduleKind::kConstant;
  double base_lr = 0.0;      // > 0
  int64_t warmup_steps = 0;  // in [0, total_steps]
  int64_t total_steps = 0;   // > 0: the number of steps of the whole run
  int64_t step_size = 0;     // kStep: > 0, steps between decays
  double gamma = 0.1;        // kStep: > 0, decay factor
  double min_lr = 0.0;       // kCosine: in [0, base_lr], the final learning rate
};

// Returns "constant", "cosine" or "step".
const char* ScheduleKindName(ScheduleKind kind);

// Returns OK if the configuration is usable, else InvalidArgument naming the field.
Status ValidateScheduleConfig(const ScheduleConfig& config);

// The linear scaling rule (Goyal et al. 2017, "Accurate, Large Minibatch SGD"): learning rates
// tuned for a global batch of `reference_batch_size` examples, used with `global_batch_size`,
// are multiplied by global_batch_size / reference_batch_size. Returns `config` with base_lr and
// min_lr so scaled: the warm-up ramps to the scaled peak and a cosine decays to the scaled floor.
// REQUIRES: global_batch_size >= 1; reference_batch_size >= 1.
ScheduleConfig ScaleLearningRatesLinearly(ScheduleConfig config, int64_t global_batch_size,
                                          int64_t reference_batch_size);

class LearningRateSchedule {
 public:
  // Returns the schedule for a valid config, else the ValidateScheduleConfig error.
  static StatusOr<LearningRateSchedule> Create(const ScheduleConfig& config);

  // Returns the learning rate for the 0-based global step.
  // REQUIRES: step >= 0.
  double At(int64_t step) const;

  const ScheduleConfig& config() const { return config_; }

 private:
  explicit LearningRateSchedule(const ScheduleConfig& config) : config_(config) {}

  ScheduleConfig config_;
};

}  // namespace ringtrain::optim

#endif  // RINGTRAIN_OPTIM_SCHEDULE_H_
