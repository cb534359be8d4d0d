// Controller: the TrainingJob reconcile loop. Informers cache TrainingJobs and the Pods,
// Services and ConfigMaps the operator made (label app.kubernetes.io/managed-by =
// ringtrain-operator, indexed by their controller owner's UID); every change queues the key
// of the job it concerns; worker threads take keys off a rate-limited queue and reconcile.
//
// One reconcile reads only the caches: the job, the objects whose controller ownerReference
// is that job's UID (objects it does not own are never looked at, let alone touched), and the
// spec in its ConfigMap. It plans (planner.h, a pure function), executes (executor.h: status
// first, conditional on the job's resourceVersion, then the actions), and queues the key
// again after plan.requeue_after. A failed reconcile is retried with per-key exponential
// backoff; a success resets it. The loop never ends on an API error.
//
// Expectations (expectations.h): after a reconcile wrote something, the next reconcile of that
// job waits until the caches show it, so that it never plans from a cache that is older than
// the controller's own writes. They expire after `expectation_timeout`. Progress comes from a
// ProgressPoller (progress_poller.h) asking worker 0 of each running job, and the last
// checkpoint from the same poller asking each of its parameter servers (with spec.checkpoint).
//
// Restart-safety: nothing is kept in memory that the API server does not also hold (the
// expectations only delay); a new controller (after a crash, or a new leader) lists
// everything and converges to the same plan.
//
// Thread-safety: Start/Stop by the owner; Reconcile, stats and JobsByPhase from any thread.
#ifndef RINGTRAIN_OPERATOR_CONTROLLER_H_
#define RINGTRAIN_OPERATOR_CONTROLLER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/operator/executor.h"
#include "ringtrain/operator/expectations.h"
#include "ringtrain/operator/informer.h"
#include "ringtrain/operator/job_state.h"
#include "ringtrain/operator/kube/client.h"
#include "ringtrain/operator/progress_poller.h"
#include "ringtrain/operator/progress_source.h"
#include "ringtrain/operator/resources.h"
#include "ringtrain/operator/shard_control.h"
#include "ringtrain/operator/work_queue.h"

namespace ringtrain::op {

struct ControllerOptions {
  std::string ns;   // namespace to watch; "" = every namespace
  int workers = 2;  // reconcile threads
  ResourceOptions resources;
  BackoffOptions backoff{std::chrono::milliseconds(100), std::chrono::seconds(60)};
  std::chrono::seconds watch_timeout{60};  // per watch, asked of the server
  std::chrono::seconds expectation_timeout{30};
  // Progress: every progress_interval, worker 0 of each Running job is asked where training
  // stands (progress_source.h), and with spec.checkpoint each of its servers for its last
  // checkpoint, each ask bounded by progress_timeout, up to 8 at once.
  // nullptr: never asked. REQUIRES: it outlives the controller.
  ProgressSource* progress_source = nullptr;
  std::chrono::milliseconds progress_interval{10000};
  std::chrono::milliseconds progress_timeout{2000};
  // Failover: asks a lost server's successor to serve its shard until the replacement pod is up
  // (shard_control.h). nullptr: never asked. REQUIRES: it outlives the controller.
  ShardControl* shard_control = nullptr;
  std::function<Time()> clock = [] { return std::chrono::system_clock::now(); };
  // One line per noteworthy thing (errors, job transitions); nullptr = silent.
  std::function<void(const std::string&)> log;
};

struct ControllerStats {
  uint64_t reconciles = 0;
  uint64_t errors = 0;           // reconciles that failed (requeued with backoff)
  uint64_t conflicts = 0;        // of those: the job changed under the plan (409, Aborted)
  uint64_t waits = 0;            // reconciles deferred until the caches showed the last writes
  uint64_t expired = 0;          // expectations given up on after expectation_timeout
  uint64_t progress_polls = 0;   // status asks answered
  uint64_t progress_errors = 0;  // status asks that failed (unreachable, refused, timed out)
  double reconcile_seconds = 0;  // total time spent reconciling
  uint64_t created = 0;          // objects created
  uint64_t deleted = 0;          // objects deleted
  size_t queue_length = 0;
  std::vector<std::pair<std::string, InformerStats>> informers;  // by resource plural
};

class Controller {
 public:
  // `client` must outlive the controller.
  Controller(kube::KubeClient& client, ControllerOptions options);
  ~Controller();  // Stop()
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts the informers, waits up to `sync_timeout` for their first lists, then starts the
  // workers. DeadlineExceeded if the caches did not fill in time (call Stop).
  // REQUIRES: called once.
  [[nodiscard]] Status Start(std::chrono::milliseconds sync_timeout);
  // Stops the workers (each finishes its reconcile) and the informers. Idempotent.
  void Stop();

  // Reconciles the job with key "namespace/name" from the caches, once. A job not in the
  // cache is done with (its objects go with it by garbage collection).
  [[nodiscard]] Status Reconcile(const std::string& key);

  ControllerStats stats() const;
  // TrainingJobs in the cache by status.phase ("" for none yet).
  std::map<std::string, int> JobsByPhase() const;

 private:
  void Work();
  void OnJob(const ObjectPtr& object);
  void OnOwned(const ObjectPtr& object);
  void Log(const std::string& line) const;
  // What the caches show of `ref` among the objects of the job with `job_uid`.
  Cached Lookup(const std::string& job_uid, const ObjectRef& ref) const;
  // The running jobs, and the status endpoints of their worker 0 and (with spec.checkpoint)
  // servers that can be asked now.
  ProgressRound ProgressTargets() const;
  const Informer* InformerFor(const std::string& plural) const;

  kube::KubeClient& client_;
  const ControllerOptions options_;
  WorkQueue queue_;
  std::unique_ptr<Informer> jobs_;
  std::unique_ptr<Informer> pods_;
  std::unique_ptr<Informer> services_;
  std::unique_ptr<Informer> config_maps_;
  std::vector<std::thread> workers_;
  std::unique_ptr<ProgressPoller> poller_;  // null without a progress source
  std::atomic<bool> stop_{false};
  Expectations expectations_;

  std::atomic<uint64_t> reconciles_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> conflicts_{0};
  std::atomic<uint64_t> waits_{0};
  std::atomic<uint64_t> expired_{0};
  std::atomic<uint64_t> reconcile_micros_{0};
  std::atomic<uint64_t> created_{0};
  std::atomic<uint64_t> deleted_{0};
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_CONTROLLER_H_
