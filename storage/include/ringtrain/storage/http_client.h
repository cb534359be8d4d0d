// HttpClient: one HTTP(S) request at a time over libcurl, with the timeouts a data reader
// needs: connecting, and a transfer that stalls (below `low_speed_bytes` per second for
// `low_speed_time`), besides an overall bound. The body is kept in memory, bounded by the
// request's `max_body_bytes`, so a hostile or broken server cannot make it grow.
//
// Errors of one request (Send never retries; see retry.h):
//   Unavailable       could not connect, connection reset, a transfer cut short, DNS failure
//   DeadlineExceeded  a timeout above
//   DataLoss          a body larger than max_body_bytes
//   FailedPrecondition  a request with a Range header answered 200 with more than that (the
//                     server ignores ranges)
// Messages name the method and the URL without its query or user:password (presigned URLs
// carry tokens there).
//   InvalidArgument   a malformed URL or a scheme other than http/https
// An HTTP error status is not an error here: the caller reads it from the response.
//
// Thread-safety: a client is used by one thread at a time; clients on several threads are
// independent (libcurl is initialised once, thread-safely, by the first client).
#ifndef RINGTRAIN_STORAGE_HTTP_CLIENT_H_
#define RINGTRAIN_STORAGE_HTTP_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ringtrain/common/status.h"

namespace ringtrain::storage {

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{10000};
  // A transfer slower than low_speed_bytes per second for low_speed_time is abandoned.
  long low_speed_bytes = 1024;
  std::chrono::seconds low_speed_time{30};
  std::chrono::seconds request_timeout{600};  // any one request, whatever its speed
  bool follow_redirects = false;              // plain http(s) locations: true; S3: false
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // PUT
  size_t max_body_bytes = 64 << 20;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lowercased; the last of repeated ones
  std::string body;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  [[nodiscard]] StatusOr<HttpResponse> Send(const HttpRequest& request);

 private:
  HttpOptions options_;
  void* curl_;  // CURL*, reused so that connections are kept alive between requests
};

}  // namespace ringtrain::storage

#endif  // RINGTRAIN_STORAGE_HTTP_CLIENT_H_
