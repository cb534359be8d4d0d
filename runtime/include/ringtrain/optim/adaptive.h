// The adaptive optimizers: torch.optim.Adagrad (lr_decay 0, initial_accumulator_value 0) and
// torch.optim.Adam (no AMSGrad), both with optional L2 weight decay added to the gradient. See
// optimizer.h for the contract and exact update rules.
//
// Thread-safety: immutable after construction; Apply and ApplyScaled may run concurrently on
// disjoint spans.
#ifndef RINGTRAIN_OPTIM_ADAPTIVE_H_
#define RINGTRAIN_OPTIM_ADAPTIVE_H_

#include <cstdint>
#include <span>

#include "ringtrain/optim/optimizer.h"

namespace ringtrain::optim {

class AdagradOptimizer final : public Optimizer {
 public:
  // REQUIRES: epsilon in (0, 1]; weight_decay finite and >= 0 (MakeOptimizer validates).
  AdagradOptimizer(float epsilon, float weight_decay);

  int state_slots() const override { return 1; }  // the sum of squared gradients s
  void ApplyScaled(float learning_rate, int64_t step, float grad_scale, std::span<const float> grad,
                   std::span<float> params, std::span<float> state) const override;
  void ApplySum(float learning_rate, int64_t step, float grad_scale, std::span<const float> base,
                float weight, std::span<const float> grad, std::span<float> params,
                std::span<float> state) const override;

 private:
  const float epsilon_;
  const float weight_decay_;
};

class AdamOptimizer final : public Optimizer {
 public:
  // REQUIRES: beta1, beta2 in [0, 1); epsilon in (0, 1]; weight_decay finite and >= 0
  // (MakeOptimizer validates).
  AdamOptimizer(double beta1, double beta2, float epsilon, float weight_decay);

  int state_slots() const override { return 2; }  // slot 0: m, slot 1: v
  void ApplyScaled(float learning_rate, int64_t step, float grad_scale, std::span<const float> grad,
                   std::span<float> params, std::span<float> state) const override;
  void ApplySum(float learning_rate, int64_t step, float grad_scale, std::span<const float> base,
                float weight, std::span<const float> grad, std::span<float> params,
                std::span<float> state) const override;

 private:
  // Kept in double for the bias corrections 1 - beta^t, which PyTorch computes in double too.
  const double beta1_;
  const double beta2_;
  const float epsilon_;
  const float weight_decay_;
};

}  // namespace ringtrain::optim

#endif  // RINGTRAIN_OPTIM_ADAPTIVE_H_
