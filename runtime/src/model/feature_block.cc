#include "ringtrain/model/feature_block.h"

#include <algorithm>

#include "ringtrain/common/check.h"
#include "ringtrain/data/shard.h"
#include "ringtrain/model/cross_entropy.h"
#include "ringtrain/model/sum_rows.h"

namespace ringtrain::model {

FeatureBlock FeatureBlockOf(int64_t features, int workers, int index) {
  RT_CHECK(features >= 1);
  // The columns are split as rows are (data/shard.h).
  const data::RowRange r = data::RowShard(features, workers, index);
  return FeatureBlock{r.begin, r.end};
}

void PartialLogits(const float* params, int num_classes, FeatureBlock block,
                   const Eigen::Ref<const RowMatrixXf>& x_block, RowMatrixXf* out) {
  RT_CHECK(out != nullptr && x_block.cols() == block.width() && block.begin >= 0);
  Eigen::Map<const RowMatrixXf> w(params + block.begin * num_classes, block.width(), num_classes);
  out->resize(x_block.rows(), num_classes);
  out->noalias() = x_block * w;
}

double BlockLossAndGradient(const float* params, int input_dim, int num_classes, FeatureBlock block,
                            const Eigen::Ref<const RowMatrixXf>& x_block, const int32_t* labels,
                            RowMatrixXf* logits, float* grad) {
  RT_CHECK(logits != nullptr && grad != nullptr && x_block.cols() == block.width() &&
           block.begin >= 0 && block.end <= input_dim && logits->rows() == x_block.rows() &&
           logits->cols() == num_classes);
  const int64_t b_offset = int64_t{input_dim} * num_classes;
  std::fill_n(grad, b_offset + num_classes, 0.0f);
  const int64_t n = x_block.rows();
  if (n == 0) return 0.0;
  Eigen::Map<const Eigen::RowVectorXf> b(params + b_offset, num_classes);
  logits->rowwise() += b;
  const double loss_sum = SoftmaxCrossEntropyBackward(labels, 1.0f / static_cast<float>(n), logits);
  Eigen::Map<RowMatrixXf> grad_w(grad + block.begin * num_classes, block.width(), num_classes);
  grad_w.noalias() = x_block.transpose() * *logits;
  SumRows(*logits, grad + b_offset);
  return loss_sum / static_cast<double>(n);
}

}  // namespace ringtrain::model
