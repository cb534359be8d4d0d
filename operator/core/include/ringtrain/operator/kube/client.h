// KubeClient: the operator's one seam to the Kubernetes API server.
//
// Objects travel as nlohmann::json exactly as the API serves them. Every call has a deadline
// (ClientOptions::request_timeout); failures come back as Status values — never exceptions —
// with the HTTP status mapped onto a StatusCode (404 NotFound, 409 AlreadyExists, other 409
// conflicts as Aborted, 410 Gone as OutOfRange, 401/403 as PermissionDenied,
// 5xx/timeouts/connection errors as Unavailable/DeadlineExceeded, which callers retry with
// backoff). The message names the verb, the path and the server's Status.message.
//
// One real implementation (RestClient, over cpprestsdk); tests of logic may use an in-memory
// fake behind this interface.
//
// Thread-safety: implementations are safe to call from several threads at once.
#ifndef RINGTRAIN_OPERATOR_KUBE_CLIENT_H_
#define RINGTRAIN_OPERATOR_KUBE_CLIENT_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ringtrain/common/status.h"

namespace ringtrain::op::kube {

// Which collection: group "" is the core API (/api/v1), others /apis/<group>/<version>.
struct Resource {
  std::string group;    // "", "ringtrain.io", "coordination.k8s.io", ...
  std::string version;  // "v1", "v1alpha1"
  std::string plural;   // "pods", "trainingjobs", ...
  bool namespaced = true;

  // "/api/v1/namespaces/<ns>/pods" (ns empty: all namespaces, or cluster-scoped).
  std::string CollectionPath(const std::string& ns) const;
  std::string ObjectPath(const std::string& ns, const std::string& name) const;
};

Resource Pods();
Resource Services();
Resource ConfigMaps();
// Created and deleted, never read: the operator may not get, list or watch Secrets.
Resource Secrets();
// Created and deleted, never read.
Resource NetworkPolicies();
Resource Events();
Resource Leases();
Resource TrainingJobs();

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;  // 0: everything (the client follows `continue` tokens)
};

enum class PatchType { kMerge, kJson, kStrategicMerge };

// One event of a watch stream.
struct WatchEvent {
  std::string type;  // ADDED | MODIFIED | DELETED | BOOKMARK | ERROR
  nlohmann::json object;
};

struct WatchOptions {
  std::string resource_version;  // resume point; "" = from now
  std::string label_selector;
  // Asked of the server: it ends the watch after this long, well before the client's own
  // read timeout, so a healthy but quiet watch never looks like a dead connection.
  std::chrono::seconds server_timeout{60};
  bool allow_bookmarks = true;
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  virtual StatusOr<nlohmann::json> Get(const Resource& r, const std::string& ns,
                                       const std::string& name) = 0;
  // A list object ({"items": [...], "metadata": {"resourceVersion": ...}}).
  virtual StatusOr<nlohmann::json> List(const Resource& r, const std::string& ns,
                                        const ListOptions& options) = 0;
  virtual StatusOr<nlohmann::json> Create(const Resource& r, const std::string& ns,
                                          const nlohmann::json& object) = 0;
  // Deletes with propagationPolicy=Background. NotFound if already gone. With a non-empty
  // `uid`, only the object of that UID: if the name now belongs to another object (deleted and
  // re-created meanwhile) the server refuses with 409 Conflict (Aborted) and
  // deletes nothing.
  virtual Status Delete(const Resource& r, const std::string& ns, const std::string& name,
                        const std::string& uid) = 0;
  Status Delete(const Resource& r, const std::string& ns, const std::string& name) {
    return Delete(r, ns, name, "");
  }
  virtual StatusOr<nlohmann::json> Patch(const Resource& r, const std::string& ns,
                                         const std::string& name, PatchType type,
                                         const nlohmann::json& patch) = 0;
  // PUT of the whole object (optimistic concurrency through metadata.resourceVersion).
  virtual StatusOr<nlohmann::json> Update(const Resource& r, const std::string& ns,
                                          const nlohmann::json& object) = 0;
  // Merge patch of the status subresource.
  virtual StatusOr<nlohmann::json> PatchStatus(const Resource& r, const std::string& ns,
                                               const std::string& name,
                                               const nlohmann::json& patch) = 0;

  // Streams events to `on_event` until the server ends the watch (OK), `stop` becomes true
  // (Cancelled), on_event returns false (OK), or an error (410 Gone as OutOfRange: the
  // caller must relist). Blocks the calling thread.
  virtual Status Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                       const std::function<bool(const WatchEvent&)>& on_event,
                       const std::atomic<bool>& stop) = 0;
};

}  // namespace ringtrain::op::kube

#endif  // RINGTRAIN_OPERATOR_KUBE_CLIENT_H_
