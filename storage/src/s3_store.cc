#include "ringtrain/storage/s3_store.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <pugixml.hpp>
#include <utility>
#include <vector>

#include "ranged_stream.h"

namespace ringtrain::storage {
namespace {

// What S3 says in an error body: <Error><Code>NoSuchKey</Code><Message>...</Message></Error>.
std::string S3Error(const HttpResponse& r) {
  pugi::xml_document doc;
  std::string detail = std::to_string(r.status);
  if (doc.load_buffer(r.body.data(), r.body.size())) {
    const pugi::xml_node error = doc.child("Error");
    const std::string code = error.child_value("Code");
    const std::string message = error.child_value("Message");
    if (!code.empty()) detail += " " + code;
    if (!message.empty()) detail += ": " + message;
  }
  return detail;
}

bool Transient(long status) {
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429;
}

// A 4xx answer as an error of ours.
Status AnswerError(const std::string& what, const HttpResponse& r) {
  const std::string m = what + ": " + S3Error(r);
  if (r.status == 404) return NotFound(m);
  if (r.status == 403 || r.status == 401) return PermissionDenied(m);
  if (r.status == 416) return OutOfRange(m);
  return FailedPrecondition(m);
}

struct Endpoint {
  std::string scheme;     // "http" | "https"
  std::string authority;  // host[:port] as the Host header says it
};

StatusOr<Endpoint> ParseEndpoint(const std::string& endpoint, const std::string& region) {
  Endpoint e;
  std::string_view s = endpoint.empty() ? std::string_view() : std::string_view(endpoint);
  if (s.empty()) return Endpoint{"https", "s3." + region + ".amazonaws.com"};
  const size_t sep = s.find("://");
  if (sep == std::string_view::npos) {
    return InvalidArgument("S3 endpoint '" + endpoint + "' has no scheme (http:// or https://)");
  }
  e.scheme = std::string(s.substr(0, sep));
  if (e.scheme != "http" && e.scheme != "https") {
    return InvalidArgument("S3 endpoint '" + endpoint + "': scheme must be http or https");
  }
  std::string_view rest = s.substr(sep + 3);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return InvalidArgument("S3 endpoint '" + endpoint + "' must be scheme://host[:port]");
  }
  e.authority = std::string(rest);
  // libcurl leaves a default port out of the Host header; the signature must say the same.
  const std::string default_port = e.scheme == "http" ? ":80" : ":443";
  if (e.authority.ends_with(default_port)) {
    e.authority.resize(e.authority.size() - default_port.size());
  }
  return e;
}

class S3Store final : public ObjectStore {
 public:
  S3Store(S3Options options, Endpoint endpoint)
      : options_(std::move(options)), endpoint_(std::move(endpoint)) {}

  StatusOr<std::vector<ObjectInfo>> List(const Location& location) override {
    const std::string& key = location.key;
    std::vector<ObjectInfo> found;
    if (location.glob) {
      const size_t wild = key.find_first_of("*?[");
      if (key.find('/', wild) != std::string::npos) {
        return InvalidArgument(location.uri + ": only the last component of a key may hold a glob");
      }
      RT_RETURN_IF_ERROR(ListPrefix(location, key.substr(0, wild), &found));
      std::erase_if(found, [&](const ObjectInfo& o) {
        const std::string k = o.uri.substr(5 + location.bucket.size() + 1);
        return fnmatch(key.c_str(), k.c_str(), FNM_PATHNAME) != 0;
      });
    } else if (key.empty() || key.ends_with('/')) {
      RT_RETURN_IF_ERROR(ListPrefix(location, key, &found));
    } else {
      // One object, or else the "directory" key + '/'.
      StatusOr<int64_t> size = Head(location.bucket, key, location.uri);
      if (size.ok()) return std::vector<ObjectInfo>{{location.uri, *size}};
      if (size.status().code() != StatusCode::kNotFound) return size.status();
      RT_RETURN_IF_ERROR(ListPrefix(location, key + "/", &found));
    }
    if (found.empty()) return NotFound(location.uri + ": matches no object");
    std::sort(found.begin(), found.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.uri < b.uri; });
    return found;
  }

  StatusOr<std::unique_ptr<ByteStream>> Open(const ObjectInfo& object, int64_t offset,
                                             int64_t length) override {
    RT_ASSIGN_OR_RETURN(const Location loc, ParseLocation(object.uri));
    if (loc.scheme != Scheme::kS3 || loc.key.empty()) {
      return InvalidArgument(object.uri + ": not an s3://bucket/key object");
    }
    const int64_t end = length < 0 ? object.size : offset + length;
    return internal::MakeRangedStream(
        object.uri, offset, end, options_.read_chunk_bytes,
        [this, bucket = loc.bucket, key = loc.key, uri = object.uri, size = object.size](
            int64_t from, int64_t n, std::string* out) {
          return GetRange(bucket, key, uri, from, n, size, out);
        });
  }

