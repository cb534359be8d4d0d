#include "ringtrain/operator/kube/rest_client.h"

#include <cpprest/http_client.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <utility>

#include "rest_client_impl.h"
#include "ringtrain/common/check.h"
#include "ringtrain/operator/kube/api_status.h"
#include "ringtrain/operator/kube/url.h"
#include "task_wait.h"

namespace ringtrain::op::kube {
namespace {

using web::http::http_request;
using web::http::http_response;
using web::http::methods;
using web::http::client::http_client;
using web::http::client::http_client_config;

constexpr char kJson[] = "application/json";

std::string Trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// Loads the CA bundle (as the only trust anchors), the client certificate chain and key.
// Throws boost::system::system_error on malformed PEM (Make checks them first).
void ConfigureSsl(boost::asio::ssl::context& ctx, const ClusterConfig& config) {
  if (!config.ca_pem.empty()) {
    // Trust exactly the configured CA, as kubectl does, not the system store cpprestsdk loads.
    SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
    ctx.add_certificate_authority(boost::asio::buffer(config.ca_pem));
  }
  if (!config.client_cert_pem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(config.client_cert_pem));
    ctx.use_private_key(boost::asio::buffer(config.client_key_pem), boost::asio::ssl::context::pem);
  }
}

Status CheckPem(const ClusterConfig& config) {
  const auto has_block = [](const std::string& pem, const char* kind) {
    return pem.find(std::string("-----BEGIN ") + kind) != std::string::npos;
  };
  if (!config.ca_pem.empty() && !has_block(config.ca_pem, "CERTIFICATE")) {
    return InvalidArgument(config.source + ": certificate authority: no PEM certificate found");
  }
  if (!config.client_cert_pem.empty() && !has_block(config.client_cert_pem, "CERTIFICATE")) {
    return InvalidArgument(config.source + ": client certificate: no PEM certificate found");
  }
  if (!config.client_key_pem.empty() &&
      config.client_key_pem.find("PRIVATE KEY") == std::string::npos) {
    return InvalidArgument(config.source + ": client key: no PEM private key found");
  }
  try {
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
    ConfigureSsl(ctx, config);
  } catch (const std::exception& e) {
    return InvalidArgument(config.source +
                           ": certificate authority or client certificate/key: " + e.what());
  }
  return Status::Ok();
}

bool IsIpLiteral(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

StatusOr<std::unique_ptr<http_client>> NewHttpClient(const web::uri& base,
                                                     const ClusterConfig& config,
                                                     std::chrono::seconds timeout) {
  http_client_config cfg;
  cfg.set_timeout(timeout);
  cfg.set_validate_certificates(!config.insecure_skip_tls_verify);
  // SNI carries host names only; an IP literal there is invalid (RFC 6066).
  cfg.set_tlsext_sni_enabled(!IsIpLiteral(base.host()));
  cfg.set_max_redirects(0);
  ClusterConfig ssl_config = config;  // the callback outlives this function
  cfg.set_ssl_context_callback(
      [ssl_config](boost::asio::ssl::context& ctx) { ConfigureSsl(ctx, ssl_config); });
  try {
    return std::make_unique<http_client>(base, cfg);
  } catch (const std::exception& e) {
    return InvalidArgument(config.source + ": server " + config.server + ": " + e.what());
  }
}

// The JSON text of a request's body, or InvalidArgument naming the request (`request`, e.g.
// "POST <path>") and `what` the body is, when a string in it is not valid UTF-8 (dump throws).
StatusOr<std::string> BodyText(const nlohmann::json& value, const std::string& request,
                               const std::string& what) {
  try {
    return value.dump();
  } catch (const std::exception& e) {
    return InvalidArgument(request + ": cannot serialize the " + what + ": " + e.what());
  }
}

// cpprestsdk reports a request it could not write with these words. Such a request never
// reached the server whole, so the server cannot have acted on it: sending it again is safe
// even for a POST. (cpprestsdk itself resends only when the status line of a request sent on
// a pooled connection is missing; a body write that hits the closed connection it does not.)
bool NeverReachedTheServer(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const web::http::http_exception& e) {
    return std::string(e.what()).rfind("Failed to write request", 0) == 0;
  } catch (...) {
    return false;
  }
}

}  // namespace

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
  }
  RT_CHECK(false && "unknown PatchType");
  return "";
}

Status StatusFromException(const std::string& what, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const web::http::http_exception& e) {
    const int code = e.error_code().value();
    if (code == ETIMEDOUT) {
      return DeadlineExceeded(what + ": timed out (no data from the server): " + e.what());
    }
    if (code == ECANCELED) return Cancelled(what + ": cancelled: " + e.what());
    return Unavailable(what + ": " + e.what());
  } catch (const pplx::task_canceled&) {
    return Cancelled(what + ": cancelled");
  } catch (const std::exception& e) {
    return Unavailable(what + ": " + e.what());
  } catch (...) {
    return Internal(what + ": unknown exception");
  }
}

