// The Kubernetes objects a TrainingJob owns, built from its spec: a ConfigMap holding the job
// (mounted into every pod as the pod contract's spec file) and, with authentication, its public
// keys; a Secret holding its processes' secret keys (job_keys.h); one headless Service per role
// (stable DNS names <pod>.<service>), and one Pod per replica with hostname and subdomain,
// labels, a controller ownerReference, resource requests, the pod contract as environment and,
// with authentication, its own secret key alone; and a NetworkPolicy admitting to the job's pods
// only the job's own pods and the operator's.
//
// Pure functions of their inputs; names come from job/pod_contract.h so the local launcher and
// the operator agree on them.
#ifndef RINGTRAIN_OPERATOR_RESOURCES_H_
#define RINGTRAIN_OPERATOR_RESOURCES_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ringtrain/job/pod_contract.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/operator/job_keys.h"
#include "ringtrain/operator/job_state.h"

namespace ringtrain::op {

// Labels every owned object carries.
inline constexpr char kLabelJobName[] = "ringtrain.io/job-name";
inline constexpr char kLabelRole[] = "ringtrain.io/role";
inline constexpr char kLabelIndex[] = "ringtrain.io/index";
inline constexpr char kLabelSpecHash[] = "ringtrain.io/spec-hash";
inline constexpr char kLabelManagedBy[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedBy[] = "ringtrain-operator";

// The ConfigMap's key holding the job; pods mount it at job::kSpecMountDir and processes leave
// their final words at job::kTerminationLogPath (Kubernetes' default terminationMessagePath).
inline constexpr char kSpecFileName[] = "job.json";

// The group of the runtime image's user (images/runtime.Dockerfile), the pods' fsGroup.
inline constexpr int kRuntimeGroup = 65532;

struct ResourceOptions {
  std::string default_runtime_image = "ringtrain/runtime:0.1.0";
  int ps_port = job::kDefaultPsPort;
  int status_port = job::kDefaultStatusPort;       // worker 0's status socket
  int ps_status_port = job::kDefaultPsStatusPort;  // the servers' status sockets
  // Where pods push progress events (the operator's event endpoint); "" = none.
  std::string control_endpoint;
  // The jobs' keys (spec.security.authentication: curve). Null: such jobs cannot be run (the
  // planner says so in an event; the operator's main always sets it).
  std::shared_ptr<const JobKeySource> keys;
  // NetworkPolicies (BuildNetworkPolicy): made for every job unless false. The operator's own
  // pods (namespace and labels) are the one peer from outside the job; with no labels the
  // policy admits the job's pods alone (an operator outside the cluster, in development, then
  // reaches no status socket where the policy is enforced).
  bool network_policies = true;
  // A running job whose progress (worker 0's step) has not moved for this long gets the
  // condition Stalled (reason NoProgress, naming the pods that do not run); 0 = never.
  std::chrono::seconds stall_after{300};
  std::string operator_namespace;
  std::map<std::string, std::string> operator_pod_labels;
};

// Hash of the parts of a spec that shape pods (everything but runPolicy), hex.
std::string SpecHash(const job::TrainingJob& job);

std::string ConfigMapName(const std::string& job_name);

// With authentication the ConfigMap also holds `keys`' public keys file, and BuildKeySecret is
// the Secret of its secret keys (as stringData).
nlohmann::json BuildConfigMap(const JobView& view, const job::TrainingJob& job,
                              const JobKeyFiles* keys = nullptr);
nlohmann::json BuildKeySecret(const JobView& view, const job::TrainingJob& job,
                              const JobKeyFiles& keys);
// "<job>-network".
std::string NetworkPolicyName(const std::string& job_name);
// Ingress to the job's pods (label ringtrain.io/job-name) only from the job's own pods, on the
// data port (workers to servers, servers to their successor), and from the operator's pods (the
// data port for takeovers, the status ports). Egress is not restricted. The objects are what
// is tested; enforcing them is the network plugin's (none in the test control plane).
nlohmann::json BuildNetworkPolicy(const JobView& view, const ResourceOptions& options);
nlohmann::json BuildService(const JobView& view, job::Role role, const ResourceOptions& options);
nlohmann::json BuildPod(const JobView& view, const job::TrainingJob& job, job::Role role, int index,
                        const ResourceOptions& options);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_RESOURCES_H_
