#include "json_reader.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace ringtrain::job::internal {
namespace {

constexpr size_t kMaxQuotedLength = 60;

// JSON-quoted text; invalid UTF-8 is replaced rather than thrown on.
std::string Quote(std::string_view s) {
  std::string text(s);
  if (text.size() > kMaxQuotedLength) text = text.substr(0, kMaxQuotedLength) + "...";
  return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

// [A-Za-z_][A-Za-z0-9_-]*
bool IsIdentifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Optimal string alignment distance: insertions, deletions, substitutions and transpositions
// of adjacent characters ("sepc" -> "spec" is one edit).
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

Status TypeError(const json& v, const std::string& path, std::string_view expected) {
  return FieldError(path, "expected " + std::string(expected) + ", got " + Describe(v));
}

Status RangeError(const std::string& path, int64_t min, int64_t max, const std::string& got) {
  return FieldError(path, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                              " (got " + got + ")");
}

}  // namespace

std::string FieldPath(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string IndexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string MapKeyPath(const std::string& parent, std::string_view key) {
  if (IsIdentifier(key)) return FieldPath(parent, key);
  return parent + "[" + Quote(key) + "]";
}

Status FieldError(const std::string& path, std::string_view message) {
  return InvalidArgument((path.empty() ? std::string("document") : path) + ": " +
                         std::string(message));
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // The shortest %g precision that reads back exactly.
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string Describe(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return v.get<bool>() ? "boolean true" : "boolean false";
    case json::value_t::string:
      return "string " + Quote(v.get_ref<const std::string&>());
    case json::value_t::number_integer:
      return "number " + std::to_string(v.get<int64_t>());
    case json::value_t::number_unsigned:
      return "number " + std::to_string(v.get<uint64_t>());
    case json::value_t::number_float:
      return "number " + FormatDouble(v.get<double>());
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::binary:
    case json::value_t::discarded:
      return "a value of another kind";
  }
  return "a value of another kind";
}

std::string ClosestName(std::string_view name, const std::vector<std::string_view>& candidates) {
  const std::string lower = Lower(name);
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view c : candidates) {
    size_t d = EditDistance(lower, Lower(c));
    // Close enough: a third of the candidate's length, and at least one edit.
    size_t threshold = std::max<size_t>(1, c.size() / 3);
    if (d <= threshold && d < best_distance) {
      best = std::string(c);
      best_distance = d;
    }
  }
  return best;
}

std::string JoinNames(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

Status ReadInt(const json& v, const std::string& path, int64_t min, int64_t max, int64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (max < 0 || u > static_cast<uint64_t>(max)) {
      return RangeError(path, min, max, std::to_string(u));
    }
    // Fall through to the signed check for the lower bound.
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i < min || i > max) return RangeError(path, min, max, std::to_string(i));
    *out = i;
    return Status::Ok();
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || std::trunc(d) != d) return TypeError(v, path, "an integer");
    // Compare in long double: int64 bounds are not all representable as double.
    long double ld = d;
    if (ld < static_cast<long double>(min) || ld > static_cast<long double>(max)) {
      return RangeError(path, min, max, FormatDouble(d));
    }
    *out = static_cast<int64_t>(d);
    return Status::Ok();
  }
  return TypeError(v, path, "an integer");
}

Status ReadUint64(const json& v, const std::string& path, uint64_t* out) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const std::string range = "must be between 0 and " + std::to_string(kMax);
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return Status::Ok();
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i < 0) return FieldError(path, range + " (got " + std::to_string(i) + ")");
    *out = static_cast<uint64_t>(i);
    return Status::Ok();
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || std::trunc(d) != d) return TypeError(v, path, "an integer");
    // 2^64 is the first double above the range.
    if (d < 0 || d >= 18446744073709551616.0) {
      return FieldError(path, range + " (got " + FormatDouble(d) + ")");
    }
    *out = static_cast<uint64_t>(d);
    return Status::Ok();
  }
  return TypeError(v, path, "an integer");
}

Status ReadDouble(const json& v, const std::string& path, double* out) {
  if (!v.is_number()) return TypeError(v, path, "a number");
  double d = v.get<double>();
  if (!std::isfinite(d))
    return FieldError(path, "must be a finite number (got " + FormatDouble(d) + ")");
  *out = d;
  return Status::Ok();
}

Status ReadBool(const json& v, const std::string& path, bool* out) {
  if (!v.is_boolean()) return TypeError(v, path, "a boolean");
  *out = v.get<bool>();
  return Status::Ok();
}

Status ReadString(const json& v, const std::string& path, std::string* out) {
  if (!v.is_string()) return TypeError(v, path, "a string");
  *out = v.get<std::string>();
  return Status::Ok();
}

Status ExpectObject(const json& v, const std::string& path) {
  if (!v.is_object()) return TypeError(v, path, "an object");
  return Status::Ok();
}

Status ExpectArray(const json& v, const std::string& path) {
  if (!v.is_array()) return TypeError(v, path, "an array");
  return Status::Ok();
}

StatusOr<ObjectReader> ObjectReader::Open(const json& v, std::string path) {
  RT_RETURN_IF_ERROR(ExpectObject(v, path));
  return ObjectReader(&v, std::move(path));
}

const json* ObjectReader::Find(std::string_view key) const {
  auto it = object_->find(key);
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
}

Status ObjectReader::CheckFields(const std::vector<std::string_view>& known) const {
  for (const auto& [key, value] : object_->items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string suggestion = ClosestName(key, known);
    std::string message = suggestion.empty()
                              ? "unknown field (expected one of: " + JoinNames(known) + ")"
                              : "unknown field (did you mean \"" + suggestion + "\"?)";
    return FieldError(MapKeyPath(path_, key), message);
  }
  return Status::Ok();
}

Status ObjectReader::Error(std::string_view key, std::string_view message) const {
  return FieldError(PathOf(key), message);
}

Status ObjectReader::Require(std::string_view key) const {
  if (Has(key)) return Status::Ok();
  return Error(key, "required field is missing");
}

}  // namespace ringtrain::job::internal
