#include "ringtrain/model/cross_entropy.h"

#include <cmath>

#include "ringtrain/common/check.h"

namespace ringtrain::model {

double SoftmaxCrossEntropyBackward(const int32_t* labels, float grad_scale, RowMatrixXf* logits) {
  RT_CHECK(logits != nullptr);
  const int64_t n = logits->rows();
  const int64_t c = logits->cols();
  RT_CHECK(n == 0 || labels != nullptr);
  double loss_sum = 0;
  for (int64_t r = 0; r < n; ++r) {
    const int32_t y = labels[r];
    RT_CHECK(y >= 0 && y < c);
    auto row = logits->row(r);
    const float max = row.maxCoeff();
    const float shifted_label_logit = row(y) - max;
    row.array() = (row.array() - max).exp();
    const float sum = row.sum();  // >= 1: the maximum contributes exp(0)
    loss_sum += std::log(static_cast<double>(sum)) - static_cast<double>(shifted_label_logit);
    row *= grad_scale / sum;
    row(y) -= grad_scale;
  }
  return loss_sum;
}

void AccumulateCrossEntropyEval(const RowMatrixXf& logits, const int32_t* labels,
                                EvalResult* result) {
  RT_CHECK(result != nullptr);
  const int64_t n = logits.rows();
  const int64_t c = logits.cols();
  RT_CHECK(n == 0 || labels != nullptr);
  for (int64_t r = 0; r < n; ++r) {
    const int32_t y = labels[r];
    RT_CHECK(y >= 0 && y < c);
    auto row = logits.row(r);
    int64_t argmax = 0;
    for (int64_t j = 1; j < c; ++j) {
      if (row(j) > row(argmax)) argmax = j;
    }
    const float max = row(argmax);
    const float sum = (row.array() - max).exp().sum();
    result->loss_sum += std::log(static_cast<double>(sum)) - static_cast<double>(row(y) - max);
    if (argmax == y) ++result->correct;
  }
  result->count += n;
}

}  // namespace ringtrain::model
