// Feature-wise sharding's model half (model/feature_block.h): the blocks cover the features;
// the partial logits of every block, summed, are the model's logits; and each worker's block
// gradient, laid side by side with the others', is SoftmaxModel's gradient of the whole batch
// (the bias's the same on every worker), with its loss.
#include "ringtrain/model/feature_block.h"

#include <gtest/gtest.h>

#include <vector>

#include "ringtrain/model/softmax.h"
#include "test_util.h"

namespace ringtrain::model {
namespace {

TEST(FeatureBlockTest, BlocksAreDisjointAndCoverTheFeatures) {
  for (const int workers : {1, 2, 3, 7, 64}) {
    int64_t next = 0;
    for (int k = 0; k < workers; ++k) {
      const FeatureBlock b = FeatureBlockOf(64, workers, k);
      EXPECT_EQ(b.begin, next);
      EXPECT_GE(b.width(), 64 / workers);
      EXPECT_LE(b.width(), 64 / workers + 1);
      next = b.end;
    }
    EXPECT_EQ(next, 64);
  }
}

TEST(FeatureBlockTest, TheBlocksGradientsSideBySideAreTheModelsGradient) {
  constexpr int kDim = 23;
  constexpr int kClasses = 5;
  constexpr int kRows = 17;
  constexpr int kWorkers = 3;
  SoftmaxModel model(kDim, kClasses);
  std::vector<float> params(static_cast<size_t>(model.num_params()));
  model.Initialize(7, params.data());
  for (int c = 0; c < kClasses; ++c) params[kDim * kClasses + c] = 0.1f * static_cast<float>(c);
  const testing::OwnedBatch batch = testing::RandomBatch(3, kRows, kDim, kClasses);
  std::vector<float> full(params.size());
  const double loss = model.LossAndGradient(params.data(), batch.view(), full.data());

  // The workers' partial logits, summed (what the servers would add up).
  RowMatrixXf summed = RowMatrixXf::Zero(kRows, kClasses);
  for (int k = 0; k < kWorkers; ++k) {
    const FeatureBlock b = FeatureBlockOf(kDim, kWorkers, k);
    RowMatrixXf partial;
    PartialLogits(params.data(), kClasses, b, batch.x.middleCols(b.begin, b.width()), &partial);
    summed += partial;
  }
  std::vector<float> assembled(params.size(), 0.0f);
  for (int k = 0; k < kWorkers; ++k) {
    const FeatureBlock b = FeatureBlockOf(kDim, kWorkers, k);
    RowMatrixXf logits = summed;
    std::vector<float> grad(params.size(), -1.0f);
    const double block_loss = BlockLossAndGradient(params.data(), kDim, kClasses, b,
                                                   batch.x.middleCols(b.begin, b.width()),
                                                   batch.labels.data(), &logits, grad.data());
    EXPECT_NEAR(block_loss, loss, 1e-6);
    for (size_t i = 0; i < grad.size(); ++i) {
      const int64_t feature = static_cast<int64_t>(i) / kClasses;
      if (feature >= kDim) {
        EXPECT_NEAR(grad[i], full[i], 1e-6) << "bias " << i << ", worker " << k;
      } else if (feature < b.begin || feature >= b.end) {
        EXPECT_EQ(grad[i], 0.0f) << "outside the block: " << i;
      } else {
        assembled[i] = grad[i];
      }
    }
  }
  for (int64_t i = 0; i < int64_t{kDim} * kClasses; ++i) {
    EXPECT_NEAR(assembled[static_cast<size_t>(i)], full[static_cast<size_t>(i)], 1e-6) << i;
  }
}

}  // namespace
}  // namespace ringtrain::model
