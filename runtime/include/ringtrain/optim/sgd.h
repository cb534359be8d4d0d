// The three torch.optim.SGD variants (dampening 0): plain SGD, SGD with (heavy-ball) momentum
// and SGD with Nesterov momentum, all with optional L2 weight decay. See optimizer.h for the
// contract and exact update rules.
//
// Thread-safety: immutable after construction; Apply and ApplyScaled may run concurrently on
// disjoint spans.
#ifndef RINGTRAIN_OPTIM_SGD_H_
#define RINGTRAIN_OPTIM_SGD_H_

#include <cstdint>
#include <span>

#include "ringtrain/optim/optimizer.h"

namespace ringtrain::optim {

class SgdOptimizer final : public Optimizer {
 public:
  // REQUIRES: weight_decay finite and >= 0 (MakeOptimizer validates).
  explicit SgdOptimizer(float weight_decay);

  int state_slots() const override { return 0; }
  void ApplyScaled(float learning_rate, int64_t step, float grad_scale, std::span<const float> grad,
                   std::span<float> params, std::span<float> state) const override;
  void ApplySum(float learning_rate, int64_t step, float grad_scale, std::span<const float> base,
                float weight, std::span<const float> grad, std::span<float> params,
                std::span<float> state) const override;

 private:
  const float weight_decay_;
};

class MomentumOptimizer final : public Optimizer {
 public:
  // REQUIRES: momentum in [0, 1), and > 0 if nesterov; weight_decay finite and >= 0
  // (MakeOptimizer validates).
  MomentumOptimizer(float momentum, float weight_decay, bool nesterov);

  int state_slots() const override { return 1; }  // the velocity v
  void ApplyScaled(float learning_rate, int64_t step, float grad_scale, std::span<const float> grad,
                   std::span<float> params, std::span<float> state) const override;
  void ApplySum(float learning_rate, int64_t step, float grad_scale, std::span<const float> base,
                float weight, std::span<const float> grad, std::span<float> params,
                std::span<float> state) const override;

 private:
  const float momentum_;
  const float weight_decay_;
  const bool nesterov_;
};

}  // namespace ringtrain::optim

#endif  // RINGTRAIN_OPTIM_SGD_H_
