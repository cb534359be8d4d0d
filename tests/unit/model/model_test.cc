// MakeModel and ValidateModelConfig, and what every kind of Model promises: empty batches and
// evaluation in chunks.
#include "ringtrain/model/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "test_util.h"

namespace ringtrain::model {
namespace {

using testing::RandomBatch;

// A configuration of each kind, with `inputs` inputs and `classes` classes.
std::vector<ModelConfig> EveryKind(int inputs, int classes) {
  return {{ModelKind::kSoftmax, {}, inputs, classes}, {ModelKind::kMlp, {8, 6}, inputs, classes}};
}

void ExpectInvalid(const ModelConfig& config, const std::string& fragment) {
  auto made = MakeModel(config);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(made.status().message().find(fragment), std::string::npos) << made.status().message();
  EXPECT_EQ(ValidateModelConfig(config).message(), made.status().message());
}

TEST(MakeModelTest, BuildsEachKind) {
  auto softmax = MakeModel({ModelKind::kSoftmax, {}, 784, 10});
  ASSERT_TRUE(softmax.ok());
  EXPECT_EQ((*softmax)->num_params(), 784 * 10 + 10);
  EXPECT_EQ((*softmax)->input_dim(), 784);
  EXPECT_EQ((*softmax)->num_classes(), 10);
  auto mlp = MakeModel({ModelKind::kMlp, {32, 16}, 20, 3});
  ASSERT_TRUE(mlp.ok());
  EXPECT_EQ((*mlp)->num_params(), 20 * 32 + 32 + 32 * 16 + 16 + 16 * 3 + 3);
  EXPECT_EQ((*mlp)->tensors().size(), 6u);
  EXPECT_EQ((*mlp)->tensors()[4].name, "fc2.weight");
}

TEST(MakeModelTest, RejectsBadDimensions) {
  ExpectInvalid({ModelKind::kSoftmax, {}, 0, 10}, "input_dim: must be >= 1 (got 0)");
  ExpectInvalid({ModelKind::kMlp, {4}, -3, 10}, "input_dim: must be >= 1 (got -3)");
  ExpectInvalid({ModelKind::kSoftmax, {}, 5, 1}, "num_classes: must be >= 2 (got 1)");
  ExpectInvalid({ModelKind::kMlp, {8, 0}, 5, 3}, "hidden_layers[1]: must be >= 1 (got 0)");
  ExpectInvalid({ModelKind::kMlp, {-2}, 5, 3}, "hidden_layers[0]: must be >= 1 (got -2)");
}

TEST(MakeModelTest, RejectsHiddenLayersThatDoNotFitTheKind) {
  ExpectInvalid({ModelKind::kSoftmax, {16}, 5, 3}, "hidden_layers: must be empty");
  ExpectInvalid({ModelKind::kMlp, {}, 5, 3}, "hidden_layers: an mlp model needs");
}

TEST(MakeModelTest, RejectsModelsTooLargeToAddress) {
  ExpectInvalid({ModelKind::kMlp, {1 << 20, 1 << 20}, 1000, 10}, "parameters");
}

TEST(MakeModelTest, KindNames) {
  EXPECT_STREQ(ModelKindName(ModelKind::kSoftmax), "softmax");
  EXPECT_STREQ(ModelKindName(ModelKind::kMlp), "mlp");
}

TEST(ModelTest, EmptyBatchGivesZeroLossAndZeroGradient) {
  for (const ModelConfig& config : EveryKind(4, 3)) {
    SCOPED_TRACE(ModelKindName(config.kind));
    auto made = MakeModel(config);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    Model* model = made->get();
    std::vector<float> params(model->num_params(), 1.0f);
    std::vector<float> grad(model->num_params(), std::numeric_limits<float>::quiet_NaN());
    const BatchView empty;
    EXPECT_EQ(model->LossAndGradient(params.data(), empty, grad.data()), 0.0);
    for (float g : grad) EXPECT_EQ(g, 0.0f);
    const EvalResult eval = model->Evaluate(params.data(), empty);
    EXPECT_EQ(eval.loss_sum, 0.0);
    EXPECT_EQ(eval.correct, 0);
    EXPECT_EQ(eval.count, 0);
  }
}

TEST(ModelTest, EvaluationInChunksMatchesMeanLossAndRowByRow) {
  // 2500 rows span three internal chunks: the loss sum must equal n * mean loss, and
  // evaluating row by row must give the same totals.
  const auto batch = RandomBatch(21, 2500, 12, 5);
  for (const ModelConfig& config : EveryKind(12, 5)) {
    SCOPED_TRACE(ModelKindName(config.kind));
    auto made = MakeModel(config);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    Model* model = made->get();
    std::vector<float> params(model->num_params());
    model->Initialize(5, params.data());
    std::vector<float> grad(model->num_params());
    const double mean = model->LossAndGradient(params.data(), batch.view(), grad.data());
    const EvalResult all = model->Evaluate(params.data(), batch.view());
    EXPECT_EQ(all.count, 2500);
    EXPECT_NEAR(all.loss_sum / 2500.0, mean, 1e-5);
    EXPECT_GT(all.correct, 0);
    EXPECT_LT(all.correct, 2500);

    EvalResult by_row;
    for (int r = 0; r < 2500; ++r) {
      BatchView one{Eigen::Map<const RowMatrixXf>(batch.x.row(r).data(), 1, 12),
                    batch.labels.data() + r};
      const EvalResult e = model->Evaluate(params.data(), one);
      by_row.loss_sum += e.loss_sum;
      by_row.correct += e.correct;
      by_row.count += e.count;
    }
    EXPECT_EQ(by_row.count, all.count);
    EXPECT_EQ(by_row.correct, all.correct);
    EXPECT_NEAR(by_row.loss_sum, all.loss_sum, 1e-6 * all.loss_sum);
  }
}

// Logits are what Evaluate scores: their argmax (lowest index on ties) counts the same correct
// rows, their cross-entropy sums to the same loss, and a row alone gets the same logits as in
// a batch of 2500 (three chunks).
TEST(ModelTest, LogitsAreWhatEvaluateScores) {
  const auto batch = RandomBatch(22, 2500, 12, 5);
  for (const ModelConfig& config : EveryKind(12, 5)) {
    SCOPED_TRACE(ModelKindName(config.kind));
    auto made = MakeModel(config);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    Model* model = made->get();
    const std::vector<float> params = testing::InitParams(*model, 6);
    RowMatrixXf logits;
    model->Logits(params.data(), batch.x, &logits);
    ASSERT_EQ(logits.rows(), 2500);
    ASSERT_EQ(logits.cols(), 5);
    int64_t correct = 0;
    double loss_sum = 0;
    for (int r = 0; r < 2500; ++r) {
      Eigen::Index best = 0;
      logits.row(r).maxCoeff(&best);
      correct += best == batch.labels[static_cast<size_t>(r)];
      const double max = logits.row(r).maxCoeff();
      const double lse = max + std::log((logits.row(r).array() - max).exp().sum());
      loss_sum += lse - logits(r, batch.labels[static_cast<size_t>(r)]);
    }
    const EvalResult eval = model->Evaluate(params.data(), batch.view());
    EXPECT_EQ(correct, eval.correct);
    EXPECT_NEAR(loss_sum, eval.loss_sum, 1e-5 * eval.loss_sum);

    RowMatrixXf one;
    model->Logits(params.data(), batch.x.middleRows(1500, 1), &one);
    ASSERT_EQ(one.rows(), 1);
    for (int c = 0; c < 5; ++c) EXPECT_NEAR(one(0, c), logits(1500, c), 1e-5f);

    RowMatrixXf none;
    model->Logits(params.data(), batch.x.topRows(0), &none);
    EXPECT_EQ(none.rows(), 0);
    EXPECT_EQ(none.cols(), 5);
  }
}

}  // namespace
}  // namespace ringtrain::model
