// Expectations (as client-go's controllers keep them): after a reconcile wrote something, the
// next reconcile of that job waits until the controller's caches show it (the status write,
// the objects created with their UIDs, the objects deleted), so that it never plans from a
// cache older than the controller's own writes. They only delay: an expectation not met
// within the timeout is given up on and the job is reconciled anyway.
//
// The caches are consulted through a Lookup the caller passes, so this class knows nothing of
// informers and is tested without them.
//
// Thread-safety: every method may be called from any thread. Check calls the Lookup with the
// internal lock held: the Lookup must not call back into this object.
#ifndef RINGTRAIN_OPERATOR_EXPECTATIONS_H_
#define RINGTRAIN_OPERATOR_EXPECTATIONS_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ringtrain/operator/executor.h"

namespace ringtrain::op {

// What the next reconcile of one job must see before it plans.
struct Expectation {
  std::string job_uid;               // of the job written to (a re-created job starts afresh)
  std::string job_resource_version;  // non-empty: the cached job must have moved past it
  std::vector<ObjectRef> present;    // created: the caches must hold them
  std::vector<ObjectRef> absent;     // deleted: gone from the caches, or being deleted
};

// What the caches show of one object among those a job owns.
enum class Cached {
  kUntracked,  // no cache holds objects of this kind: nothing to wait for
  kAbsent,
  kPresent,
  kDeleting,  // present with a deletionTimestamp
};

class Expectations {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // What the caches show of `ref` among the objects the job with `job_uid` owns.
  using Lookup = std::function<Cached(const std::string& job_uid, const ObjectRef& ref)>;

  enum class Verdict {
    kProceed,  // nothing (more) to wait for: plan
    kWait,     // the caches are behind the last writes: do not plan yet
    kExpired,  // they stayed behind for `timeout`: given up on, plan anyway
  };

  // REQUIRES: timeout > 0.
  explicit Expectations(
      std::chrono::milliseconds timeout,
      Clock clock = [] { return std::chrono::steady_clock::now(); });
  Expectations(const Expectations&) = delete;
  Expectations& operator=(const Expectations&) = delete;

  // Records what the next reconcile of `key` ("namespace/name") must see; it expires
  // `timeout` from now. Replaces an earlier expectation of `key`.
  void Expect(const std::string& key, Expectation expectation);

  // Forgets `key` (its job is gone).
  void Forget(const std::string& key);

  // Whether the reconcile of `key`, whose job the cache holds with `job_uid` at
  // `job_resource_version`, may plan. kProceed when nothing is expected of `key`, when the
  // expectation was about an earlier job of the same name, or when it is met; kWait while it
  // is not met and has not expired; kExpired once it has. kProceed and kExpired forget it.
  [[nodiscard]] Verdict Check(const std::string& key, const std::string& job_uid,
                              const std::string& job_resource_version, const Lookup& lookup);

  // Expectations recorded and not yet met, expired or forgotten.
  size_t size() const;

 private:
  struct Entry {
    Expectation expectation;
    std::chrono::steady_clock::time_point expires;
  };
  static bool Met(const Expectation& e, const std::string& job_resource_version,
                  const Lookup& lookup);

  const std::chrono::milliseconds timeout_;
  const Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // GUARDED_BY(mu_), by job key
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_EXPECTATIONS_H_
