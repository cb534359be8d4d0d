#include "ringtrain/model/sparse_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ringtrain/model/binary_metrics.h"

namespace ringtrain::model {
namespace {

// Rows of 1..6 entries over 12 keys (so keys repeat within and across rows), random values.
data::SparseBatch RandomBatch(int rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> entries(1, 6);
  std::uniform_int_distribution<uint64_t> key(0, 11);
  std::uniform_real_distribution<float> value(-1.0f, 1.5f);
  data::SparseBatch b;
  for (int r = 0; r < rows; ++r) {
    const int n = entries(rng);
    for (int e = 0; e < n; ++e) b.Add(static_cast<uint32_t>(e), 1000 + key(rng) * 7, value(rng));
    b.EndRow(static_cast<float>(rng() % 2));
  }
  return b;
}

std::vector<float> RandomRows(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

TEST(SparseModelTest, IndexKeysListsEachKeyOnceInOrder) {
  data::SparseBatch b;
  b.Add(0, 30, 1);
  b.Add(1, 10, 1);
  b.EndRow(1);
  b.Add(0, 30, 2);
  b.Add(2, 20, 1);
  b.EndRow(0);
  BatchKeys k;
  IndexKeys(b, &k);
  EXPECT_EQ(k.keys, (std::vector<uint64_t>{10, 20, 30}));
  EXPECT_EQ(k.slot, (std::vector<uint32_t>{2, 0, 2, 1}));
}

// The O(k n) form against the definition: the sum over pairs of entries i < j of
// <v_i, v_j> x_i x_j.
TEST(SparseModelTest, FmLogitsEqualThePairwiseDefinition) {
  constexpr int kK = 4;
  auto fm = MakeSparseModel({SparseModelKind::kFm, kK}).value();
  ASSERT_EQ(fm->row_dim(), 1 + kK);
  const data::SparseBatch b = RandomBatch(20, 1);
  BatchKeys keys;
  IndexKeys(b, &keys);
  const std::vector<float> rows = RandomRows(keys.keys.size() * (1 + kK), 2);
  const float bias = 0.3f;
  std::vector<float> logits;
  fm->Logits(&bias, rows, b, keys, &logits);
  for (int64_t r = 0; r < b.rows(); ++r) {
    double z = bias;
    for (int64_t i = b.offsets[r]; i < b.offsets[r + 1]; ++i) {
      const float* vi = &rows[keys.slot[i] * (1 + kK)];
      z += vi[0] * b.values[i];
      for (int64_t j = i + 1; j < b.offsets[r + 1]; ++j) {
        const float* vj = &rows[keys.slot[j] * (1 + kK)];
        for (int f = 1; f <= kK; ++f) z += vi[f] * vj[f] * b.values[i] * b.values[j];
      }
    }
    EXPECT_NEAR(logits[r], z, 1e-5) << "row " << r;
  }
}

// Central differences of the mean log-loss against LossAndGradient, for every row float and
// every dense parameter (the bias; DeepFM's tower too), for each model.
TEST(SparseModelTest, GradientsMatchFiniteDifferences) {
  const SparseModelConfig deep{.kind = SparseModelKind::kDeepFm,
                               .embedding_size = 3,
                               .hidden_layers = {5, 4},
                               .num_fields = 6};
  for (const SparseModelConfig& config : {SparseModelConfig{SparseModelKind::kLogistic, 0},
                                          SparseModelConfig{SparseModelKind::kFm, 3}, deep}) {
    auto model = MakeSparseModel(config).value();
    const data::SparseBatch b = RandomBatch(16, 3);
    BatchKeys keys;
    IndexKeys(b, &keys);
    std::vector<float> rows = RandomRows(keys.keys.size() * model->row_dim(), 4);
    std::vector<float> dense(static_cast<size_t>(model->num_dense()));
    model->InitializeDense(7, dense.data());
    // The tower's ReLUs have kinks, where a difference quotient says nothing. Its biases start
    // at 0, where a row whose layer below is all zeros sits on one: they are set well away
    // (0.5 or -0.1, so that units of both kinds are there), and the step is small.
    for (const TensorInfo& t : model->dense_tensors()) {
      if (!t.name.starts_with("deep.") || !t.name.ends_with(".bias")) continue;
      for (int64_t i = 0; i < t.size; ++i) dense[t.offset + i] = i % 3 == 2 ? -0.1f : 0.5f;
    }
    dense[0] = -0.2f;
    std::vector<float> row_grad(rows.size());
    std::vector<float> dense_grad(dense.size());
    const double loss =
        model->LossAndGradient(dense.data(), rows, b, keys, dense_grad.data(), row_grad);
    EXPECT_GT(loss, 0.0);
    std::vector<float> scratch(rows.size());
    std::vector<float> scratch_dense(dense.size());
    const auto loss_at = [&]() {
      return model->LossAndGradient(dense.data(), rows, b, keys, scratch_dense.data(), scratch);
    };
    // A quotient whose step crosses a kink of the tower's ReLUs says nothing: for deepfm a
    // coordinate passes when the quotient at either of two steps agrees (a wrong gradient
    // disagrees with both).
    const auto quotient = [&](std::vector<float>& values, size_t i, float eps) {
      const float saved = values[i];
      values[i] = saved + eps;
      const double up = loss_at();
      values[i] = saved - eps;
      const double down = loss_at();
      values[i] = saved;
      return (up - down) / (2 * eps);
    };
    const auto check = [&](std::vector<float>& values, const std::vector<float>& grad,
                           const char* what) {
      const bool tower = config.kind == SparseModelKind::kDeepFm;
      for (size_t i = 0; i < values.size(); ++i) {
        double fd = quotient(values, i, tower ? 1e-3f : 1e-2f);
        if (tower && std::fabs(grad[i] - fd) > 2e-4) fd = quotient(values, i, 2.5e-4f);
        EXPECT_NEAR(grad[i], fd, 2e-4)
            << SparseModelKindName(config.kind) << " " << what << " " << i;
      }
    };
    check(rows, row_grad, "row float");
    check(dense, dense_grad, "dense parameter");
  }
}

// DeepFM is its FM plus a tower over the fields' pooled embeddings: with the tower's output
// layer at zero it gives exactly the FM's logits, and the tower's input sees each field apart.
TEST(SparseModelTest, DeepFmAddsItsTowerToTheFm) {
  constexpr int kK = 4;
  auto fm = MakeSparseModel({SparseModelKind::kFm, kK}).value();
  auto deep = MakeSparseModel({.kind = SparseModelKind::kDeepFm,
                               .embedding_size = kK,
                               .hidden_layers = {8},
                               .num_fields = 6})
                  .value();
  ASSERT_EQ(deep->row_dim(), fm->row_dim());
  // bias, deep.fc0.weight [24 x 8], deep.fc0.bias [8], deep.fc1.weight [8 x 1], deep.fc1.bias.
  ASSERT_EQ(deep->dense_tensors().size(), 5u);
  EXPECT_EQ(deep->dense_tensors()[1].name, "deep.fc0.weight");
  EXPECT_EQ(deep->dense_tensors()[1].shape, (std::vector<int64_t>{6 * kK, 8}));
  EXPECT_EQ(deep->num_dense(), 1 + 24 * 8 + 8 + 8 + 1);
  const data::SparseBatch b = RandomBatch(20, 5);
  BatchKeys keys;
  IndexKeys(b, &keys);
  const std::vector<float> rows = RandomRows(keys.keys.size() * (1 + kK), 6);
  std::vector<float> dense(static_cast<size_t>(deep->num_dense()));
  deep->InitializeDense(9, dense.data());
  dense[0] = 0.3f;
  std::vector<float> fm_logits;
  std::vector<float> deep_logits;
  fm->Logits(dense.data(), rows, b, keys, &fm_logits);
  deep->Logits(dense.data(), rows, b, keys, &deep_logits);
  // The tower is initialised (He/Glorot), so it moves the logits...
  double moved = 0;
  for (size_t r = 0; r < fm_logits.size(); ++r) moved += std::fabs(deep_logits[r] - fm_logits[r]);
  EXPECT_GT(moved, 1e-3);
  // ...and with its output weights and bias at 0 it adds nothing.
  const TensorInfo& out_w = deep->dense_tensors()[3];
  std::fill_n(dense.begin() + out_w.offset, out_w.size + 1, 0.0f);
  deep->Logits(dense.data(), rows, b, keys, &deep_logits);
  for (size_t r = 0; r < fm_logits.size(); ++r) EXPECT_FLOAT_EQ(deep_logits[r], fm_logits[r]);
}

TEST(SparseModelTest, LogLossIsStableForLargeLogits) {
  EXPECT_NEAR(LogLoss(0.0f, 1.0f), std::log(2.0), 1e-12);
  EXPECT_NEAR(LogLoss(100.0f, 0.0f), 100.0, 1e-9);
  EXPECT_NEAR(LogLoss(-100.0f, 1.0f), 100.0, 1e-9);
  EXPECT_LT(LogLoss(100.0f, 1.0f), 1e-40);
}

TEST(SparseModelTest, RefusesBadConfigurations) {
  EXPECT_NE(ValidateSparseModelConfig({SparseModelKind::kFm, 0}).message().find("embedding_size"),
            std::string::npos);
  EXPECT_FALSE(ValidateSparseModelConfig({SparseModelKind::kLogistic, 4}).ok());
  EXPECT_TRUE(ValidateSparseModelConfig({SparseModelKind::kFm, 8}).ok());
  EXPECT_FALSE(ValidateSparseModelConfig({SparseModelKind::kDeepFm, 8}).ok());  // no layers
  EXPECT_FALSE(ValidateSparseModelConfig({SparseModelKind::kFm, 8, {16}}).ok());
  EXPECT_FALSE(
      ValidateSparseModelConfig({SparseModelKind::kDeepFm, 8, {16}, /*num_fields=*/0}).ok());
  EXPECT_FALSE(
      ValidateSparseModelConfig({SparseModelKind::kDeepFm, 8, {16}, /*num_fields=*/256}).ok());
  EXPECT_TRUE(
      ValidateSparseModelConfig({SparseModelKind::kDeepFm, 8, {16}, /*num_fields=*/255}).ok());
}

TEST(BinaryMetricsTest, AucCountsOrderedPairsAndHalfTies) {
  const std::vector<float> labels = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}, labels), 1.0);
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.4f, 0.3f, 0.2f, 0.1f}, labels), 0.0);
  // Pairs (neg, pos): (0.1,0.3) ok, (0.1,0.2) ok, (0.3,0.3) tie, (0.3,0.2) wrong: 2.5 / 4.
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.1f, 0.3f, 0.3f, 0.2f}, labels), 0.625);
  EXPECT_TRUE(std::isnan(Auc(std::vector<float>{0.1f, 0.2f}, std::vector<float>{1, 1})));
}

}  // namespace
}  // namespace ringtrain::model
