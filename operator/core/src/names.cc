#include "ringtrain/operator/names.h"

#include <cstdio>

#include "ringtrain/common/hash.h"
#include "ringtrain/operator/job_keys.h"

namespace ringtrain::op {

std::string PodName(const std::string& job, job::Role role, int index) {
  return job + "-" + job::ProcessName(role, index);
}

std::string ServiceName(const std::string& job, job::Role role) {
  return job + "-" + job::Name(role);
}

std::string PsEndpointInCluster(const std::string& job, const std::string& ns, int index,
                                int port) {
  return "tcp://" + PodName(job, job::Role::kParameterServer, index) + "." +
         ServiceName(job, job::Role::kParameterServer) + "." + ns + ".svc:" + std::to_string(port);
}

std::string JobKeySecretName(const std::string& job_name, const std::string& uid, int num_ps,
                             int num_workers) {
  char hash[9];
  std::snprintf(hash, sizeof(hash), "%08llx",
                static_cast<unsigned long long>(
                    Hash64(uid + "/" + std::to_string(num_ps) + "/" + std::to_string(num_workers)) &
                    0xffffffffULL));
  return job_name + "-keys-" + hash;
}

}  // namespace ringtrain::op
