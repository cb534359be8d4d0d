#include "fm_terms.h"

#include <algorithm>

namespace ringtrain::model::internal {

float FmRowTerm(int k, std::span<const float> rows, const data::SparseBatch& batch,
                const BatchKeys& keys, int64_t r, float* sums) {
  const size_t width = static_cast<size_t>(1 + k);
  std::fill_n(sums, k, 0.0f);
  float linear = 0.0f;
  float squares = 0.0f;  // sum_e sum_f v_f^2 x_e^2
  for (int64_t e = batch.offsets[static_cast<size_t>(r)];
       e < batch.offsets[static_cast<size_t>(r) + 1]; ++e) {
    const float x = batch.values[static_cast<size_t>(e)];
    const float* row = rows.data() + keys.slot[static_cast<size_t>(e)] * width;
    linear += row[0] * x;
    for (int f = 0; f < k; ++f) {
      const float vx = row[1 + f] * x;
      sums[f] += vx;
      squares += vx * vx;
    }
  }
  float pairs = 0.0f;
  for (int f = 0; f < k; ++f) pairs += sums[f] * sums[f];
  return linear + 0.5f * (pairs - squares);
}

void FmRowGradient(int k, std::span<const float> rows, const data::SparseBatch& batch,
                   const BatchKeys& keys, int64_t r, float dz, const float* sums,
                   std::span<float> row_grad) {
  const size_t width = static_cast<size_t>(1 + k);
  for (int64_t e = batch.offsets[static_cast<size_t>(r)];
       e < batch.offsets[static_cast<size_t>(r) + 1]; ++e) {
    const float x = batch.values[static_cast<size_t>(e)];
    const size_t at = keys.slot[static_cast<size_t>(e)] * width;
    const float* row = rows.data() + at;
    float* grad = row_grad.data() + at;
    grad[0] += dz * x;
    for (int f = 0; f < k; ++f) {
      // d/dv_f of 1/2 [(s_f)^2 - sum v_f^2 x^2] = x s_f - v_f x^2
      grad[1 + f] += dz * (x * sums[f] - row[1 + f] * x * x);
    }
  }
}

}  // namespace ringtrain::model::internal
