// The Kubernetes objects a TrainingJob owns, built from its spec: a ConfigMap holding the job
// (mounted into every pod as the pod contract's spec file), one headless Service per role
// (stable DNS names <pod>.<service>), and one Pod per replica with hostname and subdomain,
// labels, a controller ownerReference, resource requests, and the pod contract as environment.
//
// Pure functions of their inputs; names come from job/pod_contract.h so the local launcher and
// the operator agree on them.
#ifndef RINGTRAIN_OPERATOR_RESOURCES_H_
#define RINGTRAIN_OPERATOR_RESOURCES_H_

#include <string>

#include <nlohmann/json.hpp>

#include "ringtrain/job/pod_contract.h"
#include "ringtrain/job/spec.h"
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

struct ResourceOptions {
  std::string default_runtime_image = "ringtrain/runtime:0.1.0";
  int ps_port = job::kDefaultPsPort;
  int status_port = job::kDefaultStatusPort;       // worker 0's status socket
  int ps_status_port = job::kDefaultPsStatusPort;  // the servers' status sockets
  // Where pods push progress events (the operator's event endpoint); "" = none.
  std::string control_endpoint;
};

// Hash of the parts of a spec that shape pods (everything but runPolicy), hex.
std::string SpecHash(const job::TrainingJob& job);

std::string ConfigMapName(const std::string& job_name);

nlohmann::json BuildConfigMap(const JobView& view, const job::TrainingJob& job);
nlohmann::json BuildService(const JobView& view, job::Role role, const ResourceOptions& options);
nlohmann::json BuildPod(const JobView& view, const job::TrainingJob& job, job::Role role, int index,
                        const ResourceOptions& options);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_RESOURCES_H_
