#include "checks.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <iterator>

namespace ringtrain::job::internal {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// [a-z0-9]([-a-z0-9]*[a-z0-9])? without a length check.
bool IsDns1123LabelChars(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// DNS-1123 subdomain: parts of [a-z0-9-] starting and ending alphanumeric, joined by '.', at
// most 253 characters. As Kubernetes' IsDNS1123Subdomain, with no length limit on the parts.
bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (size_t start = 0;;) {
    const size_t dot = s.find('.', start);
    if (!IsDns1123LabelChars(s.substr(start, dot == s.npos ? s.npos : dot - start))) return false;
    if (dot == s.npos) return true;
    start = dot + 1;
  }
}

// 1..63 characters of [A-Za-z0-9_.-], alphanumeric at both ends.
bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// Consumes [0-9]* from s at *pos; returns the number of digits.
size_t ConsumeDigits(std::string_view s, size_t* pos) {
  size_t start = *pos;
  while (*pos < s.size() && IsDigit(s[*pos])) ++*pos;
  return *pos - start;
}

// Decimal SI suffixes as powers of ten.
std::optional<int> DecimalSuffixExponent(std::string_view suffix) {
  struct Entry {
    std::string_view name;
    int exponent;
  };
  static constexpr Entry kSuffixes[] = {{"", 0},  {"m", -3}, {"k", 3},  {"M", 6},
                                        {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18}};
  for (const Entry& e : kSuffixes) {
    if (e.name == suffix) return e.exponent;
  }
  return std::nullopt;
}

// Binary SI suffixes as powers of two.
std::optional<int> BinarySuffixExponent(std::string_view suffix) {
  static constexpr std::string_view kSuffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  for (size_t i = 0; i < std::size(kSuffixes); ++i) {
    if (kSuffixes[i] == suffix) return static_cast<int>(10 * (i + 1));
  }
  return std::nullopt;
}

}  // namespace

Status CheckDns1035Label(const std::string& path, std::string_view s, size_t max_length) {
  if (s.empty()) return InvalidArgument(path + ": must not be empty");
  if (s.size() > max_length) {
    return InvalidArgument(path + ": must be at most " + std::to_string(max_length) +
                           " characters (got " + std::to_string(s.size()) + ")");
  }
  if (!IsDns1123LabelChars(s) || !(s.front() >= 'a' && s.front() <= 'z')) {
    return InvalidArgument(path +
                           ": must consist of lower-case letters, digits and '-', start with a "
                           "letter and end with a letter or digit (got " +
                           Quoted(s) + ")");
  }
  return Status::Ok();
}

Status CheckDns1123Label(const std::string& path, std::string_view s) {
  if (s.empty()) return InvalidArgument(path + ": must not be empty");
  if (s.size() > 63) {
    return InvalidArgument(path + ": must be at most 63 characters (got " +
                           std::to_string(s.size()) + ")");
  }
  if (!IsDns1123LabelChars(s)) {
    return InvalidArgument(path +
                           ": must consist of lower-case letters, digits and '-', and start and "
                           "end with a letter or digit (got " +
                           Quoted(s) + ")");
  }
  return Status::Ok();
}

Status CheckDns1123Subdomain(const std::string& path, std::string_view s) {
  if (s.empty()) return InvalidArgument(path + ": must not be empty");
  if (s.size() > 253) {
    return InvalidArgument(path + ": must be at most 253 characters (got " +
                           std::to_string(s.size()) + ")");
  }
  if (!IsDns1123Subdomain(s)) {
    return InvalidArgument(path +
                           ": must consist of lower-case letters, digits, '-' and '.', and start "
                           "and end with a letter or digit (got " +
                           Quoted(s) + ")");
  }
  return Status::Ok();
}

