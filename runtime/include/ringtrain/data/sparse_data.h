// Sparse data in memory: LibSVM files of hashed keys, CSV files read through a feature schema,
// or Criteo's logs, read into one data::SparseBatch (all rows: a test set, `ringtrain eval`),
// and the batches a worker would take from its row shard of such rows (tests; a training
// worker streams its share: sparse_stream.h).
//
// ReadSparseLibsvm reads every object `uri` names (a file, a directory or key prefix ending in
// '/', a glob; gzip or plain; any storage::Storage location), in name order, with
// data::LibsvmParser (indices are keys, taken as written: index base 0, no upper bound; values
// kept; labels 0/1, and -1 read as 0; '#' lines are comments). Field of every entry: 0. Errors:
// the storage's, and InvalidArgument "<object>:<line>: column <k>: ..." for a bad record, or
// for a label other than 0, 1 or -1.
//
// ReadSparseCsv reads the same objects as CSV through the feature schema `fields`
// (data/feature_schema.h): each object's first line is its header, every other non-empty line
// one row. Errors: the storage's; InvalidArgument for a schema that is not valid, or
// "<object>:<line>: ..." for one that does not fit the object's header or for a bad record.
//
// ReadSparseCriteo reads the same objects as Criteo's click logs (data::CriteoParser:
// tab-separated label, 13 integer columns I1-I13, 26 categorical columns C1-C26): categorical
// column c's value gives the entry (field 13 + c, CriteoKey(c, value), 1); integer column i's
// value x gives (field i, CriteoIntegerKey(i, x), 1), x put in a bucket as the Criteo
// competition's winners did (CriteoIntegerBucket). Empty columns give no entry, so a row has at
// most 39, in kCriteoFields fields. Errors as ReadSparseLibsvm's.
//
// SparseBatches: worker `worker` of `workers` takes the rows data::RowShard gives it, in an
// order per epoch from data::EpochOrder (the job's seed, the epoch and the worker), `batch` rows
// per step: a data::SparseSource over rows in memory.
//
// Thread-safety: ReadSparseLibsvm is a function; SparseBatches is used by one thread.
#ifndef RINGTRAIN_DATA_SPARSE_DATA_H_
#define RINGTRAIN_DATA_SPARSE_DATA_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "ringtrain/common/status.h"
#include "ringtrain/data/feature_schema.h"
#include "ringtrain/data/row_range.h"
#include "ringtrain/data/shard.h"
#include "ringtrain/data/sparse_batch.h"
#include "ringtrain/data/sparse_source.h"
#include "ringtrain/data/text_records.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::data {

[[nodiscard]] StatusOr<SparseBatch> ReadSparseLibsvm(storage::Storage* storage,
                                                     const std::string& uri);
[[nodiscard]] StatusOr<SparseBatch> ReadSparseCriteo(storage::Storage* storage,
                                                     const std::string& uri);
[[nodiscard]] StatusOr<SparseBatch> ReadSparseCsv(storage::Storage* storage, const std::string& uri,
                                                  std::span<const FeatureField> fields,
                                                  const std::string& label_column);

// The fields of a Criteo row: 13 integer columns, then 26 categorical ones.
inline constexpr int kCriteoFields = kCriteoIntegerColumns + kCriteoCategoricalColumns;

// Integer x's bucket: x itself up to 2, floor(ln(x)^2) above, as the Criteo competition's
// winners put them (3 and 4 share bucket 1 with x = 1; the buckets grow ever wider: 10^9 is
// bucket 429).
int64_t CriteoIntegerBucket(int64_t x);
// The key of integer column `column` (0-based, I1 = 0) with value x: bits 63-56 hold
// kCriteoCategoricalColumns + 1 + column (after every categorical column's), bits 55-0 the
// bucket's two's complement bits.
uint64_t CriteoIntegerKey(int column, int64_t x);

// Rows `first + rows[i]` of `all`, in that order, into *out (cleared first).
void GatherSparseRows(const SparseBatch& all, int64_t first, std::span<const int64_t> rows,
                      SparseBatch* out);

class SparseBatches : public SparseSource {
 public:
  // REQUIRES: `all` outlives this; workers >= 1; 0 <= worker < workers; batch >= 1.
  SparseBatches(const SparseBatch* all, int workers, int worker, int64_t batch, uint64_t seed,
                bool shuffle);

  // Steps per epoch: the same for every worker (data::StepsPerEpoch).
  int64_t steps_per_epoch() const override { return steps_per_epoch_; }
  Status StartEpoch(int epoch, int64_t step) override;
  Status Next(SparseBatch* out) override;

 private:
  const SparseBatch* all_;
  RowRange shard_;
  int worker_;
  int64_t batch_;
  uint64_t seed_;
  bool shuffle_;
  int64_t steps_per_epoch_;
  std::optional<EpochOrder> order_;
  int64_t step_ = 0;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_SPARSE_DATA_H_
