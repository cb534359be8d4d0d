#include "ringtrain/optim/optimizer.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "ringtrain/optim/sgd.h"

namespace ringtrain::optim {
namespace {

std::string Got(double v) {
  std::ostringstream out;
  out << " (got " << v << ")";
  return out.str();
}

}  // namespace

const char* OptimizerKindName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return "sgd";
    case OptimizerKind::kMomentum:
      return "momentum";
  }
  return "unknown";
}

Status ValidateOptimizerConfig(const OptimizerConfig& config) {
  if (config.kind != OptimizerKind::kSgd && config.kind != OptimizerKind::kMomentum) {
    return InvalidArgument("kind: unknown optimizer kind " +
                           std::to_string(static_cast<int>(config.kind)));
  }
  // Written so that NaN fails every check. The upper bound keeps the float conversion defined.
  if (!(config.weight_decay >= 0.0 && config.weight_decay <= std::numeric_limits<float>::max())) {
    return InvalidArgument("weight_decay: must be >= 0 and finite as a float" +
                           Got(config.weight_decay));
  }
  if (config.kind == OptimizerKind::kMomentum &&
      !(config.momentum >= 0.0 && config.momentum < 1.0)) {
    return InvalidArgument("momentum: must be in [0, 1)" + Got(config.momentum));
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerConfig& config) {
  RT_RETURN_IF_ERROR(ValidateOptimizerConfig(config));
  const auto weight_decay = static_cast<float>(config.weight_decay);
  std::unique_ptr<Optimizer> optimizer;
  if (config.kind == OptimizerKind::kSgd) {
    optimizer = std::make_unique<SgdOptimizer>(weight_decay);
  } else {
    optimizer =
        std::make_unique<MomentumOptimizer>(static_cast<float>(config.momentum), weight_decay);
  }
  return optimizer;
}

}  // namespace ringtrain::optim
