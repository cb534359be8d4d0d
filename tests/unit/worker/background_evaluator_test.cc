// BackgroundEvaluator: the results are the model's own evaluation of the parameters submitted
// (a copy taken at Submit, so the caller may change its vector at once), in the order
// submitted, each once; the thread runs at the lowest priority, and a caller that must wait for
// it evaluates the chunks left with its helper model.
#include "ringtrain/worker/background_evaluator.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <thread>
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
  std::unique_ptr<model::Model> helper = Mlp();  // a Submit() while one runs finishes it
  std::vector<std::vector<float>> versions;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    versions.emplace_back(static_cast<size_t>(reference->num_params()));
    reference->Initialize(seed, versions.back().data());
  }
  BackgroundEvaluator evaluator(own.get(), &test, helper.get());
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
    // Equal up to rounding: the chunks' sums are added in the set's order, and a row's logits
    // may differ in their last bits with the rows evaluated together (Eigen's GEMM blocks by
    // shape).
    const double want_loss = want.loss_sum / static_cast<double>(want.count);
    EXPECT_NEAR(got[i].loss, want_loss, 1e-6 * std::abs(want_loss));
  }
  // Different parameters, different results: the copies were not all the same vector.
  EXPECT_NE(got[0].loss, got[1].loss);
  EXPECT_EQ(
      evaluator.chunks_helped() + evaluator.chunks_in_background(),
      4 * ((test.rows() + BackgroundEvaluator::kChunkRows - 1) / BackgroundEvaluator::kChunkRows));
}

// The model's own evaluation, held at the gate until it opens, noting the priority of the thread
// it runs on.
class GatedModel : public model::Model {
 public:
  explicit GatedModel(std::unique_ptr<model::Model> inner) : inner_(std::move(inner)) {}
  const std::vector<model::TensorInfo>& tensors() const override { return inner_->tensors(); }
  int64_t num_params() const override { return inner_->num_params(); }
  int input_dim() const override { return inner_->input_dim(); }
  int num_classes() const override { return inner_->num_classes(); }
  void Initialize(uint64_t seed, float* params) const override { inner_->Initialize(seed, params); }
  double LossAndGradient(const float* params, const BatchView& batch, float* grad) override {
    return inner_->LossAndGradient(params, batch, grad);
  }
  model::EvalResult Evaluate(const float* params, const BatchView& batch) override {
    nice_ = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    entered_ = true;
    while (!open_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return inner_->Evaluate(params, batch);
  }
  void Logits(const float* params, const Eigen::Ref<const RowMatrixXf>& x,
              RowMatrixXf* logits) override {
    inner_->Logits(params, x, logits);
  }

  std::atomic<bool> entered_{false};
  std::atomic<bool> open_{false};
  std::atomic<int> nice_{0};

 private:
  std::unique_ptr<model::Model> inner_;
};

// Polls `done` for up to 30 s.
bool Eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(BackgroundEvaluatorTest, AWaitingCallerEvaluatesTheChunksLeftAtItsOwnPriority) {
  // 10 chunks; the thread's first is held at the gate until the caller has done the other 9.
  const data::Dataset test = RandomTestSet(9 * BackgroundEvaluator::kChunkRows + 7);
  const int64_t chunks = 10;
  GatedModel gated(Mlp());
  std::unique_ptr<model::Model> helper = Mlp();
  std::unique_ptr<model::Model> reference = Mlp();
  std::vector<float> params(static_cast<size_t>(reference->num_params()));
  reference->Initialize(7, params.data());
  const model::EvalResult want =
      reference->Evaluate(params.data(), data::View(test, {0, test.rows()}));

  const int own_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  BackgroundEvaluator evaluator(&gated, &test, helper.get());
  // Opened on every way out, before the evaluator (declared above) waits for the thread's chunk.
  struct OpenOnExit {
    GatedModel* model;
    ~OpenOnExit() { model->open_ = true; }
  } open_on_exit{&gated};
  evaluator.Submit(1, params);
  ASSERT_TRUE(Eventually([&] { return gated.entered_.load(); })) << "the thread took no chunk";
  EXPECT_EQ(gated.nice_.load(), 19) << "the evaluation thread runs at the lowest priority";
  std::thread opener([&] {
    // Finish() below evaluates the 9 chunks left, then waits for the thread's.
    EXPECT_TRUE(Eventually([&] { return evaluator.chunks_helped() == chunks - 1; }));
    gated.open_ = true;
  });
  const std::vector<EvaluationResult> got = evaluator.Finish();
  opener.join();
  EXPECT_EQ(evaluator.chunks_helped(), chunks - 1);
  EXPECT_EQ(evaluator.chunks_in_background(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].epoch, 1);
  EXPECT_DOUBLE_EQ(got[0].accuracy,
                   static_cast<double>(want.correct) / static_cast<double>(want.count));
  const double want_loss = want.loss_sum / static_cast<double>(want.count);
  EXPECT_NEAR(got[0].loss, want_loss, 1e-6 * std::abs(want_loss));
  // The caller's thread kept its own priority.
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), own_nice);
}

TEST(BackgroundEvaluatorTest, WithoutAHelperTheThreadEvaluatesEveryChunk) {
  const data::Dataset test = RandomTestSet(1000);  // 4 chunks
  std::unique_ptr<model::Model> own = Mlp();
  std::vector<float> params(static_cast<size_t>(own->num_params()));
  own->Initialize(3, params.data());
  BackgroundEvaluator evaluator(own.get(), &test);
  evaluator.Submit(1, params);
  evaluator.Submit(2, params);
  EXPECT_EQ(evaluator.Finish().size(), 2u);
  EXPECT_EQ(evaluator.chunks_helped(), 0);
  EXPECT_EQ(evaluator.chunks_in_background(), 8);
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
  std::unique_ptr<model::Model> helper = Mlp();
  {
    BackgroundEvaluator evaluator(own.get(), &test, helper.get());
    evaluator.Submit(1, params);
    evaluator.Submit(2, params);  // the first finished, with the helper's help if need be
  }                               // the destructor finishes the second the same way
}

}  // namespace
}  // namespace ringtrain::worker
