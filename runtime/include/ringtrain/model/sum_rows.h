// SumRows: the sum of a matrix's rows, computed the same way wherever the result goes.
//
// Eigen's `out = m.colwise().sum()` splits the columns into SIMD packets by the alignment of
// `out`, and the columns it peels off are summed in another order than the packets: the bias
// gradient of the same batch then differed in its last bits with the address of the gradient
// buffer (seen with AVX2, where packets are 32 bytes and malloc guarantees 16). A step must
// compute the same gradient every time (replayed and resumed steps, the exactness tests), so the
// rows are added here one after another, each column's sum in row order.
#ifndef RINGTRAIN_MODEL_SUM_ROWS_H_
#define RINGTRAIN_MODEL_SUM_ROWS_H_

#include <algorithm>
#include <cstdint>

#include "ringtrain/data/matrix.h"

namespace ringtrain::model {

// out[c] = sum over r of m(r, c), r in order. REQUIRES: out holds m.cols() floats.
inline void SumRows(const RowMatrixXf& m, float* out) {
  const int64_t cols = m.cols();
  std::fill_n(out, cols, 0.0f);
  for (int64_t r = 0; r < m.rows(); ++r) {
    const float* row = m.data() + r * cols;
    for (int64_t c = 0; c < cols; ++c) out[c] += row[c];
  }
}

}  // namespace ringtrain::model

#endif  // RINGTRAIN_MODEL_SUM_ROWS_H_
