// Softmax cross-entropy on a matrix of logits, shared by the models.
//
// Both functions are numerically stable: each row is shifted by its maximum before
// exponentiation, so logits of any finite magnitude give finite losses.
//
// Thread-safety: pure functions of their arguments.
#ifndef RINGTRAIN_MODEL_CROSS_ENTROPY_H_
#define RINGTRAIN_MODEL_CROSS_ENTROPY_H_

#include <cstdint>

#include "ringtrain/data/matrix.h"
#include "ringtrain/model/model.h"

namespace ringtrain::model {

// For each row r of `logits` (n x C) with label y_r, the loss is
// logsumexp(logits_r) - logits_r[y_r]. Returns the sum of the n losses and replaces each row by
// grad_scale * (softmax(logits_r) - onehot(y_r)), i.e. the gradient of
// grad_scale * (sum of losses) with respect to the logits. Pass 1/n for the mean loss.
// REQUIRES: logits != nullptr; labels points to n labels in [0, C).
double SoftmaxCrossEntropyBackward(const int32_t* labels, float grad_scale, RowMatrixXf* logits);

// Adds the losses of the rows of `logits`, the number of rows whose argmax (lowest index on
// ties) equals the label, and the row count into *result.
// REQUIRES: result != nullptr; labels points to logits.rows() labels in [0, logits.cols()).
void AccumulateCrossEntropyEval(const RowMatrixXf& logits, const int32_t* labels,
                                EvalResult* result);

}  // namespace ringtrain::model

#endif  // RINGTRAIN_MODEL_CROSS_ENTROPY_H_
