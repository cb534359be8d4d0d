#include "ringtrain/model/softmax.h"

#include <algorithm>
#include <span>

#include "ringtrain/common/check.h"
#include "ringtrain/model/cross_entropy.h"
#include "ringtrain/model/init.h"
#include "ringtrain/model/sum_rows.h"

namespace ringtrain::model {
namespace {

// Rows per chunk in Evaluate: bounds the scratch logits to kEvalChunkRows x num_classes.
constexpr int64_t kEvalChunkRows = 1024;

}  // namespace

SoftmaxModel::SoftmaxModel(int input_dim, int num_classes)
    : input_dim_(input_dim),
      num_classes_(num_classes),
      num_params_(int64_t{input_dim} * num_classes + num_classes) {
  RT_CHECK(input_dim >= 1 && num_classes >= 2);
  const int64_t w_size = int64_t{input_dim} * num_classes;
  tensors_.push_back({"fc0.weight", {input_dim, num_classes}, 0, w_size});
  tensors_.push_back({"fc0.bias", {num_classes}, w_size, num_classes});
}

void SoftmaxModel::Initialize(uint64_t seed, float* params) const {
  RT_CHECK(params != nullptr);
  const TensorInfo& w = tensors_[0];
  const TensorInfo& b = tensors_[1];
  FillUniform(DeriveSeed(seed, 0), GlorotUniformLimit(input_dim_, num_classes_),
              std::span<float>(params + w.offset, w.size));
  std::fill_n(params + b.offset, b.size, 0.0f);
}

double SoftmaxModel::LossAndGradient(const float* params, const BatchView& batch, float* grad) {
  RT_CHECK(params != nullptr && grad != nullptr);
  RT_CHECK(batch.x.cols() == input_dim_ || batch.rows() == 0);
  const int64_t n = batch.rows();
  if (n == 0) {
    std::fill_n(grad, num_params_, 0.0f);
    return 0.0;
  }
  const int64_t b_offset = tensors_[1].offset;
  Eigen::Map<const RowMatrixXf> w(params, input_dim_, num_classes_);
  Eigen::Map<const Eigen::RowVectorXf> b(params + b_offset, num_classes_);
  Eigen::Map<RowMatrixXf> grad_w(grad, input_dim_, num_classes_);

  logits_.resize(n, num_classes_);
  logits_.noalias() = batch.x * w;
  logits_.rowwise() += b;
  const double loss_sum =
      SoftmaxCrossEntropyBackward(batch.labels, 1.0f / static_cast<float>(n), &logits_);
  grad_w.noalias() = batch.x.transpose() * logits_;
  SumRows(logits_, grad + b_offset);
  return loss_sum / static_cast<double>(n);
}

EvalResult SoftmaxModel::Evaluate(const float* params, const BatchView& batch) {
  RT_CHECK(params != nullptr);
  RT_CHECK(batch.x.cols() == input_dim_ || batch.rows() == 0);
  Eigen::Map<const RowMatrixXf> w(params, input_dim_, num_classes_);
  Eigen::Map<const Eigen::RowVectorXf> b(params + tensors_[1].offset, num_classes_);
  EvalResult result;
  const int64_t n = batch.rows();
  for (int64_t start = 0; start < n; start += kEvalChunkRows) {
    const int64_t len = std::min(kEvalChunkRows, n - start);
    logits_.resize(len, num_classes_);
    logits_.noalias() = batch.x.middleRows(start, len) * w;
    logits_.rowwise() += b;
    AccumulateCrossEntropyEval(logits_, batch.labels + start, &result);
  }
  return result;
}

void SoftmaxModel::Logits(const float* params, const Eigen::Ref<const RowMatrixXf>& x,
                          RowMatrixXf* logits) {
  RT_CHECK(params != nullptr && logits != nullptr);
  RT_CHECK(x.cols() == input_dim_ || x.rows() == 0);
  Eigen::Map<const RowMatrixXf> w(params, input_dim_, num_classes_);
  Eigen::Map<const Eigen::RowVectorXf> b(params + tensors_[1].offset, num_classes_);
  const int64_t n = x.rows();
  logits->resize(n, num_classes_);
  // The same chunks as Evaluate, so both give the same bits for the same rows.
  for (int64_t start = 0; start < n; start += kEvalChunkRows) {
    const int64_t len = std::min(kEvalChunkRows, n - start);
    logits->middleRows(start, len).noalias() = x.middleRows(start, len) * w;
    logits->middleRows(start, len).rowwise() += b;
  }
}

}  // namespace ringtrain::model