StatusOr<http_request> RestClient::Impl::NewRequest(const web::http::method& method,
                                                    const std::string& path_and_query) const {
  http_request request(method);
  try {
    request.set_request_uri(web::uri(path_and_query));
  } catch (const std::exception& e) {
    return InvalidArgument(method + " " + path_and_query + ": not a valid URI: " + e.what());
  }
  std::string token = config.token;
  if (!config.token_file.empty()) {
    std::ifstream in(config.token_file);
    std::ostringstream text;
    text << in.rdbuf();
    token = Trimmed(text.str());
    if (!in || token.empty()) {
      return Unavailable(method + " " + path_and_query + ": cannot read the token file " +
                         config.token_file);
    }
  }
  if (!token.empty()) request.headers().add("Authorization", "Bearer " + token);
  request.headers().add("Accept", kJson);
  if (!options.user_agent.empty()) request.headers().add("User-Agent", options.user_agent);
  return request;
}

StatusOr<RestClient::Impl::Response> RestClient::Impl::Send(const std::string& verb,
                                                            const std::string& path_and_query,
                                                            const std::optional<std::string>& body,
                                                            const char* content_type) {
  const std::string what = verb + " " + path_and_query;
  const Clock::time_point deadline = Clock::now() + options.request_timeout;
  // Sent again only when it was written to a connection the server had closed. An API server
  // restart closes every pooled connection at once, and the pool may hold one per thread that
  // used this client (each failed connection is dropped from the pool): up to 16 attempts,
  // within the request's deadline. (4 were not always enough under TSan, where the pool holds
  // more idle connections.)
  constexpr int kAttempts = 16;
  for (int attempt = 1;; ++attempt) {
    RT_ASSIGN_OR_RETURN(http_request request, NewRequest(verb, path_and_query));
    if (body) request.set_body(*body, content_type);
    pplx::cancellation_token_source cts;
    pplx::task<Response> task;
    try {
      task = requests->request(request, cts.get_token()).then([](http_response response) {
        // The response task completes with the headers; the body is read after.
        return response.extract_utf8string(/*ignore_content_type=*/true)
            .then([status = response.status_code()](std::string text) {
              return Response{status, std::move(text)};
            });
      });
    } catch (...) {
      return StatusFromException(what, std::current_exception());
    }
    if (WaitTask(task, deadline, nullptr, cts) == WaitOutcome::kDeadline) {
      return DeadlineExceeded(what + ": no complete response within " +
                              std::to_string(options.request_timeout.count()) + " s");
    }
    try {
      return task.get();
    } catch (...) {
      const std::exception_ptr error = std::current_exception();
      if (attempt < kAttempts && NeverReachedTheServer(error) && Clock::now() < deadline) {
        continue;
      }
      return StatusFromException(what, error);
    }
  }
}

StatusOr<nlohmann::json> RestClient::Impl::Call(const std::string& verb,
                                                const std::string& path_and_query,
                                                const std::optional<std::string>& body,
                                                const char* content_type) {
  RT_ASSIGN_OR_RETURN(Response response, Send(verb, path_and_query, body, content_type));
  if (response.status >= 400) {
    return StatusFromHttp(verb, path_and_query, response.status, response.body);
  }
  if (response.status < 200 || response.status >= 300) {
    return Unavailable(verb + " " + path_and_query + ": unexpected HTTP " +
                       std::to_string(response.status) + ": " + Truncate(response.body));
  }
  nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_discarded()) {
    return DataLoss(verb + " " + path_and_query +
                    ": the response is not JSON: " + Truncate(response.body));
  }
  return parsed;
}

RestClient::RestClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RestClient::~RestClient() = default;

StatusOr<std::unique_ptr<RestClient>> RestClient::Make(const ClusterConfig& config,
                                                       const ClientOptions& options) {
  RT_CHECK(options.request_timeout.count() > 0);
  RT_CHECK(options.watch_read_timeout.count() > 0);
  web::uri base;
  try {
    base = web::uri(config.server);
  } catch (const std::exception& e) {
    return InvalidArgument(config.source + ": server \"" + config.server +
                           "\" is not a valid URL: " + e.what());
  }
  if (base.scheme() != "https" && base.scheme() != "http") {
    return InvalidArgument(config.source + ": server \"" + config.server +
                           "\" must be an https:// or http:// URL");
  }
  if (base.host().empty()) {
    return InvalidArgument(config.source + ": server \"" + config.server + "\" has no host");
  }
  RT_RETURN_IF_ERROR(CheckPem(config));
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->options = options;
  RT_ASSIGN_OR_RETURN(impl->requests, NewHttpClient(base, config, options.request_timeout));
  RT_ASSIGN_OR_RETURN(impl->watches, NewHttpClient(base, config, options.watch_read_timeout));
  return std::unique_ptr<RestClient>(new RestClient(std::move(impl)));
}

