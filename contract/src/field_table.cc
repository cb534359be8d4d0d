#include "field_table.h"

namespace ringtrain::job::internal::table_detail {

std::string JoinOr(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += i + 1 == values.size() ? " or " : ", ";
    out += values[i];
  }
  return out;
}

Status CheckRange(double v, const NumberRange& range, const std::string& path) {
  const bool low_ok = !range.min || (range.min_exclusive ? v > *range.min : v >= *range.min);
  const bool high_ok = !range.max || (range.max_exclusive ? v < *range.max : v <= *range.max);
  if (low_ok && high_ok) return Status::Ok();
  const std::string got = " (got " + FormatDouble(v) + ")";
  if (!range.max) {
    return FieldError(path, (range.min_exclusive ? "must be greater than " : "must be at least ") +
                                FormatDouble(*range.min) + got);
  }
  if (!range.min) {
    return FieldError(path, (range.max_exclusive ? "must be less than " : "must be at most ") +
                                FormatDouble(*range.max) + got);
  }
  return FieldError(path, std::string("must be in ") + (range.min_exclusive ? "(" : "[") +
                              FormatDouble(*range.min) + ", " + FormatDouble(*range.max) +
                              (range.max_exclusive ? ")" : "]") + got);
}

Status CheckArrayOf(const nlohmann::json& v, int64_t min_items, int64_t max_items,
                    const std::string& path) {
  RT_RETURN_IF_ERROR(ExpectArray(v, path));
  if (static_cast<int64_t>(v.size()) < min_items || static_cast<int64_t>(v.size()) > max_items) {
    return FieldError(path, "must have between " + std::to_string(min_items) + " and " +
                                std::to_string(max_items) + " entries (got " +
                                std::to_string(v.size()) + ")");
  }
  return Status::Ok();
}

void ApplyRange(const NumberRange& range, Schema* schema) {
  schema->minimum = range.min;
  schema->maximum = range.max;
  schema->exclusive_minimum = range.min && range.min_exclusive;
  schema->exclusive_maximum = range.max && range.max_exclusive;
}

void ApplyFormat(const StringFormat& format, Schema* schema) {
  schema->min_length = format.min_length;
  schema->max_length = format.max_length;
  schema->pattern = format.pattern;
  schema->enum_values = format.enum_values;
  schema->rules = format.rules;
}

bool IsEmpty(const nlohmann::json& v) {
  if (v.is_boolean()) return !v.get<bool>();
  // json::empty() is false for every string; the text decides.
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return v.empty();
  return v.is_null();
}

std::string CelDouble(double v) {
  std::string text = FormatDouble(v);
  if (text.find_first_of(".en") == std::string::npos) text += ".0";
  return text;
}

std::string CelValue(const std::string& key, const std::optional<nlohmann::ordered_json>& dflt) {
  if (!dflt || !dflt->is_string()) return "self." + key;
  return "(has(self." + key + ") ? self." + key + " : '" + dflt->get<std::string>() + "')";
}

std::string CelHolds(const Condition& c, const std::optional<nlohmann::ordered_json>& dflt) {
  std::string list;
  for (const std::string& v : c.values) list += (list.empty() ? "'" : ", '") + v + "'";
  const std::string in = CelValue(c.key, dflt) + " in [" + list + "]";
  if (dflt && dflt->is_string()) return in;
  return "(has(self." + c.key + ") && " + in + ")";
}

Status UnknownEnumValue(const std::string& path, const std::string& text,
                        const std::vector<std::string_view>& names,
                        const std::vector<std::string>& reserved) {
  for (const std::string& r : reserved) {
    if (text == r) {
      return FieldError(
          path, "\"" + text + "\" is not supported yet (supported: " + JoinNames(names) + ")");
    }
  }
  return FieldError(path,
                    "unknown value \"" + text + "\" (expected one of: " + JoinNames(names) + ")");
}

}  // namespace ringtrain::job::internal::table_detail
