// An in-memory KubeClient for unit tests of logic (not a substitute for the API server: the
// real one is tested in tests/integration). Objects are kept by path; create/delete/patch
// follow the API's conflict rules closely enough for the executor's idempotence.
#ifndef RINGTRAIN_TESTS_UNIT_OPERATOR_FAKE_KUBE_CLIENT_H_
#define RINGTRAIN_TESTS_UNIT_OPERATOR_FAKE_KUBE_CLIENT_H_

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ringtrain/operator/kube/client.h"

namespace ringtrain::op::testing {

class FakeKubeClient : public kube::KubeClient {
 public:
  std::map<std::string, nlohmann::json> objects;  // path -> object
  std::vector<std::string> calls;                 // "CREATE <path>", ...
  Status fail_next;                               // returned once by the next call if set
  std::string fail_calls_matching;                // calls starting with it fail, every time
  nlohmann::json last_status_patch;               // the body of the last PatchStatus

  StatusOr<nlohmann::json> Get(const kube::Resource& r, const std::string& ns,
                               const std::string& name) override {
    RT_RETURN_IF_ERROR(Call("GET " + r.ObjectPath(ns, name)));
    auto it = objects.find(r.ObjectPath(ns, name));
    if (it == objects.end()) return NotFound(r.ObjectPath(ns, name));
    return it->second;
  }
  StatusOr<nlohmann::json> List(const kube::Resource& r, const std::string& ns,
                                const kube::ListOptions&) override {
    RT_RETURN_IF_ERROR(Call("LIST " + r.CollectionPath(ns)));
    nlohmann::json items = nlohmann::json::array();
    const std::string prefix = r.CollectionPath(ns) + "/";
    for (const auto& [path, o] : objects) {
      if (path.rfind(prefix, 0) == 0) items.push_back(o);
    }
    return nlohmann::json{{"items", items}, {"metadata", {{"resourceVersion", "1"}}}};
  }
  StatusOr<nlohmann::json> Create(const kube::Resource& r, const std::string& ns,
                                  const nlohmann::json& object) override {
    std::string name = object["metadata"].value("name", "");
    if (name.empty()) name = object["metadata"].value("generateName", "x") + std::to_string(seq_++);
    const std::string path = r.ObjectPath(ns, name);
    RT_RETURN_IF_ERROR(Call("CREATE " + path));
    if (objects.count(path) > 0) return Status(StatusCode::kAlreadyExists, path);
    objects[path] = object;
    objects[path]["metadata"]["name"] = name;
    return objects[path];
  }
  using kube::KubeClient::Delete;
  Status Delete(const kube::Resource& r, const std::string& ns, const std::string& name,
                const std::string& uid) override {
    const std::string path = r.ObjectPath(ns, name);
    RT_RETURN_IF_ERROR(Call("DELETE " + path));
    auto it = objects.find(path);
    if (it == objects.end()) return NotFound(path);
    if (!uid.empty() && it->second["metadata"].value("uid", "") != uid) {
      return Aborted("DELETE " + path + ": HTTP 409 Conflict: uid precondition");
    }
    objects.erase(it);
    return Status::Ok();
  }
  StatusOr<nlohmann::json> Patch(const kube::Resource& r, const std::string& ns,
                                 const std::string& name, kube::PatchType,
                                 const nlohmann::json& patch) override {
    const std::string path = r.ObjectPath(ns, name);
    RT_RETURN_IF_ERROR(Call("PATCH " + path));
    auto it = objects.find(path);
    if (it == objects.end()) return NotFound(path);
    it->second.merge_patch(patch);
    return it->second;
  }
  StatusOr<nlohmann::json> Update(const kube::Resource& r, const std::string& ns,
                                  const nlohmann::json& object) override {
    const std::string path = r.ObjectPath(ns, object["metadata"].value("name", ""));
    RT_RETURN_IF_ERROR(Call("UPDATE " + path));
    objects[path] = object;
    return object;
  }
  StatusOr<nlohmann::json> PatchStatus(const kube::Resource& r, const std::string& ns,
                                       const std::string& name,
                                       const nlohmann::json& patch) override {
    const std::string path = r.ObjectPath(ns, name);
    RT_RETURN_IF_ERROR(Call("PATCH-STATUS " + path));
    last_status_patch = patch;
    auto it = objects.find(path);
    if (it == objects.end()) return NotFound(path);
    it->second.merge_patch(patch);
    return it->second;
  }
  Status Watch(const kube::Resource&, const std::string&, const kube::WatchOptions&,
               const std::function<bool(const kube::WatchEvent&)>&,
               const std::atomic<bool>&) override {
    return Unimplemented("the fake does not watch");
  }

 private:
  Status Call(const std::string& what) {
    calls.push_back(what);
    if (!fail_calls_matching.empty() && what.rfind(fail_calls_matching, 0) == 0) {
      return Unavailable(what + ": failed (the fake's fail_calls_matching)");
    }
    if (!fail_next.ok()) {
      Status s = fail_next;
      fail_next = Status::Ok();
      return s;
    }
    return Status::Ok();
  }
  int seq_ = 0;
};

}  // namespace ringtrain::op::testing

#endif  // RINGTRAIN_TESTS_UNIT_OPERATOR_FAKE_KUBE_CLIENT_H_
