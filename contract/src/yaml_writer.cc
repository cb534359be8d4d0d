// JsonToYaml: a small block-style writer. Quoting is conservative: a string that any YAML
// version could read as something else (a number, a boolean such as YAML 1.1's "on", null, a
// key/value or comment separator) is written as a JSON string.
#include <array>
#include <string>
#include <string_view>

#include "ringtrain/job/yaml.h"

namespace ringtrain::job {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::array<std::string_view, 22> kReservedWords = {
    "y",    "Y",    "yes",   "Yes",   "YES",   "n",  "N",  "no", "No",  "NO",  "true",
    "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"};

bool IsPlainSafe(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  const char first = s.front();
  const bool letter = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z');
  if (!letter && first != '_' && first != '/' && first != '(') return false;
  for (std::string_view word : kReservedWords) {
    if (s == word) return false;
  }
  if (s == "null" || s == "Null" || s == "NULL") return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') return false;
  }
  return s.find(": ") == std::string_view::npos && s.find(" #") == std::string_view::npos;
}

std::string Scalar(const ojson& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return IsPlainSafe(s) ? s : v.dump(-1, ' ', false, ojson::error_handler_t::replace);
  }
  return v.dump();
}

bool IsInline(const ojson& v) { return !(v.is_object() || v.is_array()) || v.empty(); }

void Write(const ojson& v, int indent, std::string* out);

// The text after "key:" or "-": a scalar on the same line, or a block below.
void WriteValue(const ojson& v, int indent, std::string* out) {
  if (IsInline(v)) {
    *out += " " + Scalar(v) + "\n";
    return;
  }
  *out += "\n";
  Write(v, indent, out);
}

void Write(const ojson& v, int indent, std::string* out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      *out += pad + Scalar(ojson(key)) + ":";
      WriteValue(value, indent + 2, out);
    }
    return;
  }
  for (const ojson& item : v) {
    if (item.is_object() && !item.empty()) {
      // "- key: value" with the other keys aligned under the first.
      std::string block;
      Write(item, indent + 2, &block);
      *out += pad + "- " + block.substr(static_cast<size_t>(indent) + 2);
      continue;
    }
    *out += pad + "-";
    WriteValue(item, indent + 2, out);
  }
}

}  // namespace

std::string JsonToYaml(const ojson& value) {
  std::string out;
  if (IsInline(value)) return Scalar(value) + "\n";
  Write(value, 0, &out);
  return out;
}

}  // namespace ringtrain::job
