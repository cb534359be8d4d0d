#include "ringtrain/optim/optimizer.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "ringtrain/optim/adaptive.h"
#include "ringtrain/optim/ftrl.h"
#include "ringtrain/optim/sgd.h"

namespace ringtrain::optim {
namespace {

std::string Got(double v) {
  std::ostringstream out;
  out << " (got " << v << ")";
  return out.str();
}

bool KnownKind(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
    case OptimizerKind::kMomentum:
    case OptimizerKind::kNesterov:
    case OptimizerKind::kAdagrad:
    case OptimizerKind::kAdam:
    case OptimizerKind::kFtrl:
      return true;
  }
  return false;
}

// Comparisons in this file are written so that NaN fails every check.
// Decay factors are applied as floats: 0.99999999 would round to 1.0f and stop the average.
bool IsDecayFactor(double v) { return v >= 0.0 && v < 1.0 && static_cast<float>(v) < 1.0f; }

Status CheckBeta(const char* name, double beta) {
  if (IsDecayFactor(beta)) return Status::Ok();
  return InvalidArgument(std::string(name) + ": must be in [0, 1)" + Got(beta));
}

}  // namespace

const char* OptimizerKindName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return "sgd";
    case OptimizerKind::kMomentum:
      return "momentum";
    case OptimizerKind::kNesterov:
      return "nesterov";
    case OptimizerKind::kAdagrad:
      return "adagrad";
    case OptimizerKind::kAdam:
      return "adam";
    case OptimizerKind::kFtrl:
      return "ftrl";
  }
  return "unknown";
}

Status ValidateOptimizerConfig(const OptimizerConfig& config) {
  if (!KnownKind(config.kind)) {
    return InvalidArgument("kind: unknown optimizer kind " +
                           std::to_string(static_cast<int>(config.kind)));
  }
  // The upper bound keeps the float conversion defined.
  if (!(config.weight_decay >= 0.0 && config.weight_decay <= std::numeric_limits<float>::max())) {
    return InvalidArgument("weight_decay: must be >= 0 and finite as a float" +
                           Got(config.weight_decay));
  }
  switch (config.kind) {
    case OptimizerKind::kSgd:
      break;
    case OptimizerKind::kFtrl:
      if (!(config.ftrl_beta > 0.0 && config.ftrl_beta <= std::numeric_limits<float>::max())) {
        return InvalidArgument("beta: must be > 0 and finite as a float" + Got(config.ftrl_beta));
      }
      if (!(config.l1 >= 0.0 && config.l1 <= std::numeric_limits<float>::max())) {
        return InvalidArgument("l1: must be >= 0 and finite as a float" + Got(config.l1));
      }
      if (!(config.l2 >= 0.0 && config.l2 <= std::numeric_limits<float>::max())) {
        return InvalidArgument("l2: must be >= 0 and finite as a float" + Got(config.l2));
      }
      break;
    case OptimizerKind::kMomentum:
      if (!IsDecayFactor(config.momentum)) {
        return InvalidArgument("momentum: must be in [0, 1)" + Got(config.momentum));
      }
      break;
    case OptimizerKind::kNesterov:
      // In float too: a tiny double momentum could round to a float 0.
      if (!(IsDecayFactor(config.momentum) && static_cast<float>(config.momentum) > 0.0f)) {
        return InvalidArgument("momentum: must be in (0, 1) for nesterov" + Got(config.momentum));
      }
      break;
    case OptimizerKind::kAdam:
      RT_RETURN_IF_ERROR(CheckBeta("beta1", config.beta1));
      RT_RETURN_IF_ERROR(CheckBeta("beta2", config.beta2));
      [[fallthrough]];
    case OptimizerKind::kAdagrad:
      // In float too: 1e-50 would round to 0 and divide by zero on a zero gradient.
      if (!(config.epsilon > 0.0 && config.epsilon <= 1.0 &&
            static_cast<float>(config.epsilon) > 0.0f)) {
        return InvalidArgument("epsilon: must be in (0, 1] and nonzero as a float" +
                               Got(config.epsilon));
      }
      break;
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerConfig& config) {
  RT_RETURN_IF_ERROR(ValidateOptimizerConfig(config));
  const auto weight_decay = static_cast<float>(config.weight_decay);
  const auto momentum = static_cast<float>(config.momentum);
  const auto epsilon = static_cast<float>(config.epsilon);
  std::unique_ptr<Optimizer> optimizer;
  switch (config.kind) {
    case OptimizerKind::kSgd:
      optimizer = std::make_unique<SgdOptimizer>(weight_decay);
      break;
    case OptimizerKind::kMomentum:
    case OptimizerKind::kNesterov:
      optimizer = std::make_unique<MomentumOptimizer>(
          momentum, weight_decay, /*nesterov=*/config.kind == OptimizerKind::kNesterov);
      break;
    case OptimizerKind::kAdagrad:
      optimizer = std::make_unique<AdagradOptimizer>(epsilon, weight_decay);
      break;
    case OptimizerKind::kFtrl:
      optimizer = std::make_unique<FtrlOptimizer>(static_cast<float>(config.ftrl_beta),
                                                  static_cast<float>(config.l1),
                                                  static_cast<float>(config.l2), weight_decay);
      break;
    case OptimizerKind::kAdam:
      optimizer =
          std::make_unique<AdamOptimizer>(config.beta1, config.beta2, epsilon, weight_decay);
      break;
  }
  return optimizer;
}

}  // namespace ringtrain::optim
