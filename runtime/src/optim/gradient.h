// The gradient an optimizer reads, as an Eigen expression built from the arguments of
// Optimizer::ApplyScaled or Optimizer::ApplySum, so that each optimizer writes its update rule
// once for both. Private to the optim area.
//
// WithScaled calls f(grad_scale * grad); WithSum calls f(grad_scale * (base + weight * grad)),
// with an empty base read as zeros added the way a sum starting from zeros adds them
// (weight * grad + 0: a -0 becomes +0, as it does in an array of zeros added to). Element by
// element these are the operations a caller writing the sum to an array first would do, in
// the same order, so the two ways agree bit for bit where the compiler does not contract a
// multiply and an add into one (the build passes -ffp-contract=off).
#ifndef RINGTRAIN_SRC_OPTIM_GRADIENT_H_
#define RINGTRAIN_SRC_OPTIM_GRADIENT_H_

#include <cmath>
#include <span>

#include <Eigen/Core>

namespace ringtrain::optim::internal {

using ConstVec = Eigen::Map<const Eigen::ArrayXf>;
using Vec = Eigen::Map<Eigen::ArrayXf>;

// ApplySum's requirement on its sum: base empty or of grad's size, weight finite.
inline bool ValidSum(std::span<const float> base, std::span<const float> grad, float weight) {
  return (base.empty() || base.size() == grad.size()) && std::isfinite(weight);
}

template <class F>
void WithScaled(float grad_scale, std::span<const float> grad, F&& f) {
  const ConstVec raw(grad.data(), static_cast<Eigen::Index>(grad.size()));
  f(grad_scale * raw);
}

template <class F>
void WithSum(float grad_scale, std::span<const float> base, float weight,
             std::span<const float> grad, F&& f) {
  const auto n = static_cast<Eigen::Index>(grad.size());
  const ConstVec raw(grad.data(), n);
  if (base.empty()) {
    f(grad_scale * (weight * raw + 0.0f));
  } else {
    const ConstVec sum(base.data(), n);
    f(grad_scale * (sum + weight * raw));
  }
}

// The same for a loop that reads one element at a time: f(g) with g(i) the element's gradient.
template <class F>
void WithScaledAt(float grad_scale, std::span<const float> grad, F&& f) {
  f([&](size_t i) { return grad_scale * grad[i]; });
}

template <class F>
void WithSumAt(float grad_scale, std::span<const float> base, float weight,
               std::span<const float> grad, F&& f) {
  if (base.empty()) {
    f([&](size_t i) { return grad_scale * (weight * grad[i] + 0.0f); });
  } else {
    f([&](size_t i) { return grad_scale * (base[i] + weight * grad[i]); });
  }
}

}  // namespace ringtrain::optim::internal

#endif  // RINGTRAIN_SRC_OPTIM_GRADIENT_H_
