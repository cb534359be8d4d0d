// Helpers of the optim tests: making an optimizer, and checking a few steps of one on a single
// parameter against hand-computed values.
#ifndef RINGTRAIN_TESTS_UNIT_OPTIM_OPTIMIZER_STEPS_H_
#define RINGTRAIN_TESTS_UNIT_OPTIM_OPTIMIZER_STEPS_H_

#include <array>
#include <memory>

#include "ringtrain/optim/optimizer.h"

namespace ringtrain::optim {

// The optimizer `config` makes, or nullptr (and a test failure) when MakeOptimizer refuses it.
std::unique_ptr<Optimizer> MakeOrFail(const OptimizerConfig& config);

// What a one-parameter run holds after each of its first three steps.
struct ThreeSteps {
  std::array<float, 3> state;  // the first state slot
  std::array<float, 3> param;
};

// Applies `opt` at t = 1, 2, 3 with rate `lr` and gradient `g` each step to one parameter that
// starts at `p0`, with one state slot that starts at 0, and expects the slot and the parameter
// after each step to be within 1e-6 of `expected`.
// REQUIRES: opt.state_slots() == 1.
void ExpectThreeSteps(const Optimizer& opt, float lr, float p0, float g,
                      const ThreeSteps& expected);

}  // namespace ringtrain::optim

#endif  // RINGTRAIN_TESTS_UNIT_OPTIM_OPTIMIZER_STEPS_H_
