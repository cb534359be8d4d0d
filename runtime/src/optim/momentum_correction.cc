#include "ringtrain/optim/momentum_correction.h"

#include "ringtrain/common/check.h"

namespace ringtrain::optim {

void LocalMomentum::Apply(std::span<float> grad, std::span<const float> params,
                          std::span<float> velocity) const {
  RT_CHECK(grad.size() == params.size() && grad.size() == velocity.size());
  const float mu = static_cast<float>(momentum);
  const float wd = static_cast<float>(weight_decay);
  for (size_t i = 0; i < grad.size(); ++i) {
    const float g = grad[i] + wd * params[i];
    velocity[i] = mu * velocity[i] + g;
    grad[i] = nesterov ? g + mu * velocity[i] : velocity[i];
  }
}

void LocalMomentum::MaskSent(std::span<const float> residual, std::span<float> velocity) {
  RT_CHECK(residual.size() == velocity.size());
  for (size_t i = 0; i < residual.size(); ++i) {
    if (residual[i] == 0.0f) velocity[i] = 0.0f;
  }
}

LocalMomentum SplitForMomentumCorrection(OptimizerConfig* server, compress::CodecType codec,
                                         bool error_feedback) {
  LocalMomentum local;
  if (codec == compress::CodecType::kNone ||
      (server->kind != OptimizerKind::kMomentum && server->kind != OptimizerKind::kNesterov)) {
    return local;
  }
  local.momentum = server->momentum;
  local.nesterov = server->kind == OptimizerKind::kNesterov;
  local.weight_decay = server->weight_decay;
  local.mask_sent = codec == compress::CodecType::kTopK && error_feedback && local.momentum > 0;
  server->kind = OptimizerKind::kSgd;
  server->momentum = 0;
  server->weight_decay = 0;
  return local;
}

}  // namespace ringtrain::optim
