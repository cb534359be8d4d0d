// RestClient: the KubeClient over HTTPS, with cpprestsdk.
//
// Authentication: the bearer token (re-read from ClusterConfig::token_file before every request
// when that is set) and/or a client certificate; the server is verified against
// ClusterConfig::ca_pem (the system CAs if empty) unless insecure_skip_tls_verify.
//
// Deadlines: every request except the body of a watch must complete, body included, within
// ClientOptions::request_timeout, or it is cancelled and returns DeadlineExceeded. A watch
// must get its response headers within request_timeout; after that its body may stream for as
// long as the server keeps it open (WatchOptions::server_timeout), but a gap of more than
// watch_read_timeout between two chunks ends it with DeadlineExceeded.
//
// Errors: never throws; cpprestsdk, pplx, Boost and JSON exceptions are caught and returned as
// Status (connection failures Unavailable, timeouts DeadlineExceeded; HTTP errors as in
// api_status.h; a body that is not JSON DataLoss).
//
// Thread-safety: all methods may be called from several threads at once. The client holds two
// cpprestsdk http_clients (thread-safe themselves), one for ordinary requests and one for
// watches, because cpprestsdk's timeout is a per-client setting; each keeps its own connection
// pool. Watch blocks its calling thread; a stop flag set from another thread ends it within
// about 50 ms (the poll interval) by closing its connection.
//
// cpprestsdk runs callbacks on its own process-wide thread pool; a RestClient must not be
// destroyed while one of its calls is still running.
#ifndef RINGTRAIN_OPERATOR_KUBE_REST_CLIENT_H_
#define RINGTRAIN_OPERATOR_KUBE_REST_CLIENT_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/operator/kube/client.h"
#include "ringtrain/operator/kube/kubeconfig.h"

namespace ringtrain::op::kube {

struct ClientOptions {
  std::chrono::seconds request_timeout{30};
  // Longest silence tolerated on a watch stream; must exceed every WatchOptions::server_timeout
  // used with this client (bookmarks and the server's own timeout keep a healthy watch within).
  std::chrono::seconds watch_read_timeout{120};
  std::string user_agent = "ringtrain-operator";
};

class RestClient final : public KubeClient {
 public:
  // Checks `config` (server URL, PEM certificate and key) and builds a client. Makes no
  // request. InvalidArgument naming the field if the URL or a PEM block does not parse.
  // REQUIRES: options.request_timeout > 0, options.watch_read_timeout > 0
  [[nodiscard]] static StatusOr<std::unique_ptr<RestClient>> Make(const ClusterConfig& config,
                                                                  const ClientOptions& options);
  ~RestClient() override;

  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  StatusOr<nlohmann::json> Get(const Resource& r, const std::string& ns,
                               const std::string& name) override;
  StatusOr<nlohmann::json> List(const Resource& r, const std::string& ns,
                                const ListOptions& options) override;
  StatusOr<nlohmann::json> Create(const Resource& r, const std::string& ns,
                                  const nlohmann::json& object) override;
  using KubeClient::Delete;
  Status Delete(const Resource& r, const std::string& ns, const std::string& name,
                const std::string& uid) override;
  StatusOr<nlohmann::json> Patch(const Resource& r, const std::string& ns, const std::string& name,
                                 PatchType type, const nlohmann::json& patch) override;
  StatusOr<nlohmann::json> Update(const Resource& r, const std::string& ns,
                                  const nlohmann::json& object) override;
  StatusOr<nlohmann::json> PatchStatus(const Resource& r, const std::string& ns,
                                       const std::string& name,
                                       const nlohmann::json& patch) override;
  // Also InvalidArgument if options.server_timeout is not in (0, watch_read_timeout).
  Status Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
               const std::function<bool(const WatchEvent&)>& on_event,
               const std::atomic<bool>& stop) override;

 private:
  struct Impl;
  explicit RestClient(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

// The Content-Type of a PATCH of `type`.
const char* PatchContentType(PatchType type);

}  // namespace ringtrain::op::kube

#endif  // RINGTRAIN_OPERATOR_KUBE_REST_CLIENT_H_
