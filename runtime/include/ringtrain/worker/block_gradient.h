// BlockGradient: a worker's gradient in feature-wise sharding (spec.dataset.sharding: feature;
// model/feature_block.h, ps/margin_rounds.h).
//
// Every worker reads the same rows of a step, but only its column block of them; its batch's
// x is rows x block.width(). Compute():
//   1. partial logits of the block, x_block * W[block, :], from the parameters last pulled
//      (the block's rows of W and the bias: the client's scope);
//   2. their sum over every worker's block, through the parameter server that sums margins
//      (PsClient::SumMargins), the step's one extra round trip;
//   3. the batch's mean cross-entropy and the gradient of W[block, :] and, on the worker that
//      owns the bias (worker 0), of b; the bias's gradient is 0 on the others, so the servers'
//      sum of the blocks' pushes (ps/server_core.h, block sums) is the whole model's gradient.
// The loss is the whole model's (every worker computes the same number).
//
// Thread-safety: not thread-safe; used by its worker's trainer thread.
#ifndef RINGTRAIN_WORKER_BLOCK_GRADIENT_H_
#define RINGTRAIN_WORKER_BLOCK_GRADIENT_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/data/matrix.h"
#include "ringtrain/model/feature_block.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::worker {

struct BlockGradientOptions {
  model::FeatureBlock block;
  int input_dim = 0;    // features of the whole model
  int num_classes = 0;  // the softmax model's classes
  int margin_server = 0;
  bool owns_bias = false;
};

class BlockGradient {
 public:
  // REQUIRES: client outlives this; 0 <= block.begin < block.end <= input_dim; num_classes >= 1
  BlockGradient(BlockGradientOptions options, PsClient* client);

  // The element ranges this worker pushes and pulls (PsClientOptions::scope): its block's rows
  // of W, and the bias.
  static std::vector<std::pair<int64_t, int64_t>> Scope(model::FeatureBlock block, int input_dim,
                                                        int num_classes);

  // The batch's mean loss; `grad` (the model's num_params() floats) gets the block's gradient
  // (0 elsewhere). `step` is the worker's clock. REQUIRES: batch.x.cols() == block.width()
  StatusOr<double> Compute(const float* params, const data::Batch& batch, int64_t step,
                           float* grad);

 private:
  BlockGradientOptions options_;
  PsClient* client_;
  RowMatrixXf logits_;
};

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_WORKER_BLOCK_GRADIENT_H_
