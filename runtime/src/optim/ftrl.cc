#include "ringtrain/optim/ftrl.h"

#include <cmath>

#include "gradient.h"
#include "ringtrain/common/check.h"

namespace ringtrain::optim {
namespace {

// FTRL-Proximal per coordinate (ftrl.h); g_at(i) is coordinate i's gradient (gradient.h).
template <class G>
void FtrlStep(float beta, float l1, float l2, float weight_decay, float learning_rate,
              const G& g_at, std::span<float> params, std::span<float> state) {
  // A rate of 0 (a schedule's first warm-up step) changes nothing: sigma would divide by it.
  if (!(learning_rate > 0.0f)) return;
  const size_t n = params.size();
  float* z = state.data();
  float* sq = state.data() + n;
  const float inv_alpha = 1.0f / learning_rate;
  for (size_t i = 0; i < n; ++i) {
    const float w = params[i];
    const float g = g_at(i) + weight_decay * w;
    const float old_root = std::sqrt(sq[i]);
    sq[i] += g * g;
    const float root = std::sqrt(sq[i]);
    z[i] += g - (root - old_root) * inv_alpha * w;
    if (std::fabs(z[i]) <= l1) {
      params[i] = 0.0f;
    } else {
      const float shrunk = z[i] - std::copysign(l1, z[i]);
      params[i] = -shrunk / ((beta + root) * inv_alpha + l2);
    }
  }
}

}  // namespace

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
  internal::WithScaledAt(grad_scale, grad, [&](const auto& g) {
    FtrlStep(beta_, l1_, l2_, weight_decay_, learning_rate, g, params, state);
  });
}

void FtrlOptimizer::ApplySum(float learning_rate, int64_t step, float grad_scale,
                             std::span<const float> base, float weight, std::span<const float> grad,
                             std::span<float> params, std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && internal::ValidSum(base, grad, weight) &&
           state.size() == 2 * params.size() && step >= 1 && std::isfinite(grad_scale));
  internal::WithSumAt(grad_scale, base, weight, grad, [&](const auto& g) {
    FtrlStep(beta_, l1_, l2_, weight_decay_, learning_rate, g, params, state);
  });
}

}  // namespace ringtrain::optim
