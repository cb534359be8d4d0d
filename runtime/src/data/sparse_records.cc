#include "sparse_records.h"

#include "ringtrain/common/check.h"
#include "ringtrain/data/sparse_data.h"

namespace ringtrain::data {

SparseRecords::SparseRecords(const TextShardOptions& options, std::span<const FeatureField> fields,
                             SparseRowSink* out)
    : options_(options),
      fields_(fields),
      out_(out),
      libsvm_(/*index_base=*/0, /*num_features=*/0) {}

Status SparseRecords::Header(std::string_view line) {
  RT_ASSIGN_OR_RETURN(SparseCsvParser parser,
                      SparseCsvParser::Make(fields_, line, options_.label_column));
  csv_.emplace(std::move(parser));
  return Status::Ok();
}

Status SparseRecords::Record(std::string_view line) {
  if (IsBlank(line)) return Cancelled("");
  if (options_.format == TextFormat::kLibsvm && IsLibsvmComment(line)) return Cancelled("");
  SparseBatch* rows = out_->Rows();
  if (rows == nullptr) return Cancelled("the reader was stopped");
  return Parse(line, rows);
}

Status SparseRecords::Parse(std::string_view line, SparseBatch* rows) {
  switch (options_.format) {
    case TextFormat::kCsv:
      RT_CHECK(csv_.has_value());
      return csv_->Parse(line, rows);
    case TextFormat::kLibsvm: {
      RT_RETURN_IF_ERROR(libsvm_.Parse(line, &record_));
      if (record_.label != 0 && record_.label != 1 && record_.label != -1) {
        return InvalidArgument("column 1: label " + std::to_string(record_.label) +
                               " is not 0, 1 or -1 (a click-through label)");
      }
      for (size_t e = 0; e < record_.indices.size(); ++e) {
        rows->Add(0, record_.indices[e], record_.values[e]);
      }
      rows->EndRow(record_.label == 1 ? 1.0f : 0.0f);
      return Status::Ok();
    }
    case TextFormat::kCriteo: {
      RT_RETURN_IF_ERROR(criteo_.Parse(line, &record_));
      for (int i = 0; i < kCriteoIntegerColumns; ++i) {
        if ((record_.present >> i & 1) == 0) continue;
        const float x = record_.dense[static_cast<size_t>(i)];
        rows->Add(static_cast<uint32_t>(i), CriteoIntegerKey(i, static_cast<int64_t>(x)), 1.0f);
      }
      for (const uint64_t key : record_.keys) {
        // CriteoKey's top byte is the categorical column + 1.
        const auto column = static_cast<uint32_t>((key >> 56) - 1);
        rows->Add(static_cast<uint32_t>(kCriteoIntegerColumns) + column, key, 1.0f);
      }
      rows->EndRow(record_.label == 1 ? 1.0f : 0.0f);
      return Status::Ok();
    }
  }
  return Internal("unknown text format");
}

}  // namespace ringtrain::data
