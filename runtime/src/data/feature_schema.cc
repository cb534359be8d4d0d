#include "ringtrain/data/feature_schema.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "ringtrain/common/check.h"
#include "ringtrain/common/hash.h"
#include "ringtrain/data/text_records.h"
#include "text_fields.h"

namespace ringtrain::data {
namespace {

using internal::ColumnError;
using internal::Excerpt;
using internal::IsSpace;
using internal::ParseFloat;
using internal::Unquote;

std::string FieldPath(size_t i, const char* member) {
  return "fields[" + std::to_string(i) + "]." + member;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

uint64_t FeatureKey(int field, std::string_view token, uint64_t hash_space) {
  RT_CHECK(field >= 0 && field < kMaxFeatureFields);
  RT_CHECK(hash_space <= kMaxHashSpace);
  if (hash_space == 0) return CriteoKey(field, token);
  return (static_cast<uint64_t>(field + 1) << 56) | ScaleToRange(Hash64(token), hash_space);
}

Status ValidateFeatureSchema(std::span<const FeatureField> fields) {
  if (fields.empty() || fields.size() > static_cast<size_t>(kMaxFeatureFields)) {
    return InvalidArgument("fields: must have 1 to " + std::to_string(kMaxFeatureFields) +
                           " fields (got " + std::to_string(fields.size()) + ")");
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    const FeatureField& f = fields[i];
    if (f.column.empty()) return InvalidArgument(FieldPath(i, "column") + ": must not be empty");
    if (f.hash_space > kMaxHashSpace) {
      return InvalidArgument(FieldPath(i, "hashSpace") + ": must be at most 2^56");
    }
    if (f.kind == FeatureKind::kNumeric && !f.separator.empty()) {
      return InvalidArgument(FieldPath(i, "separator") + ": only for categorical fields");
    }
    if (f.kind == FeatureKind::kCategorical && !f.buckets.empty()) {
      return InvalidArgument(FieldPath(i, "buckets") + ": only for numeric fields");
    }
    for (size_t b = 0; b < f.buckets.size(); ++b) {
      if (!std::isfinite(f.buckets[b]) || (b > 0 && f.buckets[b] < f.buckets[b - 1])) {
        return InvalidArgument(FieldPath(i, "buckets") +
                               ": boundaries must be finite and ascending");
      }
    }
  }
  return Status::Ok();
}

StatusOr<SparseCsvParser> SparseCsvParser::Make(std::span<const FeatureField> fields,
                                                std::string_view header,
                                                std::string_view label_column) {
  RT_RETURN_IF_ERROR(ValidateFeatureSchema(fields));
  RT_ASSIGN_OR_RETURN(CsvSchema schema, ParseCsvHeader(header, label_column));
  std::unordered_map<std::string, int> column_of;
  for (size_t c = 0; c < schema.names.size(); ++c) {
    column_of.emplace(schema.names[c], static_cast<int>(c));
  }
  SparseCsvParser parser;
  parser.role_.assign(schema.names.size(), kIgnored);
  parser.role_[static_cast<size_t>(schema.label_column)] = kLabel;
  for (size_t i = 0; i < fields.size(); ++i) {
    const FeatureField& f = fields[i];
    const auto it = column_of.find(f.column);
    if (it == column_of.end()) {
      return InvalidArgument(FieldPath(i, "column") + ": the header has no column " +
                             Excerpt(f.column));
    }
    int& role = parser.role_[static_cast<size_t>(it->second)];
    if (role == kLabel) {
      return InvalidArgument(FieldPath(i, "column") + ": " + Excerpt(f.column) +
                             " is the label column");
    }
    if (role != kIgnored) {
      return InvalidArgument(FieldPath(i, "column") + ": " + Excerpt(f.column) + " is fields[" +
                             std::to_string(role) + "]'s column already");
    }
    role = static_cast<int>(i);
    Field field{f, {}};
    if (f.kind == FeatureKind::kNumeric) {
      const int f_index = static_cast<int>(i);
      if (f.buckets.empty()) {
        field.bucket_keys.push_back(FeatureKey(f_index, "", 0));
      } else {
        for (size_t b = 0; b <= f.buckets.size(); ++b) {
          field.bucket_keys.push_back(FeatureKey(f_index, "#" + std::to_string(b), 0));
        }
      }
    }
    parser.fields_.push_back(std::move(field));
  }
  return parser;
}

Status SparseCsvParser::ParseCell(int f, std::string_view cell, size_t column,
                                  SparseBatch* out) const {
  const Field& field = fields_[static_cast<size_t>(f)];
  const auto field_id = static_cast<uint32_t>(f);
  if (field.spec.kind == FeatureKind::kNumeric) {
    if (cell.empty()) return Status::Ok();
    float x = 0;
    RT_RETURN_IF_ERROR(ParseFloat(cell, column, &x));
    if (field.spec.buckets.empty()) {
      out->Add(field_id, field.bucket_keys[0], x);
      return Status::Ok();
    }
    const auto b = std::upper_bound(field.spec.buckets.begin(), field.spec.buckets.end(),
                                    static_cast<double>(x)) -
                   field.spec.buckets.begin();
    out->Add(field_id, field.bucket_keys[static_cast<size_t>(b)], 1.0f);
    return Status::Ok();
  }
  if (field.spec.separator.empty()) {
    if (!cell.empty()) out->Add(field_id, FeatureKey(f, cell, field.spec.hash_space), 1.0f);
    return Status::Ok();
  }
  const std::string_view sep = field.spec.separator;
  const size_t first = out->keys.size();
  size_t pos = 0;
  while (pos <= cell.size()) {
    const size_t end = std::min(cell.find(sep, pos), cell.size());
    const std::string_view token = Trim(cell.substr(pos, end - pos));
    if (!token.empty()) out->Add(field_id, FeatureKey(f, token, field.spec.hash_space), 1.0f);
    pos = end + sep.size();
  }
  const size_t n = out->keys.size() - first;
  if (n > 1 && field.spec.combiner == FeatureCombiner::kMean) {
    const float share = 1.0f / static_cast<float>(n);
    for (size_t e = first; e < out->keys.size(); ++e) out->values[e] = share;
  }
  return Status::Ok();
}

Status SparseCsvParser::Parse(std::string_view line, SparseBatch* out) const {
  const size_t entries = out->keys.size();
  const auto undo = [&](Status s) {
    out->fields.resize(entries);
    out->keys.resize(entries);
    out->values.resize(entries);
    return s;
  };
  const size_t columns = role_.size();
  float label = 0;
  size_t pos = 0;
  size_t column = 0;
  while (true) {
    const size_t comma = line.find(',', pos);
    const std::string_view cell =
        Unquote(Trim(line.substr(pos, comma == std::string_view::npos ? line.npos : comma - pos)));
    ++column;
    if (column > columns) {
      return undo(
          ColumnError(column, "more than the header's " + std::to_string(columns) + " columns"));
    }
    const int role = role_[column - 1];
    if (role == kLabel) {
      if (Status s = ParseFloat(cell, column, &label); !s.ok()) return undo(s);
      if (label != 0 && label != 1 && label != -1) {
        return undo(ColumnError(
            column, "label " + Excerpt(cell) + " is not 0, 1 or -1 (a click-through label)"));
      }
    } else if (role >= 0) {
      if (Status s = ParseCell(role, cell, column, out); !s.ok()) return undo(s);
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (column != columns) {
    return undo(ColumnError(column + 1, "missing (" + std::to_string(column) +
                                            " columns, the header has " + std::to_string(columns) +
                                            ")"));
  }
  out->EndRow(label == 1 ? 1.0f : 0.0f);
  return Status::Ok();
}

}  // namespace ringtrain::data
