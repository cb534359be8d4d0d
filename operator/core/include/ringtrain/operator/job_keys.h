// The CURVE keys of the jobs the operator runs (spec.security.authentication: curve).
//
// Each job gets a key pair per process and one for its supervisor, the operator. The operator
// derives them (ringtrain/auth/keys.h: DeriveKeyPair) from its master secret and the job's UID,
// so it never needs to read them back: it may create and delete Secrets but never get, list or
// watch them. What the planner does with them:
//   - a Secret "<job>-keys-<8 hex digits>" (JobKeySecretName), owned by the job, holds
//     every process's secret key as "<process>.key"; each pod mounts only its own, beside the
//     spec (one projected volume of the ConfigMap and that item, mode 0440 with the pod's
//     fsGroup);
//   - the job's ConfigMap holds the public keys file (kPublicKeysFileName), which is not
//     secret, beside the spec;
//   - the operator's own status and takeover sockets use the supervisor's pair (PeerAuth).
// The Secret's name carries a hash of the job's UID and replica counts because the operator
// cannot look at an existing Secret: a left-over one of an earlier job of the same name
// (garbage collection is asynchronous) or of this job before an edit of its replica counts
// (while suspended) has another name, and a create that finds this job's Secret already there
// (a retry) is fine, the derivation giving the same keys.
//
// The core holds only this interface (no cryptography, no ZeroMQ); operator/progress implements
// it (MakeDerivedKeySource).
//
// Thread-safety: implementations are safe to call from several threads.
#ifndef RINGTRAIN_OPERATOR_JOB_KEYS_H_
#define RINGTRAIN_OPERATOR_JOB_KEYS_H_

#include <map>
#include <memory>
#include <string>

#include "ringtrain/common/status.h"

namespace ringtrain::op {

// The ConfigMap key of the job's public keys file.
inline constexpr char kPublicKeysFileName[] = "public-keys";

// How the operator speaks to one process of a job: its own pair (the job's supervisor's) and
// the process's public key, all Z85. Empty: plaintext (authentication: none).
struct PeerAuth {
  std::string own_public;
  std::string own_secret;
  std::string peer_public;

  bool enabled() const { return !peer_public.empty(); }
  bool operator==(const PeerAuth&) const = default;
};

// Every key of one job, as the files pods get.
struct JobKeyFiles {
  std::string public_keys;                     // the public keys file (auth/key_set.h)
  std::map<std::string, std::string> secrets;  // "<process>.key" -> secret key, Z85
};

class JobKeySource {
 public:
  virtual ~JobKeySource() = default;
  // The keys of job `uid` with `num_ps` servers and `num_workers` workers.
  virtual StatusOr<JobKeyFiles> Files(const std::string& uid, int num_ps,
                                      int num_workers) const = 0;
  // The supervisor's pair of job `uid` and the public key of its process `process` ("ps-1",
  // "worker-0").
  virtual StatusOr<PeerAuth> Peer(const std::string& uid, const std::string& process) const = 0;
};

// Keys derived from `master` (at least 32 bytes: the operator's --key-file). InvalidArgument for
// a shorter one. Derivations are cached for a few jobs.
StatusOr<std::shared_ptr<const JobKeySource>> MakeDerivedKeySource(std::string master);

// "<job>-keys-<8 hex digits of a hash of uid, num_ps and num_workers>".
std::string JobKeySecretName(const std::string& job_name, const std::string& uid, int num_ps,
                             int num_workers);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_JOB_KEYS_H_
