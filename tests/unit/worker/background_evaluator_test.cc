// BackgroundEvaluator: the results are the model's own evaluation of the parameters submitted
// (a copy taken at Submit, so the caller may change its vector at once), in the order
// submitted, each once.
#include "ringtrain/worker/background_evaluator.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "ringtrain/data/dataset.h"
#include "ringtrain/model/model.h"

namespace ringtrain::worker {
namespace {

constexpr int kInputs = 12;
constexpr int kClasses = 4;

data::Dataset RandomTestSet(int rows) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  data::Dataset d;
  d.num_classes = kClasses;
  d.features.resize(rows, kInputs);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < kInputs; ++c) d.features(r, c) = value(rng);
    d.labels.push_back(static_cast<int32_t>(rng() % kClasses));
  }
  return d;
}

std::unique_ptr<model::Model> Mlp() {
  model::ModelConfig config;
  config.kind = model::ModelKind::kMlp;
  config.hidden_layers = {8};
  config.input_dim = kInputs;
  config.num_classes = kClasses;
  auto made = model::MakeModel(config);
  EXPECT_TRUE(made.ok());
  return std::move(made).value();
}

TEST(BackgroundEvaluatorTest, EvaluatesACopyOfEachSubmissionInOrder) {
  const data::Dataset test = RandomTestSet(3000);
  std::unique_ptr<model::Model> reference = Mlp();
  std::unique_ptr<model::Model> own = Mlp();
  std::vector<std::vector<float>> versions;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    versions.emplace_back(static_cast<size_t>(reference->num_params()));
    reference->Initialize(seed, versions.back().data());
  }
  BackgroundEvaluator evaluator(own.get(), &test);
  std::vector<EvaluationResult> got;
  std::vector<float> params;
  for (size_t i = 0; i < versions.size(); ++i) {
    params = versions[i];
    evaluator.Submit(static_cast<int>(i) + 1, params);
    // The caller's vector changes at once; the evaluation has its own copy.
    std::fill(params.begin(), params.end(), 0.0f);
    for (const EvaluationResult& r : evaluator.Take()) got.push_back(r);
  }
  for (const EvaluationResult& r : evaluator.Finish()) got.push_back(r);
  EXPECT_TRUE(evaluator.Take().empty());
  EXPECT_TRUE(evaluator.Finish().empty());

  ASSERT_EQ(got.size(), versions.size());
  for (size_t i = 0; i < versions.size(); ++i) {
    SCOPED_TRACE(i);
    const model::EvalResult want =
        reference->Evaluate(versions[i].data(), data::View(test, {0, test.rows()}));
    EXPECT_EQ(got[i].epoch, static_cast<int>(i) + 1);
    EXPECT_DOUBLE_EQ(got[i].accuracy,
                     static_cast<double>(want.correct) / static_cast<double>(want.count));
    EXPECT_DOUBLE_EQ(got[i].loss, want.loss_sum / static_cast<double>(want.count));
  }
  // Different parameters, different results: the copies were not all the same vector.
  EXPECT_NE(got[0].loss, got[1].loss);
}

TEST(BackgroundEvaluatorTest, DestroyingWhileAnEvaluationRunsWaitsForIt) {
  const data::Dataset test = RandomTestSet(20000);
  std::unique_ptr<model::Model> own = Mlp();
  std::vector<float> params(static_cast<size_t>(own->num_params()));
  own->Initialize(3, params.data());
  {
    BackgroundEvaluator evaluator(own.get(), &test);
    evaluator.Submit(1, params);
  }  // joins without a crash or a race (TSan runs this test)
  SUCCEED();
}

}  // namespace
}  // namespace ringtrain::worker
