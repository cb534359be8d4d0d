// ProgressPoller: asks worker 0 of each running job where training stands, and each of its
// parameter servers for its last checkpoint and the workers it waits for, every interval, over a
// ProgressSource (progress_source.h), and keeps the latest answers per job for the planner. A job
// whose progress or a server's checkpoint moved is reported through `changed`, so that it is
// reconciled and its status shows the new numbers. A server that does not answer keeps its
// last answer (its checkpoint is still on disk); one that answers it has none loses it.
//
// Which jobs to ask comes from `round`, called once per round (the controller lists its
// caches); the asks of a round run up to `parallel` at once, each bounded by `timeout`, so
// unreachable workers do not hold up a round of many jobs. Jobs no longer running are
// forgotten at the end of each round.
//
// Thread-safety: Start/Stop by the owner; Latest and the counters from any thread. `round`
// is called on the poller's thread, `changed` on the threads of the asks.
#ifndef RINGTRAIN_OPERATOR_PROGRESS_POLLER_H_
#define RINGTRAIN_OPERATOR_PROGRESS_POLLER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ringtrain/operator/job_state.h"
#include "ringtrain/operator/progress_source.h"

namespace ringtrain::op {

// One process to ask: its job's key ("namespace/name") and name, and its status endpoint:
// worker 0's (server < 0) for the progress, or parameter server `server`'s for its checkpoint.
struct ProgressTarget {
  std::string key;
  std::string job;
  std::string endpoint;
  int server = -1;
  PeerAuth auth{};  // how to speak to it (spec.security.authentication); empty: plaintext
};

// What one round asks: the keys of every running job (the answers of others are forgotten)
// and the processes that can be asked now.
struct ProgressRound {
  std::set<std::string> running;
  std::vector<ProgressTarget> targets;
};

struct ProgressPollerOptions {
  ProgressSource* source = nullptr;  // REQUIRES: non-null, outlives the poller
  std::chrono::milliseconds interval{10000};
  std::chrono::milliseconds timeout{2000};
  size_t parallel = 8;
  // Stamps the answers' update_time.
  std::function<Time()> clock = [] { return std::chrono::system_clock::now(); };
};

class ProgressPoller {
 public:
  ProgressPoller(ProgressPollerOptions options, std::function<ProgressRound()> round,
                 std::function<void(const std::string& key)> changed);
  ~ProgressPoller();  // Stop()
  ProgressPoller(const ProgressPoller&) = delete;
  ProgressPoller& operator=(const ProgressPoller&) = delete;

  // Starts the thread that polls every interval (the first round one interval from now).
  // REQUIRES: called once.
  void Start();
  // Stops it; a round under way finishes its current asks. Idempotent.
  void Stop();

  // One round, on the calling thread (the poller's thread calls it every interval).
  void PollOnce();

  // The latest progress of `key`, if worker 0 answered since the job started running.
  std::optional<Progress> Latest(const std::string& key) const;
  // The latest checkpoint of each of `key`'s servers that answered with one since the job
  // started running, by server index.
  std::map<int, ServerCheckpoint> LatestCheckpoints(const std::string& key) const;
  // The workers each of `key`'s servers last said it waits for, by server index. A change
  // here is not reported through `changed` (it changes with every round of training); the
  // planner reads it when it looks for a stall.
  std::map<int, std::vector<int>> LatestWaitingFor(const std::string& key) const;

  uint64_t polls() const { return polls_; }    // asks answered
  uint64_t errors() const { return errors_; }  // asks failed (unreachable, refused, timed out)

 private:
  void Loop();
  void Ask(const ProgressTarget& target);
  void AskServer(const ProgressTarget& target);

  const ProgressPollerOptions options_;
  const std::function<ProgressRound()> round_;
  const std::function<void(const std::string&)> changed_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;                // wakes the thread to stop
  std::map<std::string, Progress> progress_;  // GUARDED_BY(mu_), by job key
  // GUARDED_BY(mu_), by job key, then server index.
  std::map<std::string, std::map<int, ServerCheckpoint>> checkpoints_;
  std::map<std::string, std::map<int, std::vector<int>>> waiting_for_;  // GUARDED_BY(mu_), alike
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> polls_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_PROGRESS_POLLER_H_
