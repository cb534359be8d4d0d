// Informer: a local cache of one kind of Kubernetes object, kept true by list + watch (the
// reflector/store/indexer of client-go in one small class).
//
// A thread lists the collection, then watches from the list's resourceVersion, resuming from
// the last resourceVersion seen (events and bookmarks) each time the server ends a watch. A
// 410 Gone (the resume point is too old) relists at once; any other error (connection refused,
// timeouts, 5xx, an API server restart) is retried with exponential backoff, watching again
// from where it stood. A relist replaces the cache and reports what changed, including the
// objects deleted while no watch was open, so a handler never misses a deletion.
//
// Objects are shared immutable JSON snapshots: readers keep them as long as they like while
// the cache moves on.
//
// Thread-safety: Get/List/ByIndex/HasSynced/stats may be called from any thread. The handler
// runs on the informer's thread, after the cache already shows the change; it must be quick
// (queue a key) and must not call Stop. Start and Stop are called by the owner only.
#ifndef RINGTRAIN_OPERATOR_INFORMER_H_
#define RINGTRAIN_OPERATOR_INFORMER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ringtrain/operator/kube/client.h"
#include "ringtrain/operator/work_queue.h"

namespace ringtrain::op {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

// "namespace/name" (or "name" for cluster-scoped objects).
std::string ObjectKey(const nlohmann::json& object);

// The UID of the object's controller ownerReference, or "" if it has none.
std::string ControllerUid(const nlohmann::json& object);

struct InformerOptions {
  kube::Resource resource;
  std::string ns;              // "" = every namespace
  std::string label_selector;  // only objects matching it are cached
  // Asked of the server for each watch; must be below the client's watch read timeout.
  std::chrono::seconds watch_timeout{60};
  BackoffOptions backoff{std::chrono::milliseconds(250), std::chrono::seconds(30)};
  // Optional secondary index: the keys an object is filed under (e.g. its owner's UID).
  std::function<std::vector<std::string>(const nlohmann::json&)> index;
};

struct InformerStats {
  uint64_t lists = 0;    // successful lists (the first and every relist)
  uint64_t watches = 0;  // watches opened
  uint64_t gone = 0;     // 410 Gone answers (each followed by a relist)
  uint64_t errors = 0;   // failed lists and watches (each followed by a backoff)
  uint64_t events = 0;   // ADDED/MODIFIED/DELETED applied to the cache
  size_t objects = 0;    // objects in the cache now
};

class Informer {
 public:
  // `type` is ADDED, MODIFIED or DELETED; for DELETED `object` is the last state known.
  using Handler = std::function<void(const std::string& type, const ObjectPtr& object)>;

  // `client` must outlive the informer.
  Informer(kube::KubeClient& client, InformerOptions options, Handler handler);
  ~Informer();  // Stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Starts the list/watch thread. REQUIRES: not started before.
  void Start();
  // Ends the thread (an open watch is closed within ~50 ms). Idempotent.
  void Stop();

  // True once the first list is in the cache.
  bool HasSynced() const;
  // Waits up to `timeout` for HasSynced().
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  // nullptr if absent.
  ObjectPtr Get(const std::string& key) const;
  std::vector<ObjectPtr> List() const;
  // Objects filed under `value` by options.index (empty without an index).
  std::vector<ObjectPtr> ByIndex(const std::string& value) const;

  InformerStats stats() const;
  const kube::Resource& resource() const { return options_.resource; }

 private:
  void Loop();
  // Lists and replaces the cache; returns the list's resourceVersion.
  Status Relist(std::string& resource_version);
  Status WatchFrom(std::string& resource_version);
  void Apply(const std::string& type, ObjectPtr object);
  void PutLocked(const std::string& key, ObjectPtr object);
  void EraseLocked(const std::string& key);
  // Sleeps up to `d`, returning early (false) when stopping.
  bool SleepFor(std::chrono::milliseconds d);

  kube::KubeClient& client_;
  const InformerOptions options_;
  const Handler handler_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, ObjectPtr> items_;                 // GUARDED_BY(mu_)
  std::map<std::string, std::set<std::string>> index_;     // GUARDED_BY(mu_): value -> keys
  std::map<std::string, std::vector<std::string>> filed_;  // GUARDED_BY(mu_): key -> values
  bool synced_ = false;                                    // GUARDED_BY(mu_)
  InformerStats stats_;                                    // GUARDED_BY(mu_)

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_INFORMER_H_
