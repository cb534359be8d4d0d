// SparseSource: where a click-through model's training loop gets its mini-batches of sparse rows
// (sparse_batch.h), one epoch at a time: data::BatchSource's contract, for rows of hashed keys.
//
// Contract: steps_per_epoch() is this worker's steps in every epoch. StartEpoch(e, s) begins
// epoch e (0-based) at its step s; the batches of steps 0..s-1 are those a run from the epoch's
// start would have had, and are dropped (every order is a function of the job's seed, the epoch
// and the worker). Next() then returns the epoch's batches in order: `batch` rows each, fewer at
// the end of the worker's rows, none once they are used up. Within an epoch every row of the
// worker's share comes exactly once.
//
// Implementations: data::SparseBatches (rows in memory, sparse_data.h) and data::SparseStream
// (read while training, bounded memory: sparse_stream.h).
//
// Thread-safety: one thread at a time.
#ifndef RINGTRAIN_DATA_SPARSE_SOURCE_H_
#define RINGTRAIN_DATA_SPARSE_SOURCE_H_

#include <cstdint>

#include "ringtrain/common/status.h"
#include "ringtrain/data/batch_source.h"
#include "ringtrain/data/sparse_batch.h"

namespace ringtrain::data {

class SparseSource {
 public:
  virtual ~SparseSource() = default;
  virtual int64_t steps_per_epoch() const = 0;
  // REQUIRES: epoch >= 0, step >= 0
  [[nodiscard]] virtual Status StartEpoch(int epoch, int64_t step) = 0;
  // REQUIRES: StartEpoch was called; out != nullptr. *out is cleared first.
  [[nodiscard]] virtual Status Next(SparseBatch* out) = 0;
  // Bad records passed over (onBadRecord: skip) in the epoch so far.
  virtual SkippedRecords skipped() const { return {}; }
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_SPARSE_SOURCE_H_
