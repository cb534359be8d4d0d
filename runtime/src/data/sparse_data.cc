#include "ringtrain/data/sparse_data.h"

#include <cmath>
#include <functional>

#include "ringtrain/common/check.h"
#include "ringtrain/data/decompress.h"
#include "ringtrain/data/feature_schema.h"
#include "ringtrain/data/line_reader.h"
#include "ringtrain/data/text_records.h"

namespace ringtrain::data {

namespace {

// Reads every object `uri` names, in name order, handing each non-empty line to
// `parse(line, &batch)`; with a `header`, each object's first line goes to it instead.
template <typename Parse>
StatusOr<SparseBatch> ReadLines(storage::Storage* storage, const std::string& uri,
                                const std::function<Status(std::string_view)>& header,
                                Parse parse) {
  RT_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects, storage->List(uri));
  SparseBatch all;
  for (const storage::ObjectInfo& object : objects) {
    RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> raw, storage->Open(object));
    RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> stream, MaybeGunzip(std::move(raw)));
    LineReader lines(std::move(stream));
    std::string_view line;
    bool first = true;  // the object's first line
    while (true) {
      RT_ASSIGN_OR_RETURN(const bool more, lines.Next(&line));
      if (!more) break;
      const auto where = [&] { return lines.name() + ":" + std::to_string(lines.line_number()); };
      if (first && header) {
        first = false;
        if (Status s = header(line); !s.ok()) return InvalidArgument(where() + ": " + s.message());
        continue;
      }
      if (line.empty()) continue;
      if (Status s = parse(line, &all); !s.ok()) {
        return InvalidArgument(where() + ": " + s.message());
      }
    }
  }
  return all;
}

}  // namespace

StatusOr<SparseBatch> ReadSparseLibsvm(storage::Storage* storage, const std::string& uri) {
  const LibsvmParser parser(/*index_base=*/0, /*num_features=*/0);
  TextRecord record;
  return ReadLines(storage, uri, /*header=*/nullptr, [&](std::string_view line, SparseBatch* all) {
    RT_RETURN_IF_ERROR(parser.Parse(line, &record));
    if (record.label != 0 && record.label != 1 && record.label != -1) {
      return InvalidArgument("column 1: label " + std::to_string(record.label) +
                             " is not 0, 1 or -1 (a click-through label)");
    }
    for (size_t e = 0; e < record.indices.size(); ++e) {
      all->Add(0, record.indices[e], record.values[e]);
    }
    all->EndRow(record.label == 1 ? 1.0f : 0.0f);
    return Status::Ok();
  });
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
  const CriteoParser parser;
  TextRecord record;
  return ReadLines(storage, uri, /*header=*/nullptr, [&](std::string_view line, SparseBatch* all) {
    RT_RETURN_IF_ERROR(parser.Parse(line, &record));
    for (int i = 0; i < kCriteoIntegerColumns; ++i) {
      if ((record.present >> i & 1) == 0) continue;
      const float x = record.dense[static_cast<size_t>(i)];
      all->Add(static_cast<uint32_t>(i), CriteoIntegerKey(i, static_cast<int64_t>(x)), 1.0f);
    }
    for (const uint64_t key : record.keys) {
      // CriteoKey's top byte is the categorical column + 1.
      const auto column = static_cast<uint32_t>((key >> 56) - 1);
      all->Add(static_cast<uint32_t>(kCriteoIntegerColumns) + column, key, 1.0f);
    }
    all->EndRow(record.label == 1 ? 1.0f : 0.0f);
    return Status::Ok();
  });
}

StatusOr<SparseBatch> ReadSparseCsv(storage::Storage* storage, const std::string& uri,
                                    std::span<const FeatureField> fields,
                                    const std::string& label_column) {
  RT_RETURN_IF_ERROR(ValidateFeatureSchema(fields));
  std::optional<SparseCsvParser> parser;
  const auto header = [&](std::string_view line) -> Status {
    RT_ASSIGN_OR_RETURN(SparseCsvParser p, SparseCsvParser::Make(fields, line, label_column));
    parser.emplace(std::move(p));
    return Status::Ok();
  };
  return ReadLines(storage, uri, header, [&](std::string_view line, SparseBatch* all) {
    return parser->Parse(line, all);
  });
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
