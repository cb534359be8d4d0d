// Feature-wise sharding of a linear model (spec.dataset.sharding: feature, issue 13): the
// feature space is cut into column blocks, one per worker; each worker reads only its block's
// columns of a mini-batch (every worker the same rows), computes the partial logits of its
// block, the partial logits of all blocks are summed (through the servers), and each worker
// computes the gradient of its block's weights from the summed logits. The pieces here are the
// model's half, for the softmax model's layout (model/softmax.h: W [input_dim x classes]
// row-major, then b [classes]), so block [begin, end) of the features is the contiguous rows
// begin..end-1 of W.
//
//   FeatureBlockOf(F, K, k)   = [floor(k*F/K), floor((k+1)*F/K)): disjoint, covering [0, F).
//   PartialLogits             = x_block * W[begin:end, :]            (rows x classes)
//   BlockLossAndGradient      from the summed logits z = sum of partial logits (without b):
//                             adds b, returns the batch's mean cross-entropy, and writes the
//                             gradient of W[begin:end, :] (x_block^T * dz) and of b (colsum dz,
//                             the same on every worker) into the full gradient vector, 0
//                             elsewhere; dz = (softmax(z + b) - onehot(y)) / rows.
// The blocks' gradients laid side by side are the whole model's gradient (tested against
// SoftmaxModel::LossAndGradient).
//
// Thread-safety: pure functions of their arguments.
#ifndef RINGTRAIN_MODEL_FEATURE_BLOCK_H_
#define RINGTRAIN_MODEL_FEATURE_BLOCK_H_

#include <cstdint>

#include "ringtrain/data/matrix.h"

namespace ringtrain::model {

struct FeatureBlock {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t width() const { return end - begin; }
  bool operator==(const FeatureBlock&) const = default;
};

// REQUIRES: features >= 1, workers >= 1, 0 <= index < workers
FeatureBlock FeatureBlockOf(int64_t features, int workers, int index);

// REQUIRES: x_block.cols() == block.width(); 0 <= begin <= end <= input_dim; out != nullptr
void PartialLogits(const float* params, int num_classes, FeatureBlock block,
                   const Eigen::Ref<const RowMatrixXf>& x_block, RowMatrixXf* out);

// `logits` holds the summed partial logits on entry (x_block.rows() x num_classes) and their
// gradient on return. `grad` has the model's num_params() floats.
// REQUIRES: as PartialLogits; labels point to x_block.rows() labels in [0, num_classes)
double BlockLossAndGradient(const float* params, int input_dim, int num_classes, FeatureBlock block,
                            const Eigen::Ref<const RowMatrixXf>& x_block, const int32_t* labels,
                            RowMatrixXf* logits, float* grad);

}  // namespace ringtrain::model

#endif  // RINGTRAIN_MODEL_FEATURE_BLOCK_H_
