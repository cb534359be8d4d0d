// SoftmaxModel: multinomial logistic regression, logits = X W + b.
//
// Parameter layout: "fc0.weight" W [input_dim x num_classes] (row-major) at offset 0, then
// "fc0.bias" b [num_classes]. Weights start Glorot-uniform, biases 0.
//
// Thread-safety: as for Model (keeps a scratch logits matrix; one instance per thread).
#ifndef RINGTRAIN_MODEL_SOFTMAX_H_
#define RINGTRAIN_MODEL_SOFTMAX_H_

#include <cstdint>
#include <vector>

#include "ringtrain/data/matrix.h"
#include "ringtrain/model/model.h"

namespace ringtrain::model {

class SoftmaxModel final : public Model {
 public:
  // REQUIRES: input_dim >= 1, num_classes >= 2 (MakeModel validates these).
  SoftmaxModel(int input_dim, int num_classes);

  const std::vector<TensorInfo>& tensors() const override { return tensors_; }
  int64_t num_params() const override { return num_params_; }
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
  const int64_t num_params_;
  std::vector<TensorInfo> tensors_;
  RowMatrixXf logits_;  // scratch: logits, then their gradient
};

}  // namespace ringtrain::model

#endif  // RINGTRAIN_MODEL_SOFTMAX_H_
