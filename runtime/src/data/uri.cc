#include "ringtrain/data/uri.h"

#include <cctype>

namespace ringtrain::data {
namespace {

// RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool IsScheme(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

StatusOr<std::string> PercentDecode(std::string_view s, std::string_view uri) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return InvalidArgument("'" + std::string(uri) + "': malformed percent-escape at position " +
                             std::to_string(i + static_cast<size_t>(s.data() - uri.data())));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

StatusOr<std::string> LocalPathFromUri(std::string_view uri) {
  if (uri.empty()) return InvalidArgument("dataset location is empty");
  const size_t sep = uri.find("://");
  if (sep == std::string_view::npos || !IsScheme(uri.substr(0, sep))) return std::string(uri);

  const std::string scheme = Lower(uri.substr(0, sep));
  if (scheme == "http" || scheme == "https" || scheme == "s3") {
    return Unimplemented("'" + std::string(uri) + "': " + scheme +
                         ":// locations are not supported yet; copy the data to a local file "
                         "and use file:// or a path");
  }
  if (scheme != "file") {
    return InvalidArgument("'" + std::string(uri) + "': unsupported scheme '" + scheme +
                           "' (use file://, a path, or later http://, https://, s3://)");
  }
  // file://<host><path>: the host must be empty or "localhost"; the path must be absolute.
  const std::string_view rest = uri.substr(sep + 3);
  const size_t slash = rest.find('/');
  const std::string_view host = rest.substr(0, slash);
  if (!host.empty() && Lower(host) != "localhost") {
    return InvalidArgument("'" + std::string(uri) + "': file URI names host '" + std::string(host) +
                           "'; only local files are supported (file:///path)");
  }
  if (slash == std::string_view::npos || rest.size() == slash + 1) {
    return InvalidArgument("'" + std::string(uri) + "': file URI has no path (file:///path)");
  }
  return PercentDecode(rest.substr(slash), uri);
}

}  // namespace ringtrain::data
