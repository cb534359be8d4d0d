// AWS Signature Version 4 for S3 requests (the Authorization header form), written here
// rather than taken from libcurl: Debian 12's libcurl 7.88 canonicalises query strings wrongly
// for CURLOPT_AWS_SIGV4 (curl issues #9717, #13754; fixed in 8.3 and later), and ListObjectsV2's
// continuation tokens are exactly such query strings. Tested against the examples AWS publishes
// in "Signature Calculations for the Authorization Header" (S3 API reference).
//
// What is signed: the method, the canonical path (as given: already URI-encoded), the query
// (each name and value URI-encoded, sorted by name then value), the headers `host`,
// `x-amz-content-sha256`, `x-amz-date`, `x-amz-security-token` (with a session token) and any
// extra ones the request lists (names lowercased, values trimmed with inner runs of spaces
// collapsed, sorted by name), and the payload's SHA-256 (or "UNSIGNED-PAYLOAD").
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_STORAGE_SIGV4_H_
#define RINGTRAIN_STORAGE_SIGV4_H_

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringtrain::storage {

using Header = std::pair<std::string, std::string>;

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

struct SigV4Request {
  std::string method = "GET";
  std::string host;  // as the Host header carries it: "bucket.s3.amazonaws.com", "127.0.0.1:8333"
  std::string path = "/";       // canonical: each segment URI-encoded, '/' kept (EncodePath)
  std::vector<Header> query;    // decoded names and values, any order
  std::vector<Header> headers;  // further headers to sign and send (e.g. range), any case
  std::string payload_sha256;   // lowercase hex, or "UNSIGNED-PAYLOAD"
};

struct SigV4Result {
  // To send besides the request's own headers: authorization, x-amz-content-sha256, x-amz-date
  // and, with a session token, x-amz-security-token.
  std::vector<Header> headers;
  std::string canonical_request;  // what was signed (for tests and debugging)
  std::string string_to_sign;
};

// Signs `request` for `region` and `service` ("s3") at `now`.
SigV4Result SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                   std::string_view region, std::string_view service,
                   std::chrono::system_clock::time_point now);

// RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) stay; every other byte becomes %XX
// (uppercase hex); '/' stays when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);
// An object key as a canonical path: "/" + UriEncode(key, keep_slash=true).
inline std::string EncodePath(std::string_view key) { return "/" + UriEncode(key, true); }
// The query string to send, in the order given: name=value pairs, each URI-encoded.
std::string EncodeQuery(const std::vector<Header>& query);

// Lowercase hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace ringtrain::storage

#endif  // RINGTRAIN_STORAGE_SIGV4_H_
