// Metrics of a binary classifier's scores: what click-through models are judged by.
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_MODEL_BINARY_METRICS_H_
#define RINGTRAIN_MODEL_BINARY_METRICS_H_

#include <span>

namespace ringtrain::model {

// The area under the ROC curve: the probability that a positive (label 1) scores above a
// negative (label 0), tied scores counting one half (the Mann-Whitney U statistic over the
// product of the class sizes). NaN when either class is empty. O(n log n).
// REQUIRES: scores.size() == labels.size(); labels are 0 or 1.
double Auc(std::span<const float> scores, std::span<const float> labels);

}  // namespace ringtrain::model

#endif  // RINGTRAIN_MODEL_BINARY_METRICS_H_
