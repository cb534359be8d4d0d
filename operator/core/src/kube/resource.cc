// Resource paths (declared in client.h) and the resources the operator uses.
#include "ringtrain/operator/kube/client.h"
#include "ringtrain/operator/kube/url.h"

namespace ringtrain::op::kube {

std::string Resource::CollectionPath(const std::string& ns) const {
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) path += "/namespaces/" + PercentEncode(ns);
  return path + "/" + plural;
}

std::string Resource::ObjectPath(const std::string& ns, const std::string& name) const {
  return CollectionPath(ns) + "/" + PercentEncode(name);
}

Resource Pods() { return {"", "v1", "pods", true}; }
Resource Services() { return {"", "v1", "services", true}; }
Resource ConfigMaps() { return {"", "v1", "configmaps", true}; }
Resource Secrets() { return {"", "v1", "secrets", true}; }
Resource NetworkPolicies() { return {"networking.k8s.io", "v1", "networkpolicies", true}; }
Resource Events() { return {"", "v1", "events", true}; }
Resource Leases() { return {"coordination.k8s.io", "v1", "leases", true}; }
Resource TrainingJobs() { return {"ringtrain.io", "v1alpha1", "trainingjobs", true}; }

}  // namespace ringtrain::op::kube
