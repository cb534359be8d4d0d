#include "ringtrain/model/binary_metrics.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "ringtrain/common/check.h"

namespace ringtrain::model {

double Auc(std::span<const float> scores, std::span<const float> labels) {
  RT_CHECK(scores.size() == labels.size());
  std::vector<uint32_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return scores[a] < scores[b]; });
  // Sum of the positives' ranks (1-based, ties sharing their mean rank).
  double positive_ranks = 0;
  double positives = 0;
  size_t i = 0;
  while (i < order.size()) {
    size_t j = i;
    double tied_positives = 0;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) {
      tied_positives += labels[order[j]];
      ++j;
    }
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    positive_ranks += tied_positives * mean_rank;
    positives += tied_positives;
    i = j;
  }
  const double negatives = static_cast<double>(scores.size()) - positives;
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  const double u = positive_ranks - positives * (positives + 1) / 2.0;
  return u / (positives * negatives);
}

}  // namespace ringtrain::model
