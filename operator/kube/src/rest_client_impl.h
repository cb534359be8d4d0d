// RestClient's internals, shared by rest_client.cc (requests) and rest_watch.cc (watches).
#ifndef RINGTRAIN_OPERATOR_SRC_KUBE_REST_CLIENT_IMPL_H_
#define RINGTRAIN_OPERATOR_SRC_KUBE_REST_CLIENT_IMPL_H_

#include <cpprest/http_client.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ringtrain/operator/kube/rest_client.h"

namespace ringtrain::op::kube {

struct RestClient::Impl {
  ClusterConfig config;
  ClientOptions options;
  // Ordinary requests: cpprestsdk's (idle) timeout is request_timeout.
  std::unique_ptr<web::http::client::http_client> requests;
  // Watches: cpprestsdk's idle timeout is watch_read_timeout.
  std::unique_ptr<web::http::client::http_client> watches;

  struct Response {
    int status = 0;
    std::string body;
  };

  // A request carrying the auth and user-agent headers; InvalidArgument/Unavailable if the
  // token file cannot be read.
  StatusOr<web::http::http_request> NewRequest(const web::http::method& method,
                                               const std::string& path_and_query) const;

  // Sends a request and reads the whole body within request_timeout. Transport failures are
  // Status; HTTP error statuses are returned as a Response.
  StatusOr<Response> Send(const std::string& verb, const std::string& path_and_query,
                          const std::optional<std::string>& body, const char* content_type);

  // Send, then: 2xx → the body as JSON (DataLoss if it is not), else the mapped error.
  StatusOr<nlohmann::json> Call(const std::string& verb, const std::string& path_and_query,
                                const std::optional<std::string>& body, const char* content_type);

  Status Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
               const std::function<bool(const WatchEvent&)>& on_event,
               const std::atomic<bool>& stop);
};

}  // namespace ringtrain::op::kube

#endif  // RINGTRAIN_OPERATOR_SRC_KUBE_REST_CLIENT_IMPL_H_
