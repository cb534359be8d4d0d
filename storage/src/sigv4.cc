#include "ringtrain/storage/sigv4.h"

#include <sodium.h>

#include <algorithm>
#include <ctime>

namespace ringtrain::storage {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string Hex(const unsigned char* bytes, size_t n) {
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

using Mac = std::string;  // 32 raw bytes

Mac HmacSha256(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  Mac out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Trimmed, with inner runs of spaces collapsed to one (SigV4's canonical header value).
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (const char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string FormatTime(std::chrono::system_clock::time_point now, const char* format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back("0123456789ABCDEF"[c >> 4]);
      out.push_back("0123456789ABCDEF"[c & 15]);
    }
  }
  return out;
}

std::string EncodeQuery(const std::vector<Header>& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out.push_back('&');
    out += UriEncode(name, false) + "=" + UriEncode(value, false);
  }
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return Hex(digest, sizeof digest);
}

SigV4Result SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                   std::string_view region, std::string_view service,
                   std::chrono::system_clock::time_point now) {
  const std::string amz_date = FormatTime(now, "%Y%m%dT%H%M%SZ");
  const std::string date = amz_date.substr(0, 8);
  SigV4Result result;
  result.headers.emplace_back("x-amz-content-sha256", request.payload_sha256);
  result.headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    result.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }

  std::vector<Header> signed_headers;
  signed_headers.emplace_back("host", CanonicalValue(request.host));
  for (const auto& [name, value] : request.headers) {
    signed_headers.emplace_back(Lower(name), CanonicalValue(value));
  }
  for (const auto& [name, value] : result.headers) signed_headers.emplace_back(name, value);
  std::stable_sort(signed_headers.begin(), signed_headers.end(),
                   [](const Header& a, const Header& b) { return a.first < b.first; });
  std::string canonical_headers;
  std::string header_names;
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    const auto& [name, value] = signed_headers[i];
    // Repeated names are one header whose values are joined by commas.
    if (i > 0 && signed_headers[i - 1].first == name) {
      canonical_headers.back() = ',';
      canonical_headers += value + "\n";
      continue;
    }
    canonical_headers += name + ":" + value + "\n";
    header_names += (header_names.empty() ? "" : ";") + name;
  }

  std::vector<Header> query;
  for (const auto& [name, value] : request.query) {
    query.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [name, value] : query) {
    canonical_query += (canonical_query.empty() ? "" : "&") + name + "=" + value;
  }

  result.canonical_request = request.method + "\n" + request.path + "\n" + canonical_query + "\n" +
                             canonical_headers + "\n" + header_names + "\n" +
                             request.payload_sha256;
  const std::string scope =
      date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  result.string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(result.canonical_request);
  const Mac k_date = HmacSha256("AWS4" + credentials.secret_access_key, date);
  const Mac k_region = HmacSha256(k_date, region);
  const Mac k_service = HmacSha256(k_region, service);
  const Mac k_signing = HmacSha256(k_service, "aws4_request");
  const Mac signature = HmacSha256(k_signing, result.string_to_sign);
  result.headers.emplace_back(
      "authorization",
      "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
          ",SignedHeaders=" + header_names + ",Signature=" +
          Hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size()));
  return result;
}

}  // namespace ringtrain::storage
