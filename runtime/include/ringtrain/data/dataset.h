// Dataset: labelled examples in memory, and the copies and views the training loop takes of it.
//
// A Dataset owns its features (one example per row, float32, row-major) and one label per row.
// View() borrows rows without copying; TakeRows() copies a range (a worker's shard);
// GatherRows() copies an arbitrary list of rows into a reusable Batch (the per-step hot path:
// it allocates only when a batch is larger than any before it).
//
// Thread-safety: values. Concurrent reads of one Dataset are safe; a Batch is written by one
// thread at a time.
#ifndef RINGTRAIN_DATA_DATASET_H_
#define RINGTRAIN_DATA_DATASET_H_

#include <cstdint>
#include <span>
#include <vector>

#include "ringtrain/data/matrix.h"
#include "ringtrain/data/row_range.h"

namespace ringtrain::data {

struct Dataset {
  RowMatrixXf features;         // rows() x cols()
  std::vector<int32_t> labels;  // rows() entries, each in [0, num_classes)
  int num_classes = 0;

  int64_t rows() const { return features.rows(); }
  int64_t cols() const { return features.cols(); }
};

// Borrows rows [r.begin, r.end) of `d`; valid while `d` is alive and unchanged.
// REQUIRES: 0 <= r.begin <= r.end <= d.rows(), d.labels.size() == d.rows()
BatchView View(const Dataset& d, RowRange r);

// A copy of rows [r.begin, r.end) of `d`, with the same num_classes.
// REQUIRES: 0 <= r.begin <= r.end <= d.rows(), d.labels.size() == d.rows()
Dataset TakeRows(const Dataset& d, RowRange r);

// Reusable storage for a mini-batch. Only the first `rows` rows of `x` and entries of `labels`
// are meaningful; `x` may hold more rows (capacity kept from earlier, larger batches).
struct Batch {
  RowMatrixXf x;
  std::vector<int32_t> labels;
  int64_t rows = 0;

  // Borrows the meaningful rows; valid until the next GatherRows into this Batch.
  BatchView view() const;
};

// Copies rows src[indices[0]], src[indices[1]], ... into `out` (in that order), reusing its
// storage when it is large enough.
// REQUIRES: out != nullptr; every index in [0, src.rows()); src.labels.size() == src.rows()
void GatherRows(const Dataset& src, std::span<const int64_t> indices, Batch* out);

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_DATASET_H_