  Status Put(const Location& location, std::string_view bytes) override {
    if (location.scheme != Scheme::kS3 || location.key.empty() || location.glob ||
        location.key.ends_with('/')) {
      return InvalidArgument(location.uri + ": not an s3://bucket/key object to write");
    }
    RT_ASSIGN_OR_RETURN(HttpResponse r, Call("PUT", location.bucket, location.key, {}, {}, bytes,
                                             1 << 20, location.uri));
    if (r.status / 100 != 2) return AnswerError(location.uri, r);
    return Status::Ok();
  }

  Status Delete(const Location& location) override {
    if (location.scheme != Scheme::kS3 || location.key.empty() || location.glob ||
        location.key.ends_with('/')) {
      return InvalidArgument(location.uri + ": not an s3://bucket/key object to delete");
    }
    RT_ASSIGN_OR_RETURN(HttpResponse r, Call("DELETE", location.bucket, location.key, {}, {}, {},
                                             1 << 20, location.uri));
    if (r.status / 100 != 2 && r.status != 404) return AnswerError(location.uri, r);
    return Status::Ok();
  }

 private:
  // One request, retried; an answer of any status but the transient ones is returned.
  StatusOr<HttpResponse> Call(const std::string& method, const std::string& bucket,
                              const std::string& key, const std::vector<Header>& query,
                              const std::vector<Header>& headers, std::string_view body,
                              size_t max_body, const std::string& what) {
    std::string host = endpoint_.authority;
    std::string path = EncodePath(key);
    if (options_.path_style) {
      path = "/" + UriEncode(bucket, false) + (key.empty() ? "/" : path);
    } else {
      host = bucket + "." + host;
    }
    const std::string url =
        endpoint_.scheme + "://" + host + path + (query.empty() ? "" : "?" + EncodeQuery(query));
    const std::string payload = method == "PUT" ? Sha256Hex(body) : std::string(kEmptySha256);
    HttpResponse answer;
    Status s = Retry(options_.retry, [&]() -> Status {
      HttpRequest request;
      request.method = method;
      request.url = url;
      request.headers = headers;
      request.body = body;
      request.max_body_bytes = max_body;
      if (!options_.credentials.access_key_id.empty()) {
        SigV4Request sign{method, host, path, query, headers, payload};
        SigV4Result signed_request = SignV4(sign, options_.credentials, options_.region, "s3",
                                            std::chrono::system_clock::now());
        for (Header& h : signed_request.headers) request.headers.push_back(std::move(h));
      }
      std::unique_ptr<HttpClient> client = Acquire();
      StatusOr<HttpResponse> r = client->Send(request);
      Release(std::move(client));
      if (!r.ok()) return Status(r.status().code(), what + ": " + r.status().message());
      if (Transient(r->status)) return Unavailable(what + ": " + S3Error(*r));
      answer = std::move(*r);
      return Status::Ok();
    });
    RT_RETURN_IF_ERROR(s);
    return answer;
  }

  StatusOr<int64_t> Head(const std::string& bucket, const std::string& key,
                         const std::string& uri) {
    RT_ASSIGN_OR_RETURN(HttpResponse r, Call("HEAD", bucket, key, {}, {}, {}, 0, uri));
    if (r.status / 100 != 2) return AnswerError(uri, r);
    auto it = r.headers.find("content-length");
    int64_t size = -1;
    if (it != r.headers.end()) {
      const std::string& v = it->second;
      std::from_chars(v.data(), v.data() + v.size(), size);
    }
    if (size < 0) return DataLoss(uri + ": HEAD answered without a Content-Length");
    return size;
  }

