#include "ringtrain/worker/block_gradient.h"

#include <algorithm>
#include <span>
#include <string>

#include "ringtrain/common/check.h"

namespace ringtrain::worker {

BlockGradient::BlockGradient(BlockGradientOptions options, PsClient* client)
    : options_(options), client_(client) {
  RT_CHECK(client != nullptr && options_.num_classes >= 1 && options_.block.begin >= 0 &&
           options_.block.begin < options_.block.end && options_.block.end <= options_.input_dim);
}

std::vector<std::pair<int64_t, int64_t>> BlockGradient::Scope(model::FeatureBlock block,
                                                              int input_dim, int num_classes) {
  const int64_t classes = num_classes;
  const int64_t bias = int64_t{input_dim} * classes;
  return {{block.begin * classes, block.end * classes}, {bias, bias + classes}};
}

StatusOr<double> BlockGradient::Compute(const float* params, const data::Batch& batch, int64_t step,
                                        float* grad) {
  const int classes = options_.num_classes;
  const int64_t bias = int64_t{options_.input_dim} * classes;
  if (batch.rows == 0) {
    std::fill_n(grad, bias + classes, 0.0f);
    return 0.0;
  }
  const BatchView view = batch.view();
  const auto& x = view.x;
  model::PartialLogits(params, classes, options_.block, x, &logits_);
  RT_RETURN_IF_ERROR(client_->SumMargins(
      options_.margin_server, step, static_cast<uint32_t>(batch.rows),
      static_cast<uint32_t>(classes), std::span<float>(logits_.data(), logits_.size())));
  const double loss = model::BlockLossAndGradient(params, options_.input_dim, classes,
                                                  options_.block, x, view.labels, &logits_, grad);
  if (!options_.owns_bias) std::fill_n(grad + bias, classes, 0.0f);
  return loss;
}

}  // namespace ringtrain::worker
