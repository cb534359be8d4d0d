// Optimizer: the update rule a parameter server applies to one partition of the model.
//
// An Optimizer is a stateless, immutable object configured once. Per-parameter state (such as
// momentum buffers) lives in caller-owned buffers kept beside the parameters, so one Optimizer
// serves every partition and the state can be checkpointed with the parameters.
//
// Semantics match PyTorch's torch.optim.SGD (dampening 0, no Nesterov):
//   g' = g + weight_decay * p
//   kSgd:      p -= lr * g'
//   kMomentum: v = momentum * v + g';  p -= lr * v      (v starts at 0, so the first v = g')
//
// Ownership: MakeOptimizer returns a std::unique_ptr owned by the caller; Apply borrows spans.
// Thread-safety: Apply is const and may be called concurrently on disjoint spans.
// Errors: MakeOptimizer/ValidateOptimizerConfig return InvalidArgument naming the bad field.
#ifndef RINGTRAIN_OPTIM_OPTIMIZER_H_
#define RINGTRAIN_OPTIM_OPTIMIZER_H_

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

  // Floats of state per parameter: 0 for plain SGD, 1 for momentum.
  virtual int state_slots() const = 0;

  // Applies one update with the given gradient: params -= update(grad). `state` holds
  // state_slots() * n floats (slot-major: slot s of parameter i at s * n + i), zero-initialised
  // by the caller before the first step and passed back unchanged on later steps.
  // REQUIRES: grad.size() == params.size() == n; state.size() == state_slots() * n;
  //           grad does not overlap params or state.
  virtual void Apply(float learning_rate, std::span<const float> grad, std::span<float> params,
                     std::span<float> state) const = 0;
};

enum class OptimizerKind { kSgd, kMomentum };

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  double momentum = 0.9;      // used by kMomentum; must be in [0, 1)
  double weight_decay = 0.0;  // L2 penalty coefficient; >= 0 and finite as a float
};

// Returns "sgd" or "momentum".
const char* OptimizerKindName(OptimizerKind kind);

// Returns OK if MakeOptimizer(config) would succeed, else InvalidArgument naming the field,
// e.g. "momentum: must be in [0, 1) (got 1)".
Status ValidateOptimizerConfig(const OptimizerConfig& config);

StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerConfig& config);

}  // namespace ringtrain::optim

#endif  // RINGTRAIN_OPTIM_OPTIMIZER_H_