StatusOr<nlohmann::json> RestClient::Get(const Resource& r, const std::string& ns,
                                         const std::string& name) {
  return impl_->Call("GET", r.ObjectPath(ns, name), std::nullopt, nullptr);
}

StatusOr<nlohmann::json> RestClient::List(const Resource& r, const std::string& ns,
                                          const ListOptions& options) {
  QueryParams base;
  if (!options.label_selector.empty()) base.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) base.emplace_back("fieldSelector", options.field_selector);
  if (options.limit > 0) base.emplace_back("limit", std::to_string(options.limit));

  nlohmann::json result;
  nlohmann::json items = nlohmann::json::array();
  std::string continue_token;
  for (bool first = true;; first = false) {
    QueryParams query = base;
    if (!continue_token.empty()) query.emplace_back("continue", continue_token);
    RT_ASSIGN_OR_RETURN(
        nlohmann::json page,
        impl_->Call("GET", WithQuery(r.CollectionPath(ns), query), std::nullopt, nullptr));
    if (!page.is_object()) {
      return DataLoss("GET " + r.CollectionPath(ns) + ": the list is not a JSON object");
    }
    auto page_items = page.find("items");
    if (page_items != page.end() && page_items->is_array()) {
      for (auto& item : *page_items) items.push_back(std::move(item));
    }
    continue_token.clear();
    auto metadata = page.find("metadata");
    if (metadata != page.end() && metadata->is_object()) {
      auto token = metadata->find("continue");
      if (token != metadata->end() && token->is_string())
        continue_token = token->get<std::string>();
    }
    // Every page is served from the first page's snapshot, so its resourceVersion holds.
    if (first) result = std::move(page);
    if (options.limit <= 0 || continue_token.empty()) break;
  }
  result["items"] = std::move(items);
  if (result.contains("metadata") && result["metadata"].is_object()) {
    result["metadata"].erase("continue");
    result["metadata"].erase("remainingItemCount");
  }
  return result;
}

StatusOr<nlohmann::json> RestClient::Create(const Resource& r, const std::string& ns,
                                            const nlohmann::json& object) {
  const std::string path = r.CollectionPath(ns);
  RT_ASSIGN_OR_RETURN(std::string body, BodyText(object, "POST " + path, "object"));
  return impl_->Call("POST", path, body, kJson);
}

Status RestClient::Delete(const Resource& r, const std::string& ns, const std::string& name,
                          const std::string& uid) {
  nlohmann::json options = {
      {"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}};
  if (!uid.empty()) options["preconditions"] = {{"uid", uid}};
  return impl_->Call("DELETE", r.ObjectPath(ns, name), options.dump(), kJson).status();
}

StatusOr<nlohmann::json> RestClient::Patch(const Resource& r, const std::string& ns,
                                           const std::string& name, PatchType type,
                                           const nlohmann::json& patch) {
  const std::string path = r.ObjectPath(ns, name);
  if (type == PatchType::kJson && !patch.is_array()) {
    return InvalidArgument("PATCH " + path + ": a JSON patch must be an array of operations");
  }
  if (type != PatchType::kJson && !patch.is_object()) {
    return InvalidArgument("PATCH " + path + ": a merge patch must be a JSON object");
  }
  RT_ASSIGN_OR_RETURN(std::string body, BodyText(patch, "PATCH " + path, "patch"));
  return impl_->Call("PATCH", path, body, PatchContentType(type));
}

StatusOr<nlohmann::json> RestClient::Update(const Resource& r, const std::string& ns,
                                            const nlohmann::json& object) {
  const nlohmann::json* name = nullptr;
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object() &&
      object["metadata"].contains("name")) {
    name = &object["metadata"]["name"];
  }
  if (name == nullptr || !name->is_string() || name->get<std::string>().empty()) {
    return InvalidArgument("PUT " + r.CollectionPath(ns) + ": the object has no metadata.name");
  }
  const std::string path = r.ObjectPath(ns, name->get<std::string>());
  RT_ASSIGN_OR_RETURN(std::string body, BodyText(object, "PUT " + path, "object"));
  return impl_->Call("PUT", path, body, kJson);
}

StatusOr<nlohmann::json> RestClient::PatchStatus(const Resource& r, const std::string& ns,
                                                 const std::string& name,
                                                 const nlohmann::json& patch) {
  const std::string path = r.ObjectPath(ns, name) + "/status";
  if (!patch.is_object()) {
    return InvalidArgument("PATCH " + path + ": a merge patch must be a JSON object");
  }
  RT_ASSIGN_OR_RETURN(std::string body, BodyText(patch, "PATCH " + path, "patch"));
  return impl_->Call("PATCH", path, body, PatchContentType(PatchType::kMerge));
}

Status RestClient::Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                         const std::function<bool(const WatchEvent&)>& on_event,
                         const std::atomic<bool>& stop) {
  return impl_->Watch(r, ns, options, on_event, stop);
}

}  // namespace ringtrain::op::kube
