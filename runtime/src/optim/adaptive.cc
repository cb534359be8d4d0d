#include "ringtrain/optim/adaptive.h"

#include <cmath>

#include <Eigen/Core>

#include "gradient.h"
#include "ringtrain/common/check.h"

namespace ringtrain::optim {
namespace {

using internal::Vec;

bool ValidDecay(float weight_decay) { return std::isfinite(weight_decay) && weight_decay >= 0; }

// s += g'^2;  p -= lr * g' / (sqrt(s) + epsilon); g is the gradient's expression (gradient.h).
template <class G>
void AdagradStep(float learning_rate, float epsilon, float weight_decay, const G& g, Vec p, Vec s) {
  if (weight_decay == 0.0f) {
    s += g.square();
    p -= learning_rate * g / (s.sqrt() + epsilon);
    return;
  }
  // g' = g + weight_decay * p, evaluated element by element before p[i] is written.
  s += (g + weight_decay * p).square();
  p -= learning_rate * (g + weight_decay * p) / (s.sqrt() + epsilon);
}

// m = beta1 * m + (1 - beta1) * g';  v = beta2 * v + (1 - beta2) * g'^2;
// p -= lr * m_hat / (sqrt(v_hat) + epsilon); g is the gradient's expression (gradient.h).
template <class G>
void AdamStep(double beta1, double beta2, float epsilon, float weight_decay, float learning_rate,
              int64_t step, const G& g, Vec p, Vec m, Vec v) {
  // 1 - beta in double, as PyTorch passes it: 1 - 0.999f would be off by 1e-5 relative.
  const auto b1 = static_cast<float>(beta1);
  const auto b2 = static_cast<float>(beta2);
  const auto c1 = static_cast<float>(1.0 - beta1);
  const auto c2 = static_cast<float>(1.0 - beta2);
  if (weight_decay == 0.0f) {
    m = b1 * m + c1 * g;
    v = b2 * v + c2 * g.square();
  } else {
    m = b1 * m + c1 * (g + weight_decay * p);
    v = b2 * v + c2 * (g + weight_decay * p).square();
  }
  // As torch.optim.Adam computes it: p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps), the
  // scalars in double. bc1 > 0 because beta1 < 1 and t >= 1.
  const double t = static_cast<double>(step);
  const double bias_correction1 = 1.0 - std::pow(beta1, t);
  const double bias_correction2 = 1.0 - std::pow(beta2, t);
  const auto step_size = static_cast<float>(learning_rate / bias_correction1);
  const auto sqrt_bc2 = static_cast<float>(std::sqrt(bias_correction2));
  p -= step_size * m / (v.sqrt() / sqrt_bc2 + epsilon);
}

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
  const auto n = static_cast<Eigen::Index>(params.size());
  const Vec p(params.data(), n);
  const Vec s(state.data(), n);
  internal::WithScaled(grad_scale, grad, [&](const auto& g) {
    AdagradStep(learning_rate, epsilon_, weight_decay_, g, p, s);
  });
}

void AdagradOptimizer::ApplySum(float learning_rate, int64_t step, float grad_scale,
                                std::span<const float> base, float weight,
                                std::span<const float> grad, std::span<float> params,
                                std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && internal::ValidSum(base, grad, weight) &&
           state.size() == params.size() && step >= 1 && std::isfinite(grad_scale));
  const auto n = static_cast<Eigen::Index>(params.size());
  const Vec p(params.data(), n);
  const Vec s(state.data(), n);
  internal::WithSum(grad_scale, base, weight, grad, [&](const auto& g) {
    AdagradStep(learning_rate, epsilon_, weight_decay_, g, p, s);
  });
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
  const auto n = static_cast<Eigen::Index>(params.size());
  const Vec p(params.data(), n);
  const Vec m(state.data(), n);
  const Vec v(state.data() + n, n);
  internal::WithScaled(grad_scale, grad, [&](const auto& g) {
    AdamStep(beta1_, beta2_, epsilon_, weight_decay_, learning_rate, step, g, p, m, v);
  });
}

void AdamOptimizer::ApplySum(float learning_rate, int64_t step, float grad_scale,
                             std::span<const float> base, float weight, std::span<const float> grad,
                             std::span<float> params, std::span<float> state) const {
  RT_CHECK(grad.size() == params.size() && internal::ValidSum(base, grad, weight) &&
           state.size() == 2 * params.size() && step >= 1 && std::isfinite(grad_scale));
  const auto n = static_cast<Eigen::Index>(params.size());
  const Vec p(params.data(), n);
  const Vec m(state.data(), n);
  const Vec v(state.data() + n, n);
  internal::WithSum(grad_scale, base, weight, grad, [&](const auto& g) {
    AdamStep(beta1_, beta2_, epsilon_, weight_decay_, learning_rate, step, g, p, m, v);
  });
}

}  // namespace ringtrain::optim
