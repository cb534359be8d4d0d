#include "ringtrain/optim/sgd.h"

#include <cmath>

#include <Eigen/Core>

#include "ringtrain/common/check.h"

namespace ringtrain::optim {
namespace {

using ConstVec = Eigen::Map<const Eigen::ArrayXf>;
using Vec = Eigen::Map<Eigen::ArrayXf>;

}  // namespace

SgdOptimizer::SgdOptimizer(float weight_decay) : weight_decay_(weight_decay) {
  RT_CHECK(std::isfinite(weight_decay) && weight_decay >= 0.0f);
}

void SgdOptimizer::ApplyScaled(float learning_rate, int64_t step, float grad_scale,
                               std::span<const float> grad, std::span<float> params,
                               std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && state.empty() && step >= 1 && std::isfinite(grad_scale));
  const Eigen::Index n = static_cast<Eigen::Index>(params.size());
  // The scaled gradient as an expression: scaled as it is read, never stored.
  const ConstVec raw(grad.data(), n);
  const auto g = grad_scale * raw;
  Vec p(params.data(), n);
  if (weight_decay_ == 0.0f) {
    p -= learning_rate * g;
  } else {
    p -= learning_rate * (g + weight_decay_ * p);  // element-wise, so reading p is safe
  }
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
  const Eigen::Index n = static_cast<Eigen::Index>(params.size());
  // The scaled gradient as an expression: scaled as it is read, never stored.
  const ConstVec raw(grad.data(), n);
  const auto g = grad_scale * raw;
  Vec p(params.data(), n);
  Vec v(state.data(), n);
  if (weight_decay_ == 0.0f) {
    v = momentum_ * v + g;
    if (nesterov_) {
      p -= learning_rate * (g + momentum_ * v);
    } else {
      p -= learning_rate * v;
    }
    return;
  }
  // g' = g + weight_decay * p reads p before it is written, element by element.
  v = momentum_ * v + (g + weight_decay_ * p);
  if (nesterov_) {
    p -= learning_rate * ((g + weight_decay_ * p) + momentum_ * v);
  } else {
    p -= learning_rate * v;
  }
}

}  // namespace ringtrain::optim
