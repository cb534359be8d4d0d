// A JobKeySource for the planner's tests: recognizable strings, not keys (the derivation itself
// is tested in tests/unit/auth and, through the operator, end to end).
#ifndef RINGTRAIN_TESTS_UNIT_OPERATOR_FAKE_JOB_KEYS_H_
#define RINGTRAIN_TESTS_UNIT_OPERATOR_FAKE_JOB_KEYS_H_

#include <memory>
#include <string>

#include "ringtrain/job/pod_contract.h"
#include "ringtrain/operator/job_keys.h"
#include "ringtrain/operator/resources.h"

namespace ringtrain::op {

class FakeJobKeySource final : public JobKeySource {
 public:
  StatusOr<JobKeyFiles> Files(const std::string& uid, int num_ps, int num_workers) const override {
    JobKeyFiles f;
    f.public_keys = "public keys of " + uid + "\n";
    for (int i = 0; i < num_ps; ++i) {
      const std::string p = job::ProcessName(job::Role::kParameterServer, i);
      f.secrets[p + ".key"] = "secret of " + uid + "/" + p;
    }
    for (int i = 0; i < num_workers; ++i) {
      const std::string p = job::ProcessName(job::Role::kWorker, i);
      f.secrets[p + ".key"] = "secret of " + uid + "/" + p;
    }
    return f;
  }
  StatusOr<PeerAuth> Peer(const std::string& uid, const std::string& process) const override {
    return PeerAuth{"supervisor public of " + uid, "supervisor secret of " + uid,
                    "public of " + uid + "/" + process};
  }
};

// ResourceOptions{} with the fake keys.
inline ResourceOptions TestResourceOptions() {
  ResourceOptions o;
  o.keys = std::make_shared<FakeJobKeySource>();
  return o;
}

}  // namespace ringtrain::op

#endif  // RINGTRAIN_TESTS_UNIT_OPERATOR_FAKE_JOB_KEYS_H_