Status CheckLabelKey(const std::string& path, std::string_view s) {
  size_t slash = s.rfind('/');
  std::string_view name = slash == std::string_view::npos ? s : s.substr(slash + 1);
  if (slash != std::string_view::npos && !IsDns1123Subdomain(s.substr(0, slash))) {
    return InvalidArgument(path + ": key prefix must be a DNS subdomain such as example.com (got " +
                           Quoted(s) + ")");
  }
  if (!IsQualifiedNamePart(name)) {
    return InvalidArgument(path +
                           ": key must be 1 to 63 characters of letters, digits, '-', '_' and "
                           "'.', starting and ending with a letter or digit (got " +
                           Quoted(s) + ")");
  }
  return Status::Ok();
}

Status CheckLabelValue(const std::string& path, std::string_view s) {
  if (s.empty() || IsQualifiedNamePart(s)) return Status::Ok();
  return InvalidArgument(path +
                         ": value must be empty or 1 to 63 characters of letters, digits, '-', "
                         "'_' and '.', starting and ending with a letter or digit (got " +
                         Quoted(s) + ")");
}

std::optional<long double> ParseQuantity(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  size_t pos = 0;
  if (s[pos] == '+' || s[pos] == '-') ++pos;
  size_t int_digits = ConsumeDigits(s, &pos);
  size_t frac_digits = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    frac_digits = ConsumeDigits(s, &pos);
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  const std::string number(s.substr(0, pos));
  // Equal quantities must compare equal ("500m" and "0.5"), so decimal values are read with a
  // single correctly rounded strtold of "<number>e<exponent>", and binary suffixes multiply by
  // an exact power of two.
  std::string_view suffix = s.substr(pos);
  // Decimal exponent: e<signed integer>. A lone "E" is the exa suffix and "Ei" the exbi one,
  // so only a digit or a sign after the e makes it an exponent.
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E') &&
      (std::isdigit(static_cast<unsigned char>(suffix[1])) || suffix[1] == '+' ||
       suffix[1] == '-')) {
    size_t epos = 1;
    if (suffix[epos] == '+' || suffix[epos] == '-') ++epos;
    size_t exp_digits = ConsumeDigits(suffix, &epos);
    if (exp_digits == 0 || epos != suffix.size()) return std::nullopt;
    return std::strtold(std::string(s).c_str(), nullptr);
  }
  if (std::optional<int> exp10 = DecimalSuffixExponent(suffix)) {
    return std::strtold((number + "e" + std::to_string(*exp10)).c_str(), nullptr);
  }
  if (std::optional<int> exp2 = BinarySuffixExponent(suffix)) {
    return std::ldexp(std::strtold(number.c_str(), nullptr), *exp2);
  }
  return std::nullopt;
}

Status CheckDataUri(const std::string& path, std::string_view uri) {
  if (uri.empty()) return InvalidArgument(path + ": must not be empty");
  size_t sep = uri.find("://");
  if (sep == std::string_view::npos) return Status::Ok();  // a plain path
  std::string_view scheme = uri.substr(0, sep);
  std::string_view rest = uri.substr(sep + 3);
  if (scheme == "file") {
    if (rest.empty() || rest.front() != '/' || rest.size() == 1) {
      return InvalidArgument(path +
                             ": a file URI must name an absolute path, as in "
                             "file:///data/train.gz (got " +
                             Quoted(uri) + ")");
    }
    return Status::Ok();
  }
  if (scheme == "http" || scheme == "https" || scheme == "s3") {
    if (rest.empty() || rest.front() == '/') {
      return InvalidArgument(path + ": " + std::string(scheme) + " URI has no " +
                             (scheme == "s3" ? "bucket" : "host") + " (got " + Quoted(uri) + ")");
    }
    return Status::Ok();
  }
  return InvalidArgument(path + ": unsupported URI scheme " + Quoted(scheme) +
                         " (expected file, http, https, s3 or a plain path)");
}

Status CheckImage(const std::string& path, std::string_view image) {
  if (image.empty()) return InvalidArgument(path + ": must not be empty");
  for (char c : image) {
    if (std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return InvalidArgument(path + ": must not contain whitespace (got " + Quoted(image) + ")");
    }
  }
  return Status::Ok();
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace ringtrain::job::internal
