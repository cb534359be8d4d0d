// FTRL-Proximal (McMahan et al., "Ad Click Prediction: a View from the Trenches", KDD 2013,
// Algorithm 1), per coordinate: the standard optimizer of sparse click-through models.
//
// With g the gradient (plus the L2 weight decay term weight_decay * w, as for every kind),
// alpha the learning rate of the step, and per-coordinate state z (slot 0) and n (slot 1):
//   sigma = (sqrt(n + g^2) - sqrt(n)) / alpha
//   z    += g - sigma * w
//   n    += g^2
//   w     = 0                                                  if |z| <= l1
//           -(z - sign(z) * l1) / ((beta + sqrt(n)) / alpha + l2)  otherwise
// The weight w is a function of (z, n); it is kept as the parameter so that pulls read it
// directly. L1 makes weights exactly 0 (sparse models); beta smooths the first steps.
// A schedule that changes alpha over time changes the per-coordinate rates from then on (the
// paper's alpha is fixed; with a constant schedule this is exactly Algorithm 1).
//
// Thread-safety: immutable after construction; Apply and ApplyScaled may run concurrently on
// disjoint spans.
#ifndef RINGTRAIN_OPTIM_FTRL_H_
#define RINGTRAIN_OPTIM_FTRL_H_

#include "ringtrain/optim/optimizer.h"

namespace ringtrain::optim {

class FtrlOptimizer final : public Optimizer {
 public:
  // REQUIRES: beta > 0, l1 >= 0, l2 >= 0, weight_decay >= 0, all finite (MakeOptimizer
  // validates).
  FtrlOptimizer(float beta, float l1, float l2, float weight_decay);

  int state_slots() const override { return 2; }  // slot 0: z, slot 1: n
  void ApplyScaled(float learning_rate, int64_t step, float grad_scale, std::span<const float> grad,
                   std::span<float> params, std::span<float> state) const override;
  void ApplySum(float learning_rate, int64_t step, float grad_scale, std::span<const float> base,
                float weight, std::span<const float> grad, std::span<float> params,
                std::span<float> state) const override;

 private:
  const float beta_;
  const float l1_;
  const float l2_;
  const float weight_decay_;
};

}  // namespace ringtrain::optim

#endif  // RINGTRAIN_OPTIM_FTRL_H_
