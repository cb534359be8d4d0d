#include "ringtrain/data/dataset.h"

#include <algorithm>

#include "ringtrain/common/check.h"
#include "ringtrain/transport/bulk_copy.h"

namespace ringtrain::data {
namespace {

void CheckRange(const Dataset& d, RowRange r) {
  RT_CHECK(0 <= r.begin && r.begin <= r.end && r.end <= d.rows());
  RT_CHECK(static_cast<int64_t>(d.labels.size()) == d.rows());
}

}  // namespace

BatchView View(const Dataset& d, RowRange r) {
  CheckRange(d, r);
  return BatchView{
      Eigen::Map<const RowMatrixXf>(d.features.data() + r.begin * d.cols(), r.size(), d.cols()),
      d.labels.data() + r.begin};
}

Dataset TakeRows(const Dataset& d, RowRange r) {
  CheckRange(d, r);
  Dataset out;
  out.features = d.features.middleRows(r.begin, r.size());
  out.labels.assign(d.labels.begin() + r.begin, d.labels.begin() + r.end);
  out.num_classes = d.num_classes;
  return out;
}

BatchView Batch::view() const {
  RT_CHECK(rows <= x.rows() && rows <= static_cast<int64_t>(labels.size()));
  return BatchView{Eigen::Map<const RowMatrixXf>(x.data(), rows, x.cols()), labels.data()};
}

void GatherRows(const Dataset& src, std::span<const int64_t> indices, Batch* out) {
  RT_CHECK(out != nullptr);
  RT_CHECK(static_cast<int64_t>(src.labels.size()) == src.rows());
  const int64_t k = static_cast<int64_t>(indices.size());
  const int64_t d = src.cols();
  // Grow only: a smaller batch (the last of an epoch) reuses the storage of a larger one.
  if (out->x.cols() != d || out->x.rows() < k) {
    out->x.resize(out->x.cols() == d ? std::max<int64_t>(k, out->x.rows()) : k, d);
  }
  out->labels.resize(static_cast<size_t>(k));
  const size_t row_bytes = static_cast<size_t>(d) * sizeof(float);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t row = indices[i];
    RT_CHECK(row >= 0 && row < src.rows());
    transport::CopyBulk(out->x.data() + i * d, src.features.data() + row * d, row_bytes);
    out->labels[i] = src.labels[row];
  }
  out->rows = k;
}

}  // namespace ringtrain::data
