#include "ringtrain/model/mlp.h"

#include <algorithm>
#include <span>
#include <string>

#include "ringtrain/common/check.h"
#include "ringtrain/model/cross_entropy.h"

namespace ringtrain::model {
namespace {

// Rows per chunk in Evaluate: bounds the scratch activations to this many rows.
constexpr int64_t kEvalChunkRows = 1024;

}  // namespace

MlpModel::MlpModel(int input_dim, const std::vector<int>& hidden_layers, int num_classes)
    : input_dim_(input_dim),
      num_classes_(num_classes),
      tower_(input_dim, hidden_layers, num_classes, /*offset=*/0, /*prefix=*/"") {
  RT_CHECK(input_dim >= 1 && num_classes >= 2 && !hidden_layers.empty());
}

void MlpModel::Initialize(uint64_t seed, float* params) const { tower_.Initialize(seed, params); }

double MlpModel::LossAndGradient(const float* params, const BatchView& batch, float* grad) {
  RT_CHECK(params != nullptr && grad != nullptr);
  RT_CHECK(batch.x.cols() == input_dim_ || batch.rows() == 0);
  const int64_t n = batch.rows();
  if (n == 0) {
    std::fill_n(grad, tower_.num_params(), 0.0f);
    return 0.0;
  }
  // The tower's output is replaced by the loss's gradient in place, then consumed by Backward.
  RowMatrixXf& logits = tower_.Forward(params, batch.x);
  const double loss_sum =
      SoftmaxCrossEntropyBackward(batch.labels, 1.0f / static_cast<float>(n), &logits);
  tower_.Backward(params, batch.x, &logits, grad, /*dx=*/nullptr);
  return loss_sum / static_cast<double>(n);
}

EvalResult MlpModel::Evaluate(const float* params, const BatchView& batch) {
  RT_CHECK(params != nullptr);
  RT_CHECK(batch.x.cols() == input_dim_ || batch.rows() == 0);
  EvalResult result;
  const int64_t n = batch.rows();
  for (int64_t start = 0; start < n; start += kEvalChunkRows) {
    const int64_t len = std::min(kEvalChunkRows, n - start);
    AccumulateCrossEntropyEval(tower_.Forward(params, batch.x.middleRows(start, len)),
                               batch.labels + start, &result);
  }
  return result;
}

void MlpModel::Logits(const float* params, const Eigen::Ref<const RowMatrixXf>& x,
                      RowMatrixXf* logits) {
  RT_CHECK(params != nullptr && logits != nullptr);
  RT_CHECK(x.cols() == input_dim_ || x.rows() == 0);
  const int64_t n = x.rows();
  logits->resize(n, num_classes_);
  for (int64_t start = 0; start < n; start += kEvalChunkRows) {
    const int64_t len = std::min(kEvalChunkRows, n - start);
    logits->middleRows(start, len) = tower_.Forward(params, x.middleRows(start, len));
  }
}

}  // namespace ringtrain::model
