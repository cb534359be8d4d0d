#include "ringtrain/optim/sgd.h"

#include <cmath>

#include <Eigen/Core>

#include "gradient.h"
#include "ringtrain/common/check.h"

namespace ringtrain::optim {
namespace {

using internal::Vec;

// p -= lr * g', g' = g + weight_decay * p; g is the gradient's expression (gradient.h).
template <class G>
void SgdStep(float learning_rate, float weight_decay, const G& g, Vec p) {
  if (weight_decay == 0.0f) {
    p -= learning_rate * g;
  } else {
    p -= learning_rate * (g + weight_decay * p);  // element-wise, so reading p is safe
  }
}

// v = momentum * v + g';  p -= lr * v (Nesterov: lr * (g' + momentum * v)).
template <class G>
void MomentumStep(float learning_rate, float momentum, float weight_decay, bool nesterov,
                  const G& g, Vec p, Vec v) {
  if (weight_decay == 0.0f) {
    v = momentum * v + g;
    if (nesterov) {
      p -= learning_rate * (g + momentum * v);
    } else {
      p -= learning_rate * v;
    }
    return;
  }
  // g' = g + weight_decay * p reads p before it is written, element by element.
  v = momentum * v + (g + weight_decay * p);
  if (nesterov) {
    p -= learning_rate * ((g + weight_decay * p) + momentum * v);
  } else {
    p -= learning_rate * v;
  }
}

}  // namespace

SgdOptimizer::SgdOptimizer(float weight_decay) : weight_decay_(weight_decay) {
  RT_CHECK(std::isfinite(weight_decay) && weight_decay >= 0.0f);
}

void SgdOptimizer::ApplyScaled(float learning_rate, int64_t step, float grad_scale,
                               std::span<const float> grad, std::span<float> params,
                               std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && state.empty() && step >= 1 && std::isfinite(grad_scale));
  const Vec p(params.data(), static_cast<Eigen::Index>(params.size()));
  internal::WithScaled(grad_scale, grad,
                       [&](const auto& g) { SgdStep(learning_rate, weight_decay_, g, p); });
}

void SgdOptimizer::ApplySum(float learning_rate, int64_t step, float grad_scale,
                            std::span<const float> base, float weight, std::span<const float> grad,
                            std::span<float> params, std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && internal::ValidSum(base, grad, weight) &&
           state.empty() && step >= 1 && std::isfinite(grad_scale));
  const Vec p(params.data(), static_cast<Eigen::Index>(params.size()));
  internal::WithSum(grad_scale, base, weight, grad,
                    [&](const auto& g) { SgdStep(learning_rate, weight_decay_, g, p); });
}

MomentumOptimizer::MomentumOptimizer(float momentum, float weight_decay, bool nesterov)
    : momentum_(momentum), weight_decay_(weight_decay), nesterov_(nesterov) {
  RT_CHECK(momentum >= 0.0f && momentum < 1.0f && (!nesterov || momentum > 0.0f));
  RT_CHECK(std::isfinite(weight_decay) && weight_decay >= 0.0f);
}

void MomentumOptimizer::ApplyScaled(float learning_rate, int64_t step, float grad_scale,
                                    std::span<const float> grad, std::span<float> params,
                                    std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && state.size() == params.size() && step >= 1 &&
           std::isfinite(grad_scale));
  const auto n = static_cast<Eigen::Index>(params.size());
  const Vec p(params.data(), n);
  const Vec v(state.data(), n);
  internal::WithScaled(grad_scale, grad, [&](const auto& g) {
    MomentumStep(learning_rate, momentum_, weight_decay_, nesterov_, g, p, v);
  });
}

void MomentumOptimizer::ApplySum(float learning_rate, int64_t step, float grad_scale,
                                 std::span<const float> base, float weight,
                                 std::span<const float> grad, std::span<float> params,
                                 std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && internal::ValidSum(base, grad, weight) &&
           state.size() == params.size() && step >= 1 && std::isfinite(grad_scale));
  const auto n = static_cast<Eigen::Index>(params.size());
  const Vec p(params.data(), n);
  const Vec v(state.data(), n);
  internal::WithSum(grad_scale, base, weight, grad, [&](const auto& g) {
    MomentumStep(learning_rate, momentum_, weight_decay_, nesterov_, g, p, v);
  });
}

}  // namespace ringtrain::optim
