#include "text_fields.h"

#include <charconv>
#include <cmath>

namespace ringtrain::data::internal {

// At most this much of a bad token is quoted in a message.
std::string Excerpt(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out(s.substr(0, kMax));
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  return "'" + out + (s.size() > kMax ? "...'" : "'");
}

Status ColumnError(size_t column, const std::string& what) {
  return InvalidArgument("column " + std::to_string(column) + ": " + what);
}

// A finite float, the whole of `s`.
Status ParseFloat(std::string_view s, size_t column, float* out) {
  if (s.empty()) return ColumnError(column, "an empty value");
  const char* begin = s.data();
  if (*begin == '+') ++begin;  // from_chars takes no '+' (nor "+-")
  if (begin != s.data() && begin < s.data() + s.size() && *begin == '-') {
    return ColumnError(column, Excerpt(s) + " is not a number");
  }
  auto [end, ec] = std::from_chars(begin, s.data() + s.size(), *out);
  if (ec == std::errc::result_out_of_range) {
    // Too small for a float (1e-50) is 0; too large is an error.
    double wide = 0;
    const auto parsed = std::from_chars(begin, s.data() + s.size(), wide);
    if (parsed.ec == std::errc() && parsed.ptr == s.data() + s.size() && std::fabs(wide) < 1.0) {
      *out = 0.0f;
      return Status::Ok();
    }
    return ColumnError(column, Excerpt(s) + " is out of the range of a float");
  }
  if (ec != std::errc() || end != s.data() + s.size()) {
    return ColumnError(column, Excerpt(s) + " is not a number");
  }
  if (!std::isfinite(*out)) return ColumnError(column, Excerpt(s) + " is not a finite number");
  return Status::Ok();
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF) without
// control characters.
bool PrintableUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    int more = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      more = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      more = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      more = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(more) >= s.size()) return false;
    for (int k = 1; k <= more; ++k) {
      const auto n = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((n & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (n & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[more] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        (cp >= 0x80 && cp < 0xa0)) {
      return false;
    }
    i += static_cast<size_t>(more) + 1;
  }
  return true;
}

std::string_view Unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace ringtrain::data::internal
