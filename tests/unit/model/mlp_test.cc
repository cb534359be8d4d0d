// MlpModel: layout and a hand-computed forward/backward pass with a dead ReLU (empty batches and
// chunked evaluation: model_test.cc, for every kind).
#include "ringtrain/model/mlp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"

namespace ringtrain::model {
namespace {

using testing::OwnedBatch;

TEST(MlpModelTest, LayoutOfFashionMnistMlp) {
  MlpModel model(784, {256}, 10);
  const std::vector<TensorInfo>& t = model.tensors();
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].name, "fc0.weight");
  EXPECT_EQ(t[0].shape, (std::vector<int64_t>{784, 256}));
  EXPECT_EQ(t[1].name, "fc0.bias");
  EXPECT_EQ(t[1].shape, (std::vector<int64_t>{256}));
  EXPECT_EQ(t[2].name, "fc1.weight");
  EXPECT_EQ(t[2].shape, (std::vector<int64_t>{256, 10}));
  EXPECT_EQ(t[3].name, "fc1.bias");
  int64_t offset = 0;
  for (const TensorInfo& info : t) {
    EXPECT_EQ(info.offset, offset) << info.name;
    int64_t product = 1;
    for (int64_t d : info.shape) product *= d;
    EXPECT_EQ(info.size, product) << info.name;
    offset += info.size;
  }
  EXPECT_EQ(model.num_params(), 784 * 256 + 256 + 256 * 10 + 10);
  EXPECT_EQ(offset, model.num_params());
  EXPECT_EQ(model.input_dim(), 784);
  EXPECT_EQ(model.num_classes(), 10);
}

TEST(MlpModelTest, HandComputedCaseWithDeadRelu) {
  // 1 input, hidden [1], 2 classes. Layout: W0 [0], b0 [1], W1 [2, 3], b1 [4, 5].
  // W0 = 2, b0 = -1, W1 = [1, -1], b1 = 0; labels 0, 0.
  // Row 0: x = 1 -> pre 1, h = 1, logits [1, -1]: loss log(1 + e^-2), p0 = sigmoid(2).
  // Row 1: x = 0 -> pre -1, h = 0 (dead), logits [0, 0]: loss ln 2, p = [1/2, 1/2].
  MlpModel model(1, {1}, 2);
  const std::vector<float> params = {2, -1, 1, -1, 0, 0};
  OwnedBatch batch;
  batch.x.resize(2, 1);
  batch.x << 1, 0;
  batch.labels = {0, 0};
  std::vector<float> grad(6, std::numeric_limits<float>::quiet_NaN());
  const double loss = model.LossAndGradient(params.data(), batch.view(), grad.data());
  EXPECT_NEAR(loss, (std::log(1 + std::exp(-2.0)) + std::log(2.0)) / 2, 1e-6);

  const double s = 1 / (1 + std::exp(-2.0));
  const double d0 = (s - 1) / 2;   // dlogits row 0 = [d0, -d0] (mean over 2 rows)
  const double d1 = -0.25;         // dlogits row 1 = [d1, -d1]
  EXPECT_NEAR(grad[2], d0, 1e-6);  // dW1 = h^T dlogits; row 1 has h = 0
  EXPECT_NEAR(grad[3], -d0, 1e-6);
  EXPECT_NEAR(grad[4], d0 + d1, 1e-6);  // db1 = column sums
  EXPECT_NEAR(grad[5], -d0 - d1, 1e-6);
  // dh row 0 = dlogits . W1 = 2 d0 (ReLU open); row 1 is masked by the dead ReLU.
  EXPECT_NEAR(grad[0], 2 * d0 * 1.0, 1e-6);  // dW0 = x^T dpre
  EXPECT_NEAR(grad[1], 2 * d0, 1e-6);        // db0
}

}  // namespace
}  // namespace ringtrain::model
