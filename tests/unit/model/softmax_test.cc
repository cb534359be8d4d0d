// SoftmaxModel: hand-computed losses and gradients, stability and evaluation (empty batches and
// chunked evaluation: model_test.cc, for every kind).
#include "ringtrain/model/softmax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"

namespace ringtrain::model {
namespace {

using testing::OwnedBatch;

// 2 inputs, 3 classes. Layout: W (2x3) at 0..5, b at 6..8.
constexpr int kWeightSize = 6;

TEST(SoftmaxModelTest, LayoutIsWeightThenBias) {
  SoftmaxModel model(2, 3);
  ASSERT_EQ(model.tensors().size(), 2u);
  EXPECT_EQ(model.tensors()[0].name, "fc0.weight");
  EXPECT_EQ(model.tensors()[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(model.tensors()[0].offset, 0);
  EXPECT_EQ(model.tensors()[1].name, "fc0.bias");
  EXPECT_EQ(model.tensors()[1].offset, kWeightSize);
  EXPECT_EQ(model.tensors()[1].size, 3);
  EXPECT_EQ(model.num_params(), 9);
}

TEST(SoftmaxModelTest, LossAndGradientOfHandComputedCase) {
  // W = 0, b = [0, ln 2, 0]: every row's logits are [0, ln 2, 0], so p = [1/4, 1/2, 1/4].
  // Row 0: x = [1, 0], label 1 -> loss ln 2, p - y = [ 1/4, -1/2, 1/4].
  // Row 1: x = [0, 2], label 0 -> loss ln 4, p - y = [-3/4,  1/2, 1/4].
  // Mean loss = 1.5 ln 2; db = mean(p - y) = [-1/4, 0, 1/4];
  // dW = X^T (p - y) / 2 = [[1/8, -1/4, 1/8], [-3/4, 1/2, 1/4]].
  SoftmaxModel model(2, 3);
  std::vector<float> params(9, 0.0f);
  params[kWeightSize + 1] = std::log(2.0f);
  OwnedBatch batch;
  batch.x.resize(2, 2);
  batch.x << 1, 0, 0, 2;
  batch.labels = {1, 0};
  std::vector<float> grad(9, std::numeric_limits<float>::quiet_NaN());
  const double loss = model.LossAndGradient(params.data(), batch.view(), grad.data());
  EXPECT_NEAR(loss, 1.5 * std::log(2.0), 1e-6);
  const std::vector<float> expected = {0.125f, -0.25f, 0.125f, -0.75f, 0.5f,
                                       0.25f,  -0.25f, 0.0f,   0.25f};
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(grad[i], expected[i], 1e-6) << "parameter " << i;
}

TEST(SoftmaxModelTest, LossAndGradientUseTheWeights) {
  // x = [1, 2], W = [[1, 0, 0], [0, 1, 0]], b = 0 -> logits [1, 2, 0], label 2.
  // loss = log(e + e^2 + 1) - 0.
  SoftmaxModel model(2, 3);
  std::vector<float> params = {1, 0, 0, 0, 1, 0, 0, 0, 0};
  OwnedBatch batch;
  batch.x.resize(1, 2);
  batch.x << 1, 2;
  batch.labels = {2};
  std::vector<float> grad(9);
  const double loss = model.LossAndGradient(params.data(), batch.view(), grad.data());
  const double z = std::exp(1.0) + std::exp(2.0) + 1.0;
  EXPECT_NEAR(loss, std::log(z), 1e-6);
  const double p[3] = {std::exp(1.0) / z, std::exp(2.0) / z, 1.0 / z - 1.0};  // p - y
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(grad[c], 1.0 * p[c], 1e-6);      // dW[0][c] = x0 * (p - y)_c
    EXPECT_NEAR(grad[3 + c], 2.0 * p[c], 1e-6);  // dW[1][c] = x1 * (p - y)_c
    EXPECT_NEAR(grad[6 + c], p[c], 1e-6);
  }
}

TEST(SoftmaxModelTest, LargeLogitsStayFinite) {
  // Logits [1000, 0, -1000] overflow exp() without the max shift.
  SoftmaxModel model(2, 3);
  std::vector<float> params(9, 0.0f);
  params[kWeightSize + 0] = 1000.0f;
  params[kWeightSize + 2] = -1000.0f;
  OwnedBatch batch;
  batch.x = RowMatrixXf::Zero(2, 2);
  batch.labels = {0, 1};  // losses ~0 and ~1000
  std::vector<float> grad(9);
  const double loss = model.LossAndGradient(params.data(), batch.view(), grad.data());
  EXPECT_NEAR(loss, 500.0, 1e-3);
  for (float g : grad) EXPECT_TRUE(std::isfinite(g));
  EXPECT_NEAR(grad[kWeightSize + 0], 0.5, 1e-6);  // mean of (1 - 0) and (1 - 1)
  EXPECT_NEAR(grad[kWeightSize + 1], -0.5, 1e-6);
  const EvalResult eval = model.Evaluate(params.data(), batch.view());
  EXPECT_NEAR(eval.loss_sum, 1000.0, 1e-3);
}

TEST(SoftmaxModelTest, EvaluateCountsCorrectPredictions) {
  // W = I (3x3), b = 0: a one-hot row e_k has logits e_k and predicts class k.
  SoftmaxModel model(3, 3);
  std::vector<float> params = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
  OwnedBatch batch;
  batch.x.resize(5, 3);
  batch.x << 1, 0, 0,              //
      0, 1, 0,                     //
      0, 0, 1,                     //
      1, 0, 0,                     //
      0, 0, 0;                     // all logits tie: argmax is the lowest index, 0
  batch.labels = {0, 1, 0, 2, 0};  // correct, correct, wrong, wrong, correct (tie -> 0)
  const EvalResult eval = model.Evaluate(params.data(), batch.view());
  EXPECT_EQ(eval.count, 5);
  EXPECT_EQ(eval.correct, 3);
  // Correct one-hot rows lose log(e + 2) - 1, wrong ones log(e + 2), the zero row log 3.
  const double l = std::log(std::exp(1.0) + 2.0);
  EXPECT_NEAR(eval.loss_sum, 2 * (l - 1) + 2 * l + std::log(3.0), 1e-5);
}

}  // namespace
}  // namespace ringtrain::model
