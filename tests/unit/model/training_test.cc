// End-to-end check that the gradients train: plain SGD on a separable synthetic problem.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "ringtrain/model/init.h"
#include "ringtrain/model/model.h"
#include "test_util.h"

namespace ringtrain::model {
namespace {

using testing::OwnedBatch;

constexpr int kDim = 6;
constexpr int kClasses = 3;

// Class k has x_k in [2, 4) and every other coordinate in [-1, 1): the classes are linearly
// separable (argmax of the first kClasses coordinates), with noise in every dimension.
OwnedBatch SeparableData(uint64_t seed, int rows) {
  SplitMix64 rng(seed);
  OwnedBatch b;
  b.x.resize(rows, kDim);
  for (int r = 0; r < rows; ++r) {
    const int label = r % kClasses;
    for (int c = 0; c < kDim; ++c) b.x(r, c) = 2.0f * rng.NextFloat() - 1.0f;
    b.x(r, label) += 3.0f;
    b.labels.push_back(label);
  }
  return b;
}

void TrainAndCheck(const ModelConfig& config) {
  auto made = MakeModel(config);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Model& model = **made;
  std::vector<float> params(model.num_params());
  std::vector<float> grad(model.num_params());
  model.Initialize(1, params.data());

  const OwnedBatch train = SeparableData(100, 300);
  const OwnedBatch test = SeparableData(200, 300);
  const EvalResult before = model.Evaluate(params.data(), test.view());

  constexpr int kBatch = 30;
  constexpr float kLearningRate = 0.2f;
  for (int epoch = 0; epoch < 10; ++epoch) {
    for (int start = 0; start < 300; start += kBatch) {
      const BatchView batch{Eigen::Map<const RowMatrixXf>(train.x.row(start).data(), kBatch, kDim),
                            train.labels.data() + start};
      model.LossAndGradient(params.data(), batch, grad.data());
      for (size_t i = 0; i < params.size(); ++i) params[i] -= kLearningRate * grad[i];
    }
  }
  const EvalResult after = model.Evaluate(params.data(), test.view());
  ASSERT_EQ(after.count, 300);
  EXPECT_LT(after.loss_sum, 0.2 * before.loss_sum);
  EXPECT_LT(after.loss_sum / after.count, 0.15);
  EXPECT_GE(after.correct, 297);  // >= 99% on held-out data
}

TEST(TrainingTest, SoftmaxLearnsSeparableProblem) {
  TrainAndCheck({ModelKind::kSoftmax, {}, kDim, kClasses});
}

TEST(TrainingTest, MlpLearnsSeparableProblem) {
  TrainAndCheck({ModelKind::kMlp, {16}, kDim, kClasses});
}

}  // namespace
}  // namespace ringtrain::model
