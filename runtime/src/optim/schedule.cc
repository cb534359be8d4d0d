#include "ringtrain/optim/schedule.h"

#include <cmath>
#include <numbers>
#include <sstream>
#include <string>

#include "ringtrain/common/check.h"

namespace ringtrain::optim {
namespace {

template <typename T>
std::string Got(T v) {
  std::ostringstream out;
  out << " (got " << v << ")";
  return out.str();
}

// False for a value that is no enumerator (a cast int).
bool KnownKind(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::kConstant:
    case ScheduleKind::kCosine:
    case ScheduleKind::kStep:
      return true;
  }
  return false;
}

}  // namespace

const char* ScheduleKindName(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::kConstant:
      return "constant";
    case ScheduleKind::kCosine:
      return "cosine";
    case ScheduleKind::kStep:
      return "step";
  }
  return "unknown";
}

Status ValidateScheduleConfig(const ScheduleConfig& c) {
  if (!KnownKind(c.kind)) {
    return InvalidArgument("kind: unknown schedule kind" + Got(static_cast<int>(c.kind)));
  }
  // Comparisons are written so that NaN fails them.
  if (!(c.base_lr > 0.0 && std::isfinite(c.base_lr))) {
    return InvalidArgument("base_lr: must be a finite number > 0" + Got(c.base_lr));
  }
  if (c.total_steps <= 0) {
    return InvalidArgument("total_steps: must be > 0" + Got(c.total_steps));
  }
  if (c.warmup_steps < 0) {
    return InvalidArgument("warmup_steps: must be >= 0" + Got(c.warmup_steps));
  }
  if (c.warmup_steps > c.total_steps) {
    return InvalidArgument("warmup_steps: must be <= total_steps (" +
                           std::to_string(c.total_steps) + ")" + Got(c.warmup_steps));
  }
  if (c.kind == ScheduleKind::kCosine && !(c.min_lr >= 0.0 && c.min_lr <= c.base_lr)) {
    return InvalidArgument("min_lr: must be in [0, base_lr] for a cosine schedule" + Got(c.min_lr));
  }
  if (c.kind == ScheduleKind::kStep) {
    if (c.step_size <= 0) {
      return InvalidArgument("step_size: must be > 0 for a step schedule" + Got(c.step_size));
    }
    if (!(c.gamma > 0.0 && std::isfinite(c.gamma))) {
      return InvalidArgument("gamma: must be a finite number > 0" + Got(c.gamma));
    }
  }
  return Status::Ok();
}

ScheduleConfig ScaleLearningRatesLinearly(ScheduleConfig config, int64_t global_batch_size,
                                          int64_t reference_batch_size) {
  RT_CHECK(global_batch_size >= 1 && reference_batch_size >= 1);
  const double factor =
      static_cast<double>(global_batch_size) / static_cast<double>(reference_batch_size);
  config.base_lr *= factor;
  config.min_lr *= factor;
  return config;
}

StatusOr<LearningRateSchedule> LearningRateSchedule::Create(const ScheduleConfig& config) {
  RT_RETURN_IF_ERROR(ValidateScheduleConfig(config));
  return LearningRateSchedule(config);
}

double LearningRateSchedule::At(int64_t step) const {
  RT_CHECK(step >= 0);
  const ScheduleConfig& c = config_;
  if (step < c.warmup_steps) {
    return c.base_lr * static_cast<double>(step + 1) / static_cast<double>(c.warmup_steps);
  }
  const int64_t t = step - c.warmup_steps;
  switch (c.kind) {
    case ScheduleKind::kConstant:
      return c.base_lr;
    case ScheduleKind::kCosine: {
      const int64_t span = c.total_steps - c.warmup_steps;
      if (t >= span) return c.min_lr;
      const double progress = static_cast<double>(t) / static_cast<double>(span);
      return c.min_lr +
             (c.base_lr - c.min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
    }
    case ScheduleKind::kStep:
      return c.base_lr * std::pow(c.gamma, static_cast<double>(t / c.step_size));
  }
  RT_CHECK(false && "unreachable: kind validated in Create");
  return 0.0;
}

}  // namespace ringtrain::optim
