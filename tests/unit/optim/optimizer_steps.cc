#include "optimizer_steps.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringtrain::optim {

std::unique_ptr<Optimizer> MakeOrFail(const OptimizerConfig& config) {
  auto made = MakeOptimizer(config);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? std::move(made).value() : nullptr;
}

void ExpectThreeSteps(const Optimizer& opt, float lr, float p0, float g,
                      const ThreeSteps& expected) {
  ASSERT_EQ(opt.state_slots(), 1);
  std::vector<float> p = {p0};
  std::vector<float> state = {0.0f};
  const std::vector<float> grad = {g};
  for (size_t step = 0; step < 3; ++step) {
    SCOPED_TRACE("after step " + std::to_string(step + 1));
    opt.Apply(lr, static_cast<int64_t>(step + 1), grad, p, state);
    EXPECT_NEAR(state[0], expected.state[step], 1e-6f);
    EXPECT_NEAR(p[0], expected.param[step], 1e-6f);
  }
}

}  // namespace ringtrain::optim
