// FencedClient: a KubeClient that lets writes through only while `allowed()` says so, and
// reads always. The operator hands its controller one fenced on leadership, so a replica
// whose Lease has lapsed cannot write even from a reconcile already in flight (the gap
// between losing the Lease and the workers stopping).
//
// Thread-safety: as the wrapped client; `allowed` must be thread-safe.
#ifndef RINGTRAIN_OPERATOR_KUBE_FENCED_CLIENT_H_
#define RINGTRAIN_OPERATOR_KUBE_FENCED_CLIENT_H_

#include <functional>
#include <string>
#include <utility>

#include "ringtrain/operator/kube/client.h"

namespace ringtrain::op::kube {

class FencedClient final : public KubeClient {
 public:
  // `inner` must outlive this. A refused write returns Unavailable naming the verb and path.
  FencedClient(KubeClient& inner, std::function<bool()> allowed)
      : inner_(inner), allowed_(std::move(allowed)) {}

  StatusOr<nlohmann::json> Get(const Resource& r, const std::string& ns,
                               const std::string& name) override {
    return inner_.Get(r, ns, name);
  }
  StatusOr<nlohmann::json> List(const Resource& r, const std::string& ns,
                                const ListOptions& options) override {
    return inner_.List(r, ns, options);
  }
  StatusOr<nlohmann::json> Create(const Resource& r, const std::string& ns,
                                  const nlohmann::json& object) override {
    RT_RETURN_IF_ERROR(Fence("POST", r.CollectionPath(ns)));
    return inner_.Create(r, ns, object);
  }
  using KubeClient::Delete;
  Status Delete(const Resource& r, const std::string& ns, const std::string& name,
                const std::string& uid) override {
    RT_RETURN_IF_ERROR(Fence("DELETE", r.ObjectPath(ns, name)));
    return inner_.Delete(r, ns, name, uid);
  }
  StatusOr<nlohmann::json> Patch(const Resource& r, const std::string& ns, const std::string& name,
                                 PatchType type, const nlohmann::json& patch) override {
    RT_RETURN_IF_ERROR(Fence("PATCH", r.ObjectPath(ns, name)));
    return inner_.Patch(r, ns, name, type, patch);
  }
  StatusOr<nlohmann::json> Update(const Resource& r, const std::string& ns,
                                  const nlohmann::json& object) override {
    RT_RETURN_IF_ERROR(Fence("PUT", r.CollectionPath(ns)));
    return inner_.Update(r, ns, object);
  }
  StatusOr<nlohmann::json> PatchStatus(const Resource& r, const std::string& ns,
                                       const std::string& name,
                                       const nlohmann::json& patch) override {
    RT_RETURN_IF_ERROR(Fence("PATCH", r.ObjectPath(ns, name) + "/status"));
    return inner_.PatchStatus(r, ns, name, patch);
  }
  Status Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
               const std::function<bool(const WatchEvent&)>& on_event,
               const std::atomic<bool>& stop) override {
    return inner_.Watch(r, ns, options, on_event, stop);
  }

 private:
  Status Fence(const char* verb, const std::string& path) const {
    if (allowed_()) return Status::Ok();
    return Unavailable(std::string(verb) + " " + path + ": refused: this replica does not hold " +
                       "the leader Lease");
  }

  KubeClient& inner_;
  const std::function<bool()> allowed_;
};

}  // namespace ringtrain::op::kube

#endif  // RINGTRAIN_OPERATOR_KUBE_FENCED_CLIENT_H_
