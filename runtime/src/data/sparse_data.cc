#include "ringtrain/data/sparse_data.h"

#include "ringtrain/common/check.h"
#include "ringtrain/data/decompress.h"
#include "ringtrain/data/line_reader.h"
#include "ringtrain/data/text_records.h"

namespace ringtrain::data {

StatusOr<SparseBatch> ReadSparseLibsvm(storage::Storage* storage, const std::string& uri) {
  RT_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects, storage->List(uri));
  const LibsvmParser parser(/*index_base=*/0, /*num_features=*/0);
  SparseBatch all;
  TextRecord record;
  for (const storage::ObjectInfo& object : objects) {
    RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> raw, storage->Open(object));
    RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> stream, MaybeGunzip(std::move(raw)));
    LineReader lines(std::move(stream));
    std::string_view line;
    while (true) {
      RT_ASSIGN_OR_RETURN(const bool more, lines.Next(&line));
      if (!more) break;
      if (line.empty()) continue;
      const auto where = [&] { return lines.name() + ":" + std::to_string(lines.line_number()); };
      if (Status s = parser.Parse(line, &record); !s.ok()) {
        return InvalidArgument(where() + ": " + s.message());
      }
      if (record.label != 0 && record.label != 1 && record.label != -1) {
        return InvalidArgument(where() + ": column 1: label " + std::to_string(record.label) +
                               " is not 0, 1 or -1 (a click-through label)");
      }
      for (size_t e = 0; e < record.indices.size(); ++e) {
        all.Add(0, record.indices[e], record.values[e]);
      }
      all.EndRow(record.label == 1 ? 1.0f : 0.0f);
    }
  }
  return all;
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

void SparseBatches::StartEpoch(int epoch, int64_t step) {
  order_.emplace(shard_.size(), epoch, seed_, shuffle_, worker_);
  step_ = step;
}

void SparseBatches::Next(SparseBatch* out) {
  RT_CHECK(order_.has_value());
  GatherSparseRows(*all_, shard_.begin, order_->Batch(step_++, batch_), out);
}

}  // namespace ringtrain::data
