// Analytic gradients against central finite differences.
//
// The models compute in float32, so the finite differences are taken on the float model
// itself with step h = 1e-3 (the actual step is recomputed from the rounded perturbed values).
// The loss is O(1) and accurate to ~1e-7 relative, so the difference quotient carries noise of
// about 1e-7 / 2e-3 = 5e-5, and the truncation error is O(h^2) = 1e-6. A coordinate passes if
// |analytic - numeric| <= 1e-3 + 2e-2 * |numeric|: an order of magnitude above the noise, far
// below the error of any real bug (a wrong sign, a missing 1/n, a transposed weight or a
// missing ReLU mask all produce errors of the gradient's own size, ~1e-2..1e-1 here).
// Every coordinate of each small model is checked. The inputs are fixed-seed, and we assert
// that no ReLU pre-activation lies close enough to its kink for a perturbation to cross it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "ringtrain/model/model.h"
#include "test_util.h"

namespace ringtrain::model {
namespace {

using testing::InitParams;
using testing::OwnedBatch;
using testing::RandomBatch;

constexpr int kInputs = 12;
constexpr int kClasses = 5;
constexpr int kRows = 6;

void CheckGradient(Model& model, std::vector<float> params, const OwnedBatch& batch) {
  const BatchView view = batch.view();
  std::vector<float> grad(model.num_params(), std::numeric_limits<float>::quiet_NaN());
  const double loss = model.LossAndGradient(params.data(), view, grad.data());
  ASSERT_TRUE(std::isfinite(loss));
  ASSERT_GT(loss, 0.0);

  std::vector<float> scratch(model.num_params());
  constexpr float kStep = 1e-3f;
  double max_abs_numeric = 0;
  int checked = 0;
  for (int64_t i = 0; i < model.num_params(); ++i) {
    const float original = params[i];
    const float plus = original + kStep;
    const float minus = original - kStep;
    params[i] = plus;
    const double loss_plus = model.LossAndGradient(params.data(), view, scratch.data());
    params[i] = minus;
    const double loss_minus = model.LossAndGradient(params.data(), view, scratch.data());
    params[i] = original;
    const double numeric =
        (loss_plus - loss_minus) / (static_cast<double>(plus) - static_cast<double>(minus));
    max_abs_numeric = std::max(max_abs_numeric, std::abs(numeric));
    EXPECT_NEAR(grad[i], numeric, 1e-3 + 2e-2 * std::abs(numeric)) << "parameter " << i;
    ++checked;
  }
  EXPECT_EQ(checked, model.num_params());
  // Guards against a vacuous pass (e.g. everything zero).
  EXPECT_GT(max_abs_numeric, 1e-2);
}

// Asserts every hidden pre-activation of an MLP (recomputed here in double) is at least 5e-3
// from the ReLU kink. Perturbing one parameter by 1e-3 moves a pre-activation by at most about
// 1e-3 times an input or activation (|x| <= 1 here, activations O(1)), so no finite difference
// straddles a kink, where the loss is not differentiable.
void ExpectNoPreactivationNearKink(const Model& model, const std::vector<float>& params,
                                   const OwnedBatch& batch) {
  const std::vector<TensorInfo>& t = model.tensors();
  for (int r = 0; r < batch.x.rows(); ++r) {
    std::vector<double> act(batch.x.cols());
    for (int64_t k = 0; k < batch.x.cols(); ++k) act[k] = batch.x(r, k);
    for (size_t layer = 0; layer + 2 < t.size(); layer += 2) {  // hidden layers only
      const TensorInfo& w = t[layer];
      const TensorInfo& b = t[layer + 1];
      const int64_t out = w.shape[1];
      std::vector<double> next(out);
      for (int64_t j = 0; j < out; ++j) {
        double pre = params[b.offset + j];
        for (size_t k = 0; k < act.size(); ++k) pre += act[k] * params[w.offset + k * out + j];
        EXPECT_GT(std::abs(pre), 5e-3) << w.name << " row " << r << " unit " << j;
        next[j] = std::max(pre, 0.0);
      }
      act = next;
    }
  }
}

TEST(GradientTest, SoftmaxMatchesFiniteDifferences) {
  auto model = MakeModel({ModelKind::kSoftmax, {}, kInputs, kClasses});
  ASSERT_TRUE(model.ok());
  const OwnedBatch batch = RandomBatch(11, kRows, kInputs, kClasses);
  CheckGradient(**model, InitParams(**model, 7), batch);
}

TEST(GradientTest, MlpOneHiddenLayerMatchesFiniteDifferences) {
  auto model = MakeModel({ModelKind::kMlp, {8}, kInputs, kClasses});
  ASSERT_TRUE(model.ok());
  const OwnedBatch batch = RandomBatch(12, kRows, kInputs, kClasses);
  const std::vector<float> params = InitParams(**model, 11);
  ExpectNoPreactivationNearKink(**model, params, batch);
  CheckGradient(**model, params, batch);
}

TEST(GradientTest, MlpTwoHiddenLayersMatchesFiniteDifferences) {
  auto model = MakeModel({ModelKind::kMlp, {8, 6}, kInputs, kClasses});
  ASSERT_TRUE(model.ok());
  const OwnedBatch batch = RandomBatch(13, kRows, kInputs, kClasses);
  const std::vector<float> params = InitParams(**model, 9);
  ExpectNoPreactivationNearKink(**model, params, batch);
  CheckGradient(**model, params, batch);
}

TEST(GradientTest, GradientDoesNotDependOnPreviousCalls) {
  // Scratch buffers are reused: a call with a different batch size in between must not leak.
  auto model = MakeModel({ModelKind::kMlp, {8, 6}, kInputs, kClasses});
  ASSERT_TRUE(model.ok());
  const std::vector<float> params = InitParams(**model, 3);
  const OwnedBatch small = RandomBatch(1, kRows, kInputs, kClasses);
  const OwnedBatch large = RandomBatch(2, 40, kInputs, kClasses);
  std::vector<float> first((*model)->num_params());
  std::vector<float> again((*model)->num_params());
  std::vector<float> other((*model)->num_params());
  const double loss1 = (*model)->LossAndGradient(params.data(), small.view(), first.data());
  (*model)->LossAndGradient(params.data(), large.view(), other.data());
  const double loss2 = (*model)->LossAndGradient(params.data(), small.view(), again.data());
  EXPECT_EQ(loss1, loss2);
  EXPECT_EQ(first, again);
}

}  // namespace
}  // namespace ringtrain::model
