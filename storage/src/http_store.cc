#include "ringtrain/storage/http_store.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "ranged_stream.h"

namespace ringtrain::storage {
namespace {

// 501 (not implemented) and 505 will not change on a retry.
bool Transient(long status) {
  return (status >= 500 && status != 501 && status != 505) || status == 429;
}

Status AnswerError(const std::string& what, long status) {
  const std::string m = what + ": HTTP " + std::to_string(status);
  if (status == 404 || status == 410) return NotFound(m);
  if (status == 401 || status == 403) return PermissionDenied(m);
  return FailedPrecondition(m);
}

int64_t ParseSize(std::string_view v) {
  int64_t n = -1;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  return ec == std::errc() && end == v.data() + v.size() ? n : -1;
}

class HttpStore final : public ObjectStore {
 public:
  explicit HttpStore(HttpStoreOptions options) : options_(std::move(options)) {
    options_.http.follow_redirects = true;
  }

  StatusOr<std::vector<ObjectInfo>> List(const Location& location) override {
    RT_ASSIGN_OR_RETURN(HttpResponse head, Call("HEAD", location.uri, {}, 0));
    if (head.status / 100 == 2) {
      auto it = head.headers.find("content-length");
      const int64_t size = it == head.headers.end() ? -1 : ParseSize(it->second);
      if (size >= 0) return std::vector<ObjectInfo>{{location.uri, size}};
    } else if (head.status == 404 || head.status == 410) {
      return AnswerError(location.uri, head.status);
    }
    // HEAD refused or without a length: the total from a one-byte range's Content-Range.
    RT_ASSIGN_OR_RETURN(HttpResponse r, Call("GET", location.uri, {{"range", "bytes=0-0"}}, 1));
    if (r.status / 100 != 2) return AnswerError(location.uri, r.status);
    auto it = r.headers.find("content-range");
    if (r.status != 206 || it == r.headers.end() || it->second.find('/') == std::string::npos) {
      return FailedPrecondition(location.uri +
                                ": the server tells no size (no Content-Length, no ranges)");
    }
    const int64_t size = ParseSize(std::string_view(it->second).substr(it->second.find('/') + 1));
    if (size < 0) return DataLoss(location.uri + ": Content-Range '" + it->second + "'");
    return std::vector<ObjectInfo>{{location.uri, size}};
  }

  StatusOr<std::unique_ptr<ByteStream>> Open(const ObjectInfo& object, int64_t offset,
                                             int64_t length) override {
    const int64_t end = length < 0 ? object.size : offset + length;
    return internal::MakeRangedStream(
        object.uri, offset, end, options_.read_chunk_bytes,
        [this, uri = object.uri, size = object.size](int64_t from, int64_t n,
                                                     std::string* out) -> Status {
          RT_ASSIGN_OR_RETURN(HttpResponse r,
                              Call("GET", uri,
                                   {{"range", "bytes=" + std::to_string(from) + "-" +
                                                  std::to_string(from + n - 1)}},
                                   std::max<size_t>(static_cast<size_t>(n), 64 << 10)));
          // 200 is the whole object, sent instead of the range: right only if that was asked.
          if (r.status != 206 && !(r.status == 200 && from == 0 && n == size)) {
            if (r.status / 100 != 2) return AnswerError(uri, r.status);
            return FailedPrecondition(uri + ": the server answered a ranged GET with " +
                                      std::to_string(r.status) + " (it does not serve ranges)");
          }
          *out = std::move(r.body);
          return Status::Ok();
        });
  }

  Status Put(const Location& location, std::string_view) override {
    return Unimplemented(location.uri + ": cannot write over plain http(s); use s3:// or a path");
  }
  Status Delete(const Location& location) override {
    return Unimplemented(location.uri + ": cannot delete over plain http(s); use s3:// or a path");
  }

 private:
  StatusOr<HttpResponse> Call(const std::string& method, const std::string& url,
                              std::vector<std::pair<std::string, std::string>> headers,
                              size_t max_body) {
    HttpResponse answer;
    Status s = Retry(options_.retry, [&]() -> Status {
      HttpClient client(options_.http);
      HttpRequest request;
      request.method = method;
      request.url = url;
      request.headers = headers;
      request.max_body_bytes = max_body;
      StatusOr<HttpResponse> r = client.Send(request);
      if (!r.ok()) return r.status();
      if (Transient(r->status)) return Unavailable(url + ": HTTP " + std::to_string(r->status));
      answer = std::move(*r);
      return Status::Ok();
    });
    RT_RETURN_IF_ERROR(s);
    return answer;
  }

  HttpStoreOptions options_;
};

}  // namespace

std::unique_ptr<ObjectStore> MakeHttpStore(HttpStoreOptions options) {
  return std::make_unique<HttpStore>(std::move(options));
}

}  // namespace ringtrain::storage
