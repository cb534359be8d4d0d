// WorkQueue: the controller's queue of object keys ("namespace/name"), with client-go's
// semantics:
//   - a key is queued at most once however often it is added (dedup);
//   - a key being processed is never handed to a second worker; added meanwhile, it is queued
//     again when the first worker calls Done;
//   - AddAfter delays a key (a key waits once, at the earliest time asked); AddRateLimited delays
//   it by a per-key exponential backoff
//     (base * 2^failures, capped) that Forget resets after a success.
//
// Thread-safety: every method may be called from any thread.
#ifndef RINGTRAIN_OPERATOR_WORK_QUEUE_H_
#define RINGTRAIN_OPERATOR_WORK_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ringtrain::op {

struct BackoffOptions {
  std::chrono::milliseconds base{5};
  std::chrono::milliseconds max{std::chrono::seconds(300)};
};

// base * 2^failures, capped at max.
std::chrono::milliseconds BackoffDelay(const BackoffOptions& options, int failures);

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WorkQueue(BackoffOptions backoff = {}) : backoff_(backoff) {}
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& key);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // Delays the key by its backoff and counts a failure.
  void AddRateLimited(const std::string& key);
  // Clears the key's failure count.
  void Forget(const std::string& key);
  int Failures(const std::string& key) const;

  // Waits up to `timeout` for a key; nullopt on timeout or after ShutDown.
  std::optional<std::string> Get(std::chrono::milliseconds timeout);
  // REQUIRES: `key` came from Get and Done was not called for it since.
  void Done(const std::string& key);

  // Wakes every waiter; Get returns nullopt from then on.
  void ShutDown();
  size_t Length() const;

 private:
  void AddLocked(const std::string& key);
  void PromoteDueLocked(Clock::time_point now);

  const BackoffOptions backoff_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;                          // GUARDED_BY(mu_)
  std::set<std::string> dirty_;                            // GUARDED_BY(mu_): queued or re-add
  std::set<std::string> processing_;                       // GUARDED_BY(mu_)
  std::multimap<Clock::time_point, std::string> waiting_;  // GUARDED_BY(mu_)
  std::map<std::string, Clock::time_point> waiting_due_;   // GUARDED_BY(mu_): key -> its entry
  std::map<std::string, int> failures_;                    // GUARDED_BY(mu_)
  bool shutting_down_ = false;                             // GUARDED_BY(mu_)
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_WORK_QUEUE_H_
