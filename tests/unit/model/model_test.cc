// MakeModel and ValidateModelConfig.
#include "ringtrain/model/model.h"

#include <gtest/gtest.h>

#include <string>

namespace ringtrain::model {
namespace {

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

}  // namespace
}  // namespace ringtrain::model
