// SparseRecords (private to the data area): a ShardReader's lines parsed as rows of hashed keys
// (sparse_batch.h), in the three formats click-through models read:
//   kLibsvm: "<label> <key>:<value> ...", keys taken as written (index base 0, no upper bound),
//            field 0; labels 0, 1 or -1 (read as 0); '#' lines are comments.
//   kCsv:    each object's header, then rows read through the feature schema (feature_schema.h).
//   kCriteo: Criteo's click logs (sparse_data.h: ReadSparseCriteo).
// Each record becomes one row of the batch SparseRowSink::Rows() gives; a bad record adds
// nothing (LibSVM and Criteo records are parsed whole first; SparseCsvParser takes back what it
// added).
//
// Thread-safety: one thread at a time (the reader's).
#ifndef RINGTRAIN_RUNTIME_SRC_DATA_SPARSE_RECORDS_H_
#define RINGTRAIN_RUNTIME_SRC_DATA_SPARSE_RECORDS_H_

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ringtrain/data/feature_schema.h"
#include "ringtrain/data/sparse_batch.h"
#include "ringtrain/data/text_records.h"
#include "shard_reader.h"

namespace ringtrain::data {

// Where the rows go.
class SparseRowSink {
 public:
  virtual ~SparseRowSink() = default;
  // The batch the next record's row is appended to, or nullptr when the reader must stop.
  virtual SparseBatch* Rows() = 0;
};

class SparseRecords : public RecordSink {
 public:
  // REQUIRES: options.format and label_column as above; `fields` (kCsv) passed
  // ValidateFeatureSchema; `options`, `fields` and `out` outlive this.
  SparseRecords(const TextShardOptions& options, std::span<const FeatureField> fields,
                SparseRowSink* out);
  Status Header(std::string_view line) override;
  Status Record(std::string_view line) override;

 private:
  Status Parse(std::string_view line, SparseBatch* rows);

  const TextShardOptions& options_;
  std::span<const FeatureField> fields_;
  SparseRowSink* out_;
  const LibsvmParser libsvm_;
  const CriteoParser criteo_{};
  std::optional<SparseCsvParser> csv_;
  TextRecord record_;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_RUNTIME_SRC_DATA_SPARSE_RECORDS_H_
