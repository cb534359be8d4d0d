#include "ringtrain/operator/kube/url.h"

namespace ringtrain::op::kube {

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                            (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' || u == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

std::string WithQuery(const std::string& path, const QueryParams& params) {
  std::string out = path;
  char sep = '?';
  for (const auto& [key, value] : params) {
    out.push_back(sep);
    out += PercentEncode(key);
    out.push_back('=');
    out += PercentEncode(value);
    sep = '&';
  }
  return out;
}

}  // namespace ringtrain::op::kube
