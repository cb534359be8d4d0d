#include "ringtrain/model/mlp_tower.h"

#include <algorithm>
#include <span>

#include "ringtrain/common/check.h"
#include "ringtrain/model/init.h"
#include "ringtrain/model/sum_rows.h"

namespace ringtrain::model {

MlpTower::MlpTower(int input_dim, const std::vector<int>& hidden_layers, int output_dim,
                   int64_t offset, const std::string& prefix)
    : offset_(offset) {
  RT_CHECK(input_dim >= 1 && output_dim >= 1 && offset >= 0);
  int in = input_dim;
  int64_t at = offset;
  for (size_t i = 0; i <= hidden_layers.size(); ++i) {
    const int out = i < hidden_layers.size() ? hidden_layers[i] : output_dim;
    RT_CHECK(out >= 1);
    Layer layer;
    layer.in = in;
    layer.out = out;
    layer.w_offset = at;
    layer.b_offset = at + int64_t{in} * out;
    at = layer.b_offset + out;
    layers_.push_back(layer);
    const std::string name = prefix + "fc" + std::to_string(i);
    tensors_.push_back({name + ".weight", {in, out}, layer.w_offset, int64_t{in} * out});
    tensors_.push_back({name + ".bias", {out}, layer.b_offset, out});
    in = out;
  }
  num_params_ = at - offset;
  acts_.resize(layers_.size());
  deltas_.resize(layers_.size() - 1);
}

void MlpTower::Initialize(uint64_t seed, float* params) const {
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

RowMatrixXf& MlpTower::Forward(const float* params, const Eigen::Ref<const RowMatrixXf>& x) {
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
  return acts_.back();
}

void MlpTower::Backward(const float* params, const Eigen::Ref<const RowMatrixXf>& x,
                        RowMatrixXf* dout, float* grad, RowMatrixXf* dx) {
  RT_CHECK(dout != nullptr && grad != nullptr);
  const int64_t n = x.rows();
  for (size_t i = layers_.size(); i-- > 0;) {
    const Layer& layer = layers_[i];
    // Gradient with respect to this layer's pre-activation.
    const RowMatrixXf& delta = i + 1 == layers_.size() ? *dout : deltas_[i];
    Eigen::Map<RowMatrixXf> grad_w(grad + layer.w_offset, layer.in, layer.out);
    if (i == 0) {
      grad_w.noalias() = x.transpose() * delta;
    } else {
      grad_w.noalias() = acts_[i - 1].transpose() * delta;
    }
    SumRows(delta, grad + layer.b_offset);
    Eigen::Map<const RowMatrixXf> w(params + layer.w_offset, layer.in, layer.out);
    if (i > 0) {
      RowMatrixXf& prev = deltas_[i - 1];
      prev.resize(n, layer.in);
      prev.noalias() = delta * w.transpose();
      // ReLU backward: acts_[i - 1] > 0 exactly where the pre-activation was positive.
      prev.array() = (acts_[i - 1].array() > 0.0f).select(prev.array(), 0.0f);
    } else if (dx != nullptr) {
      dx->resize(n, layer.in);
      dx->noalias() = delta * w.transpose();
    }
  }
}

}  // namespace ringtrain::model
