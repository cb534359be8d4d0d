// MlpTower: fully connected layers with ReLU between them and a linear output, the network
// part of MlpModel (softmax on top) and of the deep CTR model (one logit on top).
//
//   h_0 = X, h_{i+1} = relu(h_i W_i + b_i) for each hidden layer, out = h_L W_L + b_L.
//
// Its tensors live in a model's flat parameter vector from `offset` on, in order for i = 0..L:
// "<prefix>fc<i>.weight" W_i [in_i x out_i] (row-major), then "<prefix>fc<i>.bias" b_i
// [out_i]. Initialize draws hidden weights He-uniform and the output weights Glorot-uniform
// from DeriveSeed(seed, i), biases 0. The ReLU derivative at 0 is taken as 0.
//
// Thread-safety: keeps per-layer scratch matrices; one instance per thread.
#ifndef RINGTRAIN_MODEL_MLP_TOWER_H_
#define RINGTRAIN_MODEL_MLP_TOWER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ringtrain/data/matrix.h"
#include "ringtrain/model/model.h"

namespace ringtrain::model {

class MlpTower {
 public:
  // REQUIRES: input_dim >= 1, output_dim >= 1, every hidden width >= 1, offset >= 0.
  MlpTower(int input_dim, const std::vector<int>& hidden_layers, int output_dim, int64_t offset,
           const std::string& prefix);

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  int64_t num_params() const { return num_params_; }  // the tower's own, from offset()
  int64_t offset() const { return offset_; }

  // Writes the tower's initial parameters into params[offset() .. offset() + num_params()).
  void Initialize(uint64_t seed, float* params) const;

  // Computes every layer for the rows of x; returns the output (x.rows() x output_dim), valid
  // until the next call; the caller may overwrite it (with the loss's gradient, for Backward).
  // `params` is the model's whole vector.
  RowMatrixXf& Forward(const float* params, const Eigen::Ref<const RowMatrixXf>& x);

  // After Forward(params, x): given *dout, the gradient of the loss with respect to the output
  // (consumed as scratch), writes the gradient with respect to the tower's parameters into
  // grad[offset() ..) and, when dx != nullptr, with respect to x into *dx (resized).
  void Backward(const float* params, const Eigen::Ref<const RowMatrixXf>& x, RowMatrixXf* dout,
                float* grad, RowMatrixXf* dx);

 private:
  struct Layer {
    int in = 0;
    int out = 0;
    int64_t w_offset = 0;
    int64_t b_offset = 0;
  };

  int64_t offset_;
  int64_t num_params_ = 0;
  std::vector<Layer> layers_;
  std::vector<TensorInfo> tensors_;
  // acts_[i]: output of layer i (post-ReLU for hidden layers; the output for the last).
  // deltas_[i]: gradient of the loss with respect to the pre-activation of hidden layer i.
  std::vector<RowMatrixXf> acts_;
  std::vector<RowMatrixXf> deltas_;
};

}  // namespace ringtrain::model

#endif  // RINGTRAIN_MODEL_MLP_TOWER_H_
