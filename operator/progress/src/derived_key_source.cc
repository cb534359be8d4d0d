// JobKeySource by derivation (ringtrain/auth/keys.h: DeriveKeyPair), cached per job shape.
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

#include "ringtrain/auth/key_set.h"
#include "ringtrain/auth/keys.h"
#include "ringtrain/operator/job_keys.h"

namespace ringtrain::op {
namespace {

// A job of thousands of workers takes a few hundred ms to derive: kept for the few jobs being
// created at a time, dropped all at once beyond that.
constexpr size_t kCachedJobs = 16;

class DerivedKeySource final : public JobKeySource {
 public:
  explicit DerivedKeySource(std::string master) : master_(std::move(master)) {}

  StatusOr<JobKeyFiles> Files(const std::string& uid, int num_ps, int num_workers) const override {
    const auto key = std::make_tuple(uid, num_ps, num_workers);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    }
    RT_ASSIGN_OR_RETURN(auth::JobKeys keys, auth::DeriveJobKeys(master_, uid, num_ps, num_workers));
    JobKeyFiles files;
    files.public_keys = auth::FormatKeySet(keys.public_keys);
    for (const auto& [id, pair] : keys.pairs) {
      if (id.kind == auth::Identity::Kind::kSupervisor) continue;  // the operator's own
      files.secrets.emplace(auth::Name(id) + ".key", pair.secret_key);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.size() >= kCachedJobs) cache_.clear();
    cache_.emplace(key, files);
    return files;
  }

  StatusOr<PeerAuth> Peer(const std::string& uid, const std::string& process) const override {
    RT_RETURN_IF_ERROR(auth::ParseIdentity(process).status());
    RT_ASSIGN_OR_RETURN(
        auth::KeyPair own,
        auth::DeriveKeyPair(master_, uid, auth::Name(auth::Identity::Supervisor())));
    RT_ASSIGN_OR_RETURN(auth::KeyPair peer, auth::DeriveKeyPair(master_, uid, process));
    return PeerAuth{own.public_key, own.secret_key, peer.public_key};
  }

 private:
  const std::string master_;
  mutable std::mutex mu_;
  mutable std::map<std::tuple<std::string, int, int>, JobKeyFiles> cache_;
};

}  // namespace

StatusOr<std::shared_ptr<const JobKeySource>> MakeDerivedKeySource(std::string master) {
  // Checked once here rather than at each job.
  RT_RETURN_IF_ERROR(auth::DeriveKeyPair(master, "check", "supervisor").status());
  return std::shared_ptr<const JobKeySource>(new DerivedKeySource(std::move(master)));
}

}  // namespace ringtrain::op
