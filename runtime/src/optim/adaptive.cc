#include "ringtrain/optim/adaptive.h"

#include <cmath>

#include <Eigen/Core>

#include "ringtrain/common/check.h"

namespace ringtrain::optim {
namespace {

using ConstVec = Eigen::Map<const Eigen::ArrayXf>;
using Vec = Eigen::Map<Eigen::ArrayXf>;

bool ValidDecay(float weight_decay) { return std::isfinite(weight_decay) && weight_decay >= 0; }

}  // namespace

AdagradOptimizer::AdagradOptimizer(float epsilon, float weight_decay)
    : epsilon_(epsilon), weight_decay_(weight_decay) {
  RT_CHECK(epsilon > 0.0f && epsilon <= 1.0f);
  RT_CHECK(ValidDecay(weight_decay));
}

void AdagradOptimizer::ApplyScaled(float learning_rate, int64_t step, float grad_scale,
                                   std::span<const float> grad, std::span<float> params,
                                   std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && state.size() == params.size() && step >= 1 &&
           std::isfinite(grad_scale));
  const Eigen::Index n = static_cast<Eigen::Index>(params.size());
  // The scaled gradient as an expression: scaled as it is read, never stored.
  const ConstVec raw(grad.data(), n);
  const auto g = grad_scale * raw;
  Vec p(params.data(), n);
  Vec s(state.data(), n);
  if (weight_decay_ == 0.0f) {
    s += g.square();
    p -= learning_rate * g / (s.sqrt() + epsilon_);
    return;
  }
  // g' = g + weight_decay * p, evaluated element by element before p[i] is written.
  s += (g + weight_decay_ * p).square();
  p -= learning_rate * (g + weight_decay_ * p) / (s.sqrt() + epsilon_);
}

AdamOptimizer::AdamOptimizer(double beta1, double beta2, float epsilon, float weight_decay)
    : beta1_(beta1), beta2_(beta2), epsilon_(epsilon), weight_decay_(weight_decay) {
  RT_CHECK(beta1 >= 0.0 && beta1 < 1.0 && beta2 >= 0.0 && beta2 < 1.0);
  RT_CHECK(epsilon > 0.0f && epsilon <= 1.0f);
  RT_CHECK(ValidDecay(weight_decay));
}

void AdamOptimizer::ApplyScaled(float learning_rate, int64_t step, float grad_scale,
                                std::span<const float> grad, std::span<float> params,
                                std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && state.size() == 2 * params.size() && step >= 1 &&
           std::isfinite(grad_scale));
  const Eigen::Index n = static_cast<Eigen::Index>(params.size());
  // The scaled gradient as an expression: scaled as it is read, never stored.
  const ConstVec raw(grad.data(), n);
  const auto g = grad_scale * raw;
  Vec p(params.data(), n);
  Vec m(state.data(), n);
  Vec v(state.data() + n, n);
  // 1 - beta in double, as PyTorch passes it: 1 - 0.999f would be off by 1e-5 relative.
  const auto b1 = static_cast<float>(beta1_);
  const auto b2 = static_cast<float>(beta2_);
  const auto c1 = static_cast<float>(1.0 - beta1_);
  const auto c2 = static_cast<float>(1.0 - beta2_);
  if (weight_decay_ == 0.0f) {
    m = b1 * m + c1 * g;
    v = b2 * v + c2 * g.square();
  } else {
    m = b1 * m + c1 * (g + weight_decay_ * p);
    v = b2 * v + c2 * (g + weight_decay_ * p).square();
  }
  // As torch.optim.Adam computes it: p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps), the
  // scalars in double. bc1 > 0 because beta1 < 1 and t >= 1.
  const double t = static_cast<double>(step);
  const double bias_correction1 = 1.0 - std::pow(beta1_, t);
  const double bias_correction2 = 1.0 - std::pow(beta2_, t);
  const auto step_size = static_cast<float>(learning_rate / bias_correction1);
  const auto sqrt_bc2 = static_cast<float>(std::sqrt(bias_correction2));
  p -= step_size * m / (v.sqrt() / sqrt_bc2 + epsilon_);
}

}  // namespace ringtrain::optim
