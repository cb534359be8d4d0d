// The Kubernetes names of a job's objects. Only the operator needs them: the runtime is told
// endpoints, never names (ringtrain/job/pod_contract.h).
//
// In a cluster, parameter server i of job J in namespace N is the pod PodName(J,
// kParameterServer, i) behind the headless service ServiceName(J, kParameterServer); workers
// reach it at PsEndpointInCluster(J, N, i, port).
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_OPERATOR_NAMES_H_
#define RINGTRAIN_OPERATOR_NAMES_H_

#include <string>

#include "ringtrain/job/pod_contract.h"

namespace ringtrain::op {

// `job` is metadata.name, `index` the 0-based index within the role.
// "<job>-ps-<index>" / "<job>-worker-<index>": "<job>-" and the process's name.
std::string PodName(const std::string& job, job::Role role, int index);
// "<job>-ps" / "<job>-worker": the headless service (pod subdomain) of a role.
std::string ServiceName(const std::string& job, job::Role role);
// "tcp://<job>-ps-<index>.<job>-ps.<ns>.svc:<port>"
std::string PsEndpointInCluster(const std::string& job, const std::string& ns, int index, int port);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_NAMES_H_