  Status ListPrefix(const Location& location, const std::string& prefix,
                    std::vector<ObjectInfo>* found) {
    std::string token;
    const std::string what = "s3://" + location.bucket + "/" + prefix;
    for (int page = 0;; ++page) {
      std::vector<Header> query = {{"list-type", "2"},
                                   {"max-keys", std::to_string(options_.list_page_size)},
                                   {"prefix", prefix}};
      if (!token.empty()) query.emplace_back("continuation-token", token);
      RT_ASSIGN_OR_RETURN(HttpResponse r,
                          Call("GET", location.bucket, "", query, {}, {}, 16 << 20, what));
      if (r.status / 100 != 2) return AnswerError(what, r);
      pugi::xml_document doc;
      if (!doc.load_buffer(r.body.data(), r.body.size())) {
        return DataLoss(what + ": the listing (page " + std::to_string(page + 1) + ") is not XML");
      }
      const pugi::xml_node result = doc.child("ListBucketResult");
      if (!result) return DataLoss(what + ": the listing has no ListBucketResult");
      for (const pugi::xml_node c : result.children("Contents")) {
        const std::string key = c.child_value("Key");
        const std::string size_text = c.child_value("Size");
        int64_t size = -1;
        std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
        if (key.empty() || size < 0) {
          return DataLoss(what + ": a listed object without a key or size");
        }
        if (key.ends_with('/') && size == 0) continue;  // a "directory" marker
        found->push_back({"s3://" + location.bucket + "/" + key, size});
      }
      const std::string truncated = result.child_value("IsTruncated");
      if (truncated != "true") return Status::Ok();
      const std::string next = result.child_value("NextContinuationToken");
      if (next.empty() || next == token) {
        return DataLoss(what + ": a truncated listing without a new continuation token");
      }
      token = next;
    }
  }

  Status GetRange(const std::string& bucket, const std::string& key, const std::string& uri,
                  int64_t offset, int64_t length, int64_t size, std::string* out) {
    const std::vector<Header> range = {
        {"range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
    // Room for an error's XML body too, which may be longer than a short range.
    RT_ASSIGN_OR_RETURN(HttpResponse r,
                        Call("GET", bucket, key, {}, range, {},
                             std::max<size_t>(static_cast<size_t>(length), 64 << 10), uri));
    // 200 is the whole object sent instead of the range: right only if that was asked.
    if (r.status != 206 && !(r.status == 200 && offset == 0 && length == size)) {
      if (r.status / 100 != 2) return AnswerError(uri, r);
      return FailedPrecondition(uri + ": the store answered a ranged GET with " +
                                std::to_string(r.status) + " (it does not serve ranges)");
    }
    *out = std::move(r.body);
    return Status::Ok();
  }

  std::unique_ptr<HttpClient> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        std::unique_ptr<HttpClient> c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    return std::make_unique<HttpClient>(options_.http);
  }

  void Release(std::unique_ptr<HttpClient> client) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < 8) idle_.push_back(std::move(client));
  }

  const S3Options options_;
  const Endpoint endpoint_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpClient>> idle_;  // GUARDED_BY(mu_)
};

// An endpoint that cannot be parsed fails every call with the reason.
class BrokenStore final : public ObjectStore {
 public:
  explicit BrokenStore(Status s) : status_(std::move(s)) {}
  StatusOr<std::vector<ObjectInfo>> List(const Location&) override { return status_; }
  StatusOr<std::unique_ptr<ByteStream>> Open(const ObjectInfo&, int64_t, int64_t) override {
    return status_;
  }
  Status Put(const Location&, std::string_view) override { return status_; }
  Status Delete(const Location&) override { return status_; }

 private:
  const Status status_;
};

}  // namespace

S3Options S3OptionsFromEnvironment(const std::function<const char*(const char*)>& getenv) {
  auto get = [&](const char* name) -> std::string {
    const char* v = getenv(name);
    return v == nullptr ? std::string() : std::string(v);
  };
  S3Options o;
  o.credentials.access_key_id = get("AWS_ACCESS_KEY_ID");
  o.credentials.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
  o.credentials.session_token = get("AWS_SESSION_TOKEN");
  std::string region = get("AWS_REGION");
  if (region.empty()) region = get("AWS_DEFAULT_REGION");
  if (!region.empty()) o.region = region;
  o.endpoint = get("AWS_ENDPOINT_URL_S3");
  if (o.endpoint.empty()) o.endpoint = get("AWS_ENDPOINT_URL");
  o.path_style = !o.endpoint.empty() && get("AWS_S3_ADDRESSING_STYLE") != "virtual";
  return o;
}

std::unique_ptr<ObjectStore> MakeS3Store(S3Options options) {
  StatusOr<Endpoint> endpoint = ParseEndpoint(options.endpoint, options.region);
  if (!endpoint.ok()) return std::make_unique<BrokenStore>(endpoint.status());
  options.list_page_size = std::clamp(options.list_page_size, 1, 1000);
  return std::make_unique<S3Store>(std::move(options), std::move(*endpoint));
}

}  // namespace ringtrain::storage
