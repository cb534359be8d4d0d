#include "ringtrain/model/mlp.h"

#include <algorithm>
#include <span>
#include <string>

#include "ringtrain/common/check.h"
#include "ringtrain/model/cross_entropy.h"
#include "ringtrain/model/init.h"

namespace ringtrain::model {
namespace {

// Rows per chunk in Evaluate: bounds the scratch activations to this many rows.
constexpr int64_t kEvalChunkRows = 1024;

}  // namespace

MlpModel::MlpModel(int input_dim, const std::vector<int>& hidden_layers, int num_classes)
    : input_dim_(input_dim), num_classes_(num_classes) {
  RT_CHECK(input_dim >= 1 && num_classes >= 2 && !hidden_layers.empty());
  int in = input_dim;
  for (size_t i = 0; i <= hidden_layers.size(); ++i) {
    const int out = i < hidden_layers.size() ? hidden_layers[i] : num_classes;
    RT_CHECK(out >= 1);
    Layer layer;
    layer.in = in;
    layer.out = out;
    layer.w_offset = num_params_;
    layer.b_offset = num_params_ + int64_t{in} * out;
    num_params_ = layer.b_offset + out;
    layers_.push_back(layer);
    const std::string prefix = "fc" + std::to_string(i);
    tensors_.push_back({prefix + ".weight", {in, out}, layer.w_offset, int64_t{in} * out});
    tensors_.push_back({prefix + ".bias", {out}, layer.b_offset, out});
    in = out;
  }
  acts_.resize(layers_.size());
  deltas_.resize(layers_.size() - 1);
}

void MlpModel::Initialize(uint64_t seed, float* params) const {
  RT_CHECK(params != nullptr);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    const bool is_output = i + 1 == layers_.size();
    const float limit =
        is_output ? GlorotUniformLimit(layer.in, layer.out) : HeUniformLimit(layer.in);
    FillUniform(DeriveSeed(seed, i), limit,
                std::span<float>(params + layer.w_offset, int64_t{layer.in} * layer.out));
    std::fill_n(params + layer.b_offset, layer.out, 0.0f);
  }
}

void MlpModel::Forward(const float* params, const Eigen::Ref<const RowMatrixXf>& x) {
  const int64_t n = x.rows();
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    Eigen::Map<const RowMatrixXf> w(params + layer.w_offset, layer.in, layer.out);
    Eigen::Map<const Eigen::RowVectorXf> b(params + layer.b_offset, layer.out);
    RowMatrixXf& out = acts_[i];
    out.resize(n, layer.out);
    if (i == 0) {
      out.noalias() = x * w;
    } else {
      out.noalias() = acts_[i - 1] * w;
    }
    out.rowwise() += b;
    if (i + 1 < layers_.size()) out.array() = out.array().max(0.0f);
  }
}

double MlpModel::LossAndGradient(const float* params, const BatchView& batch, float* grad) {
  RT_CHECK(params != nullptr && grad != nullptr);
  RT_CHECK(batch.x.cols() == input_dim_ || batch.rows() == 0);
  const int64_t n = batch.rows();
  if (n == 0) {
    std::fill_n(grad, num_params_, 0.0f);
    return 0.0;
  }
  Forward(params, batch.x);
  const double loss_sum =
      SoftmaxCrossEntropyBackward(batch.labels, 1.0f / static_cast<float>(n), &acts_.back());

  for (size_t i = layers_.size(); i-- > 0;) {
    const Layer& layer = layers_[i];
    // Gradient with respect to this layer's pre-activation.
    const RowMatrixXf& delta = i + 1 == layers_.size() ? acts_.back() : deltas_[i];
    Eigen::Map<RowMatrixXf> grad_w(grad + layer.w_offset, layer.in, layer.out);
    Eigen::Map<Eigen::RowVectorXf> grad_b(grad + layer.b_offset, layer.out);
    if (i == 0) {
      grad_w.noalias() = batch.x.transpose() * delta;
    } else {
      grad_w.noalias() = acts_[i - 1].transpose() * delta;
    }
    grad_b.noalias() = delta.colwise().sum();
    if (i > 0) {
      Eigen::Map<const RowMatrixXf> w(params + layer.w_offset, layer.in, layer.out);
      RowMatrixXf& prev = deltas_[i - 1];
      prev.resize(n, layer.in);
      prev.noalias() = delta * w.transpose();
      // ReLU backward: acts_[i - 1] > 0 exactly where the pre-activation was positive.
      prev.array() = (acts_[i - 1].array() > 0.0f).select(prev.array(), 0.0f);
    }
  }
  return loss_sum / static_cast<double>(n);
}

EvalResult MlpModel::Evaluate(const float* params, const BatchView& batch) {
  RT_CHECK(params != nullptr);
  RT_CHECK(batch.x.cols() == input_dim_ || batch.rows() == 0);
  EvalResult result;
  const int64_t n = batch.rows();
  for (int64_t start = 0; start < n; start += kEvalChunkRows) {
    const int64_t len = std::min(kEvalChunkRows, n - start);
    Forward(params, batch.x.middleRows(start, len));
    AccumulateCrossEntropyEval(acts_.back(), batch.labels + start, &result);
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
    Forward(params, x.middleRows(start, len));
    logits->middleRows(start, len) = acts_.back();
  }
}

}  // namespace ringtrain::model
