#include "ringtrain/data/sparse_data.h"

#include <cmath>
#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/data/feature_schema.h"
#include "ringtrain/data/text_records.h"
#include "ringtrain/data/text_shard.h"
#include "shard_reader.h"
#include "sparse_records.h"

namespace ringtrain::data {

namespace {

// Every row at `uri`, read as sparse rows in `format`.
class AllRows : public SparseRowSink {
 public:
  SparseBatch* Rows() override { return &all; }
  SparseBatch all;
};

StatusOr<SparseBatch> ReadAll(storage::Storage* storage, const std::string& uri, TextFormat format,
                              std::span<const FeatureField> fields,
                              const std::string& label_column) {
  TextShardOptions options;
  options.uri = uri;
  options.format = format;
  options.label_column = label_column;
  options.sparse_rows = true;
  RT_ASSIGN_OR_RETURN(TextShardPlan plan, PlanTextShard(*storage, options, /*count=*/false));
  ShardReader reader(*storage, options);
  AllRows rows;
  SparseRecords records(options, fields, &rows);
  for (const Piece& piece : plan.pieces) RT_RETURN_IF_ERROR(reader.Read(piece, &records));
  return std::move(rows.all);
}

}  // namespace

StatusOr<SparseBatch> ReadSparseLibsvm(storage::Storage* storage, const std::string& uri) {
  return ReadAll(storage, uri, TextFormat::kLibsvm, {}, "");
}

int64_t CriteoIntegerBucket(int64_t x) {
  if (x <= 2) return x;
  const double l = std::log(static_cast<double>(x));
  return static_cast<int64_t>(std::floor(l * l));
}

uint64_t CriteoIntegerKey(int column, int64_t x) {
  constexpr uint64_t kLow56 = (uint64_t{1} << 56) - 1;
  return (static_cast<uint64_t>(kCriteoCategoricalColumns + 1 + column) << 56) |
         (static_cast<uint64_t>(CriteoIntegerBucket(x)) & kLow56);
}

StatusOr<SparseBatch> ReadSparseCriteo(storage::Storage* storage, const std::string& uri) {
  return ReadAll(storage, uri, TextFormat::kCriteo, {}, "");
}

StatusOr<SparseBatch> ReadSparseCsv(storage::Storage* storage, const std::string& uri,
                                    std::span<const FeatureField> fields,
                                    const std::string& label_column) {
  RT_RETURN_IF_ERROR(ValidateFeatureSchema(fields));
  return ReadAll(storage, uri, TextFormat::kCsv, fields, label_column);
}

void GatherSparseRows(const SparseBatch& all, int64_t first, std::span<const int64_t> rows,
                      SparseBatch* out) {
  out->Clear();
  for (const int64_t i : rows) {
    const auto r = static_cast<size_t>(first + i);
    RT_CHECK(r < all.labels.size());
    for (int64_t e = all.offsets[r]; e < all.offsets[r + 1]; ++e) {
      const auto at = static_cast<size_t>(e);
      out->Add(all.fields[at], all.keys[at], all.values[at]);
    }
    out->EndRow(all.labels[r]);
  }
}

SparseBatches::SparseBatches(const SparseBatch* all, int workers, int worker, int64_t batch,
                             uint64_t seed, bool shuffle)
    : all_(all),
      shard_(RowShard(all->rows(), workers, worker)),
      worker_(worker),
      batch_(batch),
      seed_(seed),
      shuffle_(shuffle),
      steps_per_epoch_(StepsPerEpoch(all->rows(), workers, batch)) {}

Status SparseBatches::StartEpoch(int epoch, int64_t step) {
  order_.emplace(shard_.size(), epoch, seed_, shuffle_, worker_);
  step_ = step;
  return Status::Ok();
}

Status SparseBatches::Next(SparseBatch* out) {
  RT_CHECK(order_.has_value());
  GatherSparseRows(*all_, shard_.begin, order_->Batch(step_++, batch_), out);
  return Status::Ok();
}

}  // namespace ringtrain::data
