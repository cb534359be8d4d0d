#include "ringtrain/operator/names.h"

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

}  // namespace ringtrain::op
