#include "ringtrain/data/text_records.h"

#include <charconv>
#include <unordered_set>

#include "ringtrain/common/hash.h"
#include "text_fields.h"

namespace ringtrain::data {
using internal::ColumnError;
using internal::Excerpt;
using internal::IsSpace;
using internal::ParseFloat;
using internal::PrintableUtf8;
using internal::Unquote;

uint64_t CriteoKey(int field, std::string_view value) {
  return (static_cast<uint64_t>(field + 1) << 56) | (Hash64(value) >> 8);
}

Status LibsvmParser::Parse(std::string_view line, TextRecord* out) const {
  out->Clear();
  const size_t hash = line.find('#');
  if (hash != std::string_view::npos) line = line.substr(0, hash);
  size_t pos = 0;
  size_t token = 0;
  uint64_t previous = 0;
  while (true) {
    while (pos < line.size() && IsSpace(line[pos])) ++pos;
    if (pos == line.size()) break;
    size_t end = pos;
    while (end < line.size() && !IsSpace(line[end])) ++end;
    const std::string_view t = line.substr(pos, end - pos);
    pos = end;
    ++token;
    if (token == 1) {
      RT_RETURN_IF_ERROR(ParseFloat(t, token, &out->label));
      continue;
    }
    const size_t colon = t.find(':');
    if (colon == std::string_view::npos) {
      return ColumnError(token, Excerpt(t) + " is not <index>:<value>");
    }
    const std::string_view index_text = t.substr(0, colon);
    if (index_text == "qid") continue;
    uint64_t index = 0;
    const auto [iend, iec] =
        std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
    if (index_text.empty() || iec != std::errc() || iend != index_text.data() + index_text.size()) {
      return ColumnError(token, "index " + Excerpt(index_text) + " is not a non-negative integer");
    }
    if (index < static_cast<uint64_t>(index_base_)) {
      return ColumnError(token, "index " + std::to_string(index) + " is below the index base " +
                                    std::to_string(index_base_));
    }
    const uint64_t feature = index - static_cast<uint64_t>(index_base_);
    if (num_features_ > 0 && feature >= num_features_) {
      return ColumnError(token, "index " + std::to_string(index) + " is beyond the " +
                                    std::to_string(num_features_) + " features (index base " +
                                    std::to_string(index_base_) + ")");
    }
    if (!out->indices.empty() && feature <= previous) {
      return ColumnError(token, "index " + std::to_string(index) + " after " +
                                    std::to_string(previous + static_cast<uint64_t>(index_base_)) +
                                    ": indices must ascend");
    }
    float value = 0;
    RT_RETURN_IF_ERROR(ParseFloat(t.substr(colon + 1), token, &value));
    out->indices.push_back(feature);
    out->values.push_back(value);
    previous = feature;
  }
  if (token == 0) return InvalidArgument("an empty record (no label)");
  return Status::Ok();
}

StatusOr<CsvSchema> ParseCsvHeader(std::string_view header, std::string_view label) {
  CsvSchema schema;
  std::unordered_set<std::string> seen;
  size_t pos = 0;
  while (true) {
    const size_t comma = header.find(',', pos);
    std::string_view field =
        header.substr(pos, comma == std::string_view::npos ? header.npos : comma - pos);
    while (!field.empty() && IsSpace(field.front())) field.remove_prefix(1);
    while (!field.empty() && IsSpace(field.back())) field.remove_suffix(1);
    field = Unquote(field);
    const size_t column = schema.names.size() + 1;
    if (field.empty()) return ColumnError(column, "the header names no column here");
    if (!seen.insert(std::string(field)).second) {
      return ColumnError(column, "the header names " + Excerpt(field) + " twice");
    }
    schema.names.emplace_back(field);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (schema.names.size() < 2) {
    return InvalidArgument("the header has " + std::to_string(schema.names.size()) +
                           " column; a label and at least one feature are needed");
  }
  if (label.starts_with('#')) {
    int k = 0;
    const auto [end, ec] = std::from_chars(label.data() + 1, label.data() + label.size(), k);
    if (ec != std::errc() || end != label.data() + label.size() || k < 1 ||
        k > static_cast<int>(schema.names.size())) {
      return InvalidArgument("label column " + std::string(label) + " is not one of the " +
                             std::to_string(schema.names.size()) + " columns");
    }
    schema.label_column = k - 1;
    return schema;
  }
  for (size_t i = 0; i < schema.names.size(); ++i) {
    if (schema.names[i] == label) {
      schema.label_column = static_cast<int>(i);
      return schema;
    }
  }
  return InvalidArgument("the header has no label column " + Excerpt(label));
}

Status CsvParser::Parse(std::string_view line, TextRecord* out) const {
  out->Clear();
  const size_t columns = schema_.names.size();
  size_t pos = 0;
  size_t column = 0;
  while (true) {
    const size_t comma = line.find(',', pos);
    std::string_view field =
        line.substr(pos, comma == std::string_view::npos ? line.npos : comma - pos);
    while (!field.empty() && IsSpace(field.front())) field.remove_prefix(1);
    while (!field.empty() && IsSpace(field.back())) field.remove_suffix(1);
    field = Unquote(field);
    ++column;
    if (column > columns) {
      return ColumnError(column, "more than the header's " + std::to_string(columns) + " columns");
    }
    float value = 0;
    RT_RETURN_IF_ERROR(ParseFloat(field, column, &value));
    if (static_cast<int>(column - 1) == schema_.label_column) {
      out->label = value;
    } else {
      out->dense.push_back(value);
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (column != columns) {
    return ColumnError(column + 1, "missing (" + std::to_string(column) +
                                       " columns, the header has " + std::to_string(columns) + ")");
  }
  return Status::Ok();
}

Status CriteoParser::Parse(std::string_view line, TextRecord* out) const {
  out->Clear();
  constexpr size_t kColumns = 1 + kCriteoIntegerColumns + kCriteoCategoricalColumns;
  size_t pos = 0;
  size_t column = 0;
  while (true) {
    const size_t tab = line.find('\t', pos);
    const std::string_view field =
        line.substr(pos, tab == std::string_view::npos ? line.npos : tab - pos);
    ++column;
    if (column > kColumns) {
      return ColumnError(column,
                         "more than " + std::to_string(kColumns) + " tab-separated columns");
    }
    if (column == 1) {
      if (field != "0" && field != "1") {
        return ColumnError(column, "the label " + Excerpt(field) + " is not 0 or 1");
      }
      out->label = field == "1" ? 1.0f : 0.0f;
    } else if (column <= 1 + kCriteoIntegerColumns) {
      int64_t v = 0;
      if (!field.empty()) {
        const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
        if (ec != std::errc() || end != field.data() + field.size()) {
          return ColumnError(column, Excerpt(field) + " is not an integer");
        }
        out->present |= 1u << (column - 2);
      }
      out->dense.push_back(static_cast<float>(v));
    } else if (!field.empty()) {
      if (!PrintableUtf8(field)) {
        return ColumnError(column,
                           "the categorical value " + Excerpt(field) + " is not printable UTF-8");
      }
      out->keys.push_back(CriteoKey(static_cast<int>(column - 2 - kCriteoIntegerColumns), field));
    }
    if (tab == std::string_view::npos) break;
    pos = tab + 1;
  }
  if (column != kColumns) {
    return ColumnError(column + 1, "missing (" + std::to_string(column) +
                                       " tab-separated columns, Criteo has " +
                                       std::to_string(kColumns) + ")");
  }
  return Status::Ok();
}

}  // namespace ringtrain::data
