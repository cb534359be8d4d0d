#include "ringtrain/optim/ftrl.h"

#include <cmath>

#include "ringtrain/common/check.h"

namespace ringtrain::optim {

FtrlOptimizer::FtrlOptimizer(float beta, float l1, float l2, float weight_decay)
    : beta_(beta), l1_(l1), l2_(l2), weight_decay_(weight_decay) {
  RT_CHECK(std::isfinite(beta) && beta > 0.0f);
  RT_CHECK(std::isfinite(l1) && l1 >= 0.0f && std::isfinite(l2) && l2 >= 0.0f);
  RT_CHECK(std::isfinite(weight_decay) && weight_decay >= 0.0f);
}

void FtrlOptimizer::ApplyScaled(float learning_rate, int64_t step, float grad_scale,
                                std::span<const float> grad, std::span<float> params,
                                std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && state.size() == 2 * params.size() && step >= 1 &&
           std::isfinite(grad_scale));
  // A rate of 0 (a schedule's first warm-up step) changes nothing: sigma would divide by it.
  if (!(learning_rate > 0.0f)) return;
  const size_t n = params.size();
  float* z = state.data();
  float* sq = state.data() + n;
  const float inv_alpha = 1.0f / learning_rate;
  for (size_t i = 0; i < n; ++i) {
    const float w = params[i];
    const float g = grad_scale * grad[i] + weight_decay_ * w;
    const float old_root = std::sqrt(sq[i]);
    sq[i] += g * g;
    const float root = std::sqrt(sq[i]);
    z[i] += g - (root - old_root) * inv_alpha * w;
    if (std::fabs(z[i]) <= l1_) {
      params[i] = 0.0f;
    } else {
      const float shrunk = z[i] - std::copysign(l1_, z[i]);
      params[i] = -shrunk / ((beta_ + root) * inv_alpha + l2_);
    }
  }
}

}  // namespace ringtrain::optim
