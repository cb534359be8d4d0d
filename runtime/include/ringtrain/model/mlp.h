// MlpModel: a multi-layer perceptron with ReLU hidden layers and a softmax output.
//
//   h_0 = X, h_{i+1} = relu(h_i W_i + b_i) for each hidden layer, logits = h_L W_L + b_L.
//
// Parameter layout, in order for i = 0..L: "fc<i>.weight" W_i [in_i x out_i] (row-major), then
// "fc<i>.bias" b_i [out_i]; layer L is the output layer. Hidden weights start He-uniform, the
// output weights Glorot-uniform, biases 0. The ReLU derivative at 0 is taken as 0.
//
// The layers are an MlpTower (mlp_tower.h) with num_classes outputs.
//
// Thread-safety: as for Model (keeps per-layer scratch matrices; one instance per thread).
#ifndef RINGTRAIN_MODEL_MLP_H_
#define RINGTRAIN_MODEL_MLP_H_

#include <cstdint>
#include <vector>

#include "ringtrain/data/matrix.h"
#include "ringtrain/model/mlp_tower.h"
#include "ringtrain/model/model.h"

namespace ringtrain::model {

class MlpModel final : public Model {
 public:
  // REQUIRES: input_dim >= 1, num_classes >= 2, hidden_layers non-empty with every width >= 1
  //           (MakeModel validates these).
  MlpModel(int input_dim, const std::vector<int>& hidden_layers, int num_classes);

  const std::vector<TensorInfo>& tensors() const override { return tower_.tensors(); }
  int64_t num_params() const override { return tower_.num_params(); }
  int input_dim() const override { return input_dim_; }
  int num_classes() const override { return num_classes_; }

  void Initialize(uint64_t seed, float* params) const override;
  double LossAndGradient(const float* params, const BatchView& batch, float* grad) override;
  EvalResult Evaluate(const float* params, const BatchView& batch) override;
  void Logits(const float* params, const Eigen::Ref<const RowMatrixXf>& x,
              RowMatrixXf* logits) override;

 private:
  const int input_dim_;
  const int num_classes_;
  MlpTower tower_;
};

}  // namespace ringtrain::model

#endif  // RINGTRAIN_MODEL_MLP_H_
