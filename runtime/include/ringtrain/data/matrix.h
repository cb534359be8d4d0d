// Matrix types shared by the data and model areas.
#ifndef RINGTRAIN_DATA_MATRIX_H_
#define RINGTRAIN_DATA_MATRIX_H_

#include <cstdint>

#include <Eigen/Core>

namespace ringtrain {

// Features are stored one example per row, contiguous (row-major), float32.
using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A read-only view of a mini-batch: `rows` examples of `x.cols()` features and their labels.
// Borrowed: the caller keeps the storage alive while the view is used.
struct BatchView {
  Eigen::Map<const RowMatrixXf> x{nullptr, 0, 0};
  const int32_t* labels = nullptr;  // x.rows() labels in [0, num_classes)

  int64_t rows() const { return x.rows(); }
};

}  // namespace ringtrain

#endif  // RINGTRAIN_DATA_MATRIX_H_
