// Optimizer: the update rule a parameter server applies to one partition of the model.
//
// An Optimizer is a stateless, immutable object configured once. Per-parameter state (such as
// momentum buffers) lives in caller-owned buffers kept beside the parameters, so one Optimizer
// serves every partition and the state can be checkpointed with the parameters. The only other
// state is the step count t (the `step` argument of Apply), which the caller keeps per state
// buffer too; a checkpoint of a partition is its parameters, its state buffer and t.
//
// Semantics match PyTorch exactly (torch.optim.SGD with dampening 0, torch.optim.Adagrad with
// lr_decay 0 and initial_accumulator_value 0, torch.optim.Adam without AMSGrad). With g the
// gradient and p the parameter, every kind first adds L2 weight decay to the gradient:
//   g' = g + weight_decay * p
//   kSgd:      p -= lr * g'
//   kMomentum: v = momentum * v + g';  p -= lr * v
//   kNesterov: v = momentum * v + g';  p -= lr * (g' + momentum * v)
//   kAdagrad:  s += g'^2;              p -= lr * g' / (sqrt(s) + epsilon)
//   kFtrl:     FTRL-Proximal per coordinate, optim/ftrl.h (no PyTorch counterpart)
//   kAdam:     m = beta1 * m + (1 - beta1) * g';  v = beta2 * v + (1 - beta2) * g'^2
//              m_hat = m / (1 - beta1^t);  v_hat = v / (1 - beta2^t)
//              p -= lr * m_hat / (sqrt(v_hat) + epsilon)
// All state starts at 0 (so the first momentum/Nesterov v is g', as in PyTorch). Adam's weight
// decay is this L2 term added to the gradient, as in torch.optim.Adam; AdamW-style decoupled
// weight decay (p -= lr * weight_decay * p outside the adaptive step) is not offered.
//
// Ownership: MakeOptimizer returns a std::unique_ptr owned by the caller; Apply, ApplyScaled
// and ApplySum borrow spans.
// Thread-safety: Apply, ApplyScaled and ApplySum are const and may be called concurrently on
// disjoint spans.
// Errors: MakeOptimizer/ValidateOptimizerConfig return InvalidArgument naming the bad field.
#ifndef RINGTRAIN_OPTIM_OPTIMIZER_H_
#define RINGTRAIN_OPTIM_OPTIMIZER_H_

#include <cstdint>
#include <memory>
#include <span>

#include "ringtrain/common/status.h"

namespace ringtrain::optim {

class Optimizer {
 public:
  Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  virtual ~Optimizer() = default;

  // Floats of state per parameter: 0 for kSgd; 1 for kMomentum and kNesterov (the velocity v)
  // and kAdagrad (the sum of squares s); 2 for kAdam (slot 0 the first moment m, slot 1 the
  // second moment v) and kFtrl (slot 0 z, slot 1 n).
  virtual int state_slots() const = 0;

  // Applies one update with the given gradient: params -= update(grad). `state` holds
  // state_slots() * n floats (slot-major: slot s of parameter i at s * n + i), zero-initialised
  // by the caller before the first step and passed back unchanged on later steps. `step` is t,
  // the 1-based number of this update among those applied to `state` (1 on the first call, then
  // 2, 3, ...; PyTorch's state["step"] after its increment). Only kAdam reads it (for the bias
  // corrections); a caller that skips an update (say, a round without samples) must not count it.
  // REQUIRES: grad.size() == params.size() == n; state.size() == state_slots() * n;
  //           grad does not overlap params or state; step >= 1.
  void Apply(float learning_rate, int64_t step, std::span<const float> grad,
             std::span<float> params, std::span<float> state) const {
    ApplyScaled(learning_rate, step, 1.0f, grad, params, state);
  }

  // The same update with the gradient grad_scale * grad, scaled element by element as it is
  // read (a sync round's mean: its sum times 1 / samples), so that the caller need not write
  // the scaled gradient first. grad_scale 1 is exactly Apply (x * 1 is x in floating point).
  // REQUIRES: as Apply; grad_scale finite.
  virtual void ApplyScaled(float learning_rate, int64_t step, float grad_scale,
                           std::span<const float> grad, std::span<float> params,
                           std::span<float> state) const = 0;

  // The same update with the gradient grad_scale * (base + weight * grad), summed and scaled
  // element by element as it is read: a sync round's last push applied straight from its frame,
  // without first adding it to the round's sum. An empty `base` is zeros, added as
  // weight * grad + 0 (a -0 becomes +0, as in an array of zeros added to). Bit for bit what
  // writing sum[i] = base[i] + weight * grad[i] (or 0 + weight * grad[i]) to an array and
  // passing that to ApplyScaled gives, where products and sums are not contracted (x86 here).
  // REQUIRES: as ApplyScaled; base empty or of grad's size, and not overlapping params or
  //           state; weight finite.
  virtual void ApplySum(float learning_rate, int64_t step, float grad_scale,
                        std::span<const float> base, float weight, std::span<const float> grad,
                        std::span<float> params, std::span<float> state) const = 0;
};

enum class OptimizerKind { kSgd, kMomentum, kNesterov, kAdagrad, kAdam, kFtrl };

// Brace-initialisable in member order: {kind, momentum, weight_decay, ...}.
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  // kMomentum: in [0, 1). kNesterov: in (0, 1) (PyTorch rejects Nesterov without momentum).
  double momentum = 0.9;
  double weight_decay = 0.0;  // L2 penalty coefficient, every kind; >= 0 and finite as a float
  double beta1 = 0.9;         // kAdam: in [0, 1), decay of the first moment
  double beta2 = 0.999;       // kAdam: in [0, 1), decay of the second moment
  // kAdam and kAdagrad: in (0, 1], added to the denominator. The default is Adam's (PyTorch
  // 1e-8); PyTorch's Adagrad default is kAdagradDefaultEpsilon.
  double epsilon = 1e-8;
  // kFtrl (optim/ftrl.h): beta > 0 smooths the first steps; l1, l2 >= 0 regularise (l1 makes
  // weights exactly 0).
  double ftrl_beta = 1.0;
  double l1 = 0.0;
  double l2 = 0.0;
};

inline constexpr double kAdagradDefaultEpsilon = 1e-10;

// Returns "sgd", "momentum", "nesterov", "adagrad" or "adam".
const char* OptimizerKindName(OptimizerKind kind);

// Returns OK if MakeOptimizer(config) would succeed, else InvalidArgument naming the field,
// e.g. "momentum: must be in [0, 1) (got 1)". Only the fields the kind uses are checked.
Status ValidateOptimizerConfig(const OptimizerConfig& config);

StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerConfig& config);

}  // namespace ringtrain::optim

#endif  // RINGTRAIN_OPTIM_OPTIMIZER_H_
