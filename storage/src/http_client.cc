#include "ringtrain/storage/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "ringtrain/common/check.h"

namespace ringtrain::storage {
namespace {

struct Transfer {
  HttpResponse* response;
  size_t max_body_bytes;
  CURL* curl = nullptr;
  bool ranged = false;  // the request asked for a range
  bool too_large = false;
  bool range_ignored = false;  // ... and a 200 brought more than that
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->response->body.size() + n > t->max_body_bytes) {
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    t->range_ignored = t->ranged && status == 200;
    t->too_large = true;
    return 0;  // libcurl ends the transfer with CURLE_WRITE_ERROR
  }
  t->response->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  // A new response (after a redirect or "100 Continue") starts with its status line.
  if (line.starts_with("HTTP/")) t->response->headers.clear();
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  t->response->headers[name] = std::string(value);
  return n;
}

struct PutBody {
  std::string_view rest;
};

size_t OnRead(char* out, size_t size, size_t count, void* user) {
  auto* b = static_cast<PutBody*>(user);
  const size_t n = std::min(size * count, b->rest.size());
  b->rest.copy(out, n);
  b->rest.remove_prefix(n);
  return n;
}

// `url` for messages: no user:password@ and no query (presigned URLs carry tokens there).
std::string Redacted(const std::string& url) {
  std::string out = url.substr(0, url.find_first_of("?#"));
  const size_t scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  const size_t at = out.find('@', scheme + 3);
  const size_t slash = out.find('/', scheme + 3);
  if (at != std::string::npos && at < slash) out.erase(scheme + 3, at - (scheme + 3) + 1);
  return out;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { RT_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK); });
}

}  // namespace

HttpClient::HttpClient(HttpOptions options) : options_(options) {
  GlobalInit();
  curl_ = curl_easy_init();
  RT_CHECK(curl_ != nullptr);
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

StatusOr<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  HttpResponse response;
  Transfer transfer{&response, request.max_body_bytes, curl};
  for (const auto& [name, value] : request.headers) {
    if (name.size() == 5 && (name[0] == 'r' || name[0] == 'R') &&
        std::equal(name.begin() + 1, name.end(), "ange", [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      transfer.ranged = true;
    }
  }
  PutBody put{request.body};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // Keys are paths as given: "a/../b" is a key of its own, not "b".
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(options_.low_speed_time.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, options_.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &put);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_slist* headers = nullptr;
  // No "Expect: 100-continue" round trip before a PUT's body.
  headers = curl_slist_append(headers, "Expect:");
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(curl);
  // The handle outlives this call (kept for its connections): no pointers to this frame.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  const std::string what = request.method + " " + Redacted(request.url) + ": ";
  if (transfer.range_ignored) {
    return FailedPrecondition(what +
                              "the server answered a ranged GET with the whole object "
                              "(it does not serve ranges)");
  }
  if (transfer.too_large) {
    return DataLoss(what + "the answer is larger than " + std::to_string(request.max_body_bytes) +
                    " bytes");
  }
  if (code != CURLE_OK) {
    const std::string detail = error[0] != '\0' ? std::string(error) : curl_easy_strerror(code);
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT:
        return DeadlineExceeded(what + detail);
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return InvalidArgument(what + detail);
      default:
        return Unavailable(what + detail);
    }
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace ringtrain::storage
