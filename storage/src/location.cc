#include "ringtrain/storage/location.h"

#include <cctype>

namespace ringtrain::storage {
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

std::string Quoted(std::string_view uri) { return "'" + std::string(uri) + "'"; }

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
      return InvalidArgument(Quoted(uri) + ": malformed percent-escape at position " +
                             std::to_string(i + static_cast<size_t>(s.data() - uri.data())));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool LastComponentHasGlob(std::string_view s) {
  const size_t slash = s.rfind('/');
  return HasGlob(slash == std::string_view::npos ? s : s.substr(slash + 1));
}

bool ValidBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (const char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  return b.front() != '.' && b.front() != '-' && b.back() != '.' && b.back() != '-';
}

}  // namespace

bool HasGlob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

StatusOr<Location> ParseLocation(std::string_view uri) {
  if (uri.empty()) return InvalidArgument("the location is empty");
  Location loc;
  loc.uri = std::string(uri);
  const size_t sep = uri.find("://");
  if (sep == std::string_view::npos || !IsScheme(uri.substr(0, sep))) {
    loc.path = std::string(uri);
    loc.glob = LastComponentHasGlob(loc.path);
    return loc;
  }
  const std::string scheme = Lower(uri.substr(0, sep));
  const std::string_view rest = uri.substr(sep + 3);
  if (scheme == "http" || scheme == "https") {
    const size_t end = rest.find_first_of("/?#");
    if (rest.substr(0, end).empty()) return InvalidArgument(Quoted(uri) + ": the URL has no host");
    loc.scheme = Scheme::kHttp;
    return loc;
  }
  if (scheme == "s3") {
    const size_t slash = rest.find('/');
    const std::string_view bucket = rest.substr(0, slash);
    if (!ValidBucket(bucket)) {
      return InvalidArgument(Quoted(uri) + ": '" + std::string(bucket) +
                             "' is not a bucket name (3-63 characters of a-z, 0-9, '.', '-'; "
                             "s3://bucket/key)");
    }
    loc.scheme = Scheme::kS3;
    loc.bucket = std::string(bucket);
    loc.key = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
    loc.glob = LastComponentHasGlob(loc.key);
    return loc;
  }
  if (scheme != "file") {
    return InvalidArgument(Quoted(uri) + ": unsupported scheme '" + scheme +
                           "' (use a path, file://, http://, https:// or s3://)");
  }
  // file://<host><path>: the host must be empty or "localhost"; the path must be absolute.
  const size_t slash = rest.find('/');
  const std::string_view host = rest.substr(0, slash);
  if (!host.empty() && Lower(host) != "localhost") {
    return InvalidArgument(Quoted(uri) + ": file URI names host '" + std::string(host) +
                           "'; only local files are supported (file:///path)");
  }
  if (slash == std::string_view::npos || rest.size() == slash + 1) {
    return InvalidArgument(Quoted(uri) + ": file URI has no path (file:///path)");
  }
  RT_ASSIGN_OR_RETURN(loc.path, PercentDecode(rest.substr(slash), uri));
  loc.glob = LastComponentHasGlob(loc.path);
  return loc;
}

}  // namespace ringtrain::storage
