// ProgressTracker: folds the events of a run into what the launcher shows — a progress line
// (epoch, step, loss, samples/s, ETA), per-epoch evaluation lines and the final summary.
//
// Events are input, not facts (launch/event_check.h says what the launcher lets through): any
// values are safe here, and the status line stays within bounds — a worker's step counts at
// most its total, the bar is at most full, the epoch at most the job's.
//
// Pure: time is passed in, nothing is printed here. Thread-safety: not thread-safe.
#ifndef RINGTRAIN_LAUNCH_PROGRESS_H_
#define RINGTRAIN_LAUNCH_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::launch {

using SteadyTime = std::chrono::steady_clock::time_point;

struct EvalRecord {
  int epoch = 0;
  double accuracy = 0;
  double loss = 0;
  double auc = -1;     // a click-through model's test AUC (loss is then its log-loss); -1: none
  double seconds = 0;  // since the run started
};

// The checkpoint a job started again would continue from: every server's newest checkpoint
// (written, or restored from when it started) holds at least this step.
struct JobCheckpoint {
  int64_t step = 0;    // the smallest of the servers' newest checkpoints' steps
  bool final = false;  // every server's newest is its final checkpoint
};

// Adds the counters of one server process to those of another (*into): sums, except the
// maxima (staleness_max, max_clock_lead: the larger) and the states (partitions_owned,
// workers_done, sparse_rows, sparse_table_bytes, sparse_raw_bytes: `from`'s, the newer
// process's; so server_totals() has the last server's states: sum them over server_stats()).
void AddServerStats(const proto::ServerStats& from, proto::ServerStats* into);

class ProgressTracker {
 public:
  ProgressTracker(int num_workers, int num_ps, int epochs, SteadyTime start);

  // Folds one event in. Returns a line to print for events that deserve one (evaluations).
  std::optional<std::string> OnEvent(const proto::Event& event, SteadyTime now);

  // One line, e.g. "epoch 3/10 [=====>    ] 45% step 2110/4690 loss 0.412 lr 0.05
  // 12.3k samples/s ETA 0:42".
  std::string StatusLine(SteadyTime now) const;

  // Samples per second over all workers, measured over the last few seconds.
  double SamplesPerSecond(SteadyTime now) const;
  // Mean samples per second over the whole run so far.
  double MeanSamplesPerSecond(SteadyTime now) const;

  const std::vector<EvalRecord>& evals() const { return evals_; }
  uint64_t total_samples() const;
  uint64_t bytes_pushed() const;
  uint64_t bytes_pushed_dense() const;
  uint64_t bytes_pulled() const;
  uint64_t bytes_pulled_shared() const;   // the part read from the servers' shared memory
  uint64_t bytes_pushed_shared() const;   // the part servers read from the workers' shared memory
  uint64_t bytes_pushed_chunked() const;  // the part sent in chunks (streamed rounds)
  uint64_t messages_dropped() const;
  // The slowest worker's training loop in seconds (Event.train_seconds of the workers'
  // FINISHED); 0 until one has finished.
  double train_seconds() const;
  // The servers' counters, summed; staleness_max and max_clock_lead are the maxima over
  // servers.
  proto::ServerStats server_totals() const;
  // Each server's counters over every process that served its shard: a server reports them
  // every second (PROGRESS) and when it finishes (FINISHED); a replacement's READY closes the
  // previous process's account (its last report, up to a second old if it was killed), and
  // the processes' counters add up (AddServerStats). Empty counters until the first report.
  std::vector<proto::ServerStats> server_stats() const;
  // From the servers' CHECKPOINT events and the checkpoints they restored (READY); std::nullopt
  // until every server has one.
  std::optional<JobCheckpoint> last_checkpoint() const;
  int64_t global_batch() const { return global_batch_; }
  void set_global_batch(int64_t b) { global_batch_ = b; }
  // job::WorkersPerExample: total_samples() is the workers' samples divided by it.
  void set_workers_per_example(int n) { workers_per_example_ = n; }

 private:
  struct WorkerState {
    int64_t step = 0;
    int64_t total_steps = 0;
    int epoch = 0;
    double loss = 0;
    double learning_rate = 0;
    uint64_t samples = 0;
    uint64_t bytes_pushed = 0;
    uint64_t bytes_pushed_dense = 0;
    uint64_t bytes_pulled = 0;
    uint64_t bytes_pulled_shared = 0;
    uint64_t bytes_pushed_shared = 0;
    uint64_t bytes_pushed_chunked = 0;
    double train_seconds = 0;
  };
  // The sum of one counter over the workers.
  uint64_t SumOverWorkers(uint64_t WorkerState::*counter) const;

  int epochs_;
  SteadyTime start_;
  int64_t global_batch_ = 0;
  int workers_per_example_ = 1;
  std::vector<WorkerState> workers_;
  std::vector<proto::ServerStats> ps_stats_;  // the current process's latest report
  std::vector<proto::ServerStats> ps_past_;   // the earlier processes' last reports, added
  std::vector<bool> ps_ready_;                // a process of the server has reported READY
  std::vector<std::optional<proto::CheckpointInfo>> ps_checkpoints_;  // each server's newest
  std::vector<EvalRecord> evals_;
  std::deque<std::pair<SteadyTime, uint64_t>> rate_window_;  // (time, total samples)
};

// "1:02:03" / "4:05".
std::string FormatDuration(double seconds);
// "12.3k" / "1.2M" / "532".
std::string FormatCount(double n);
// "1.5 MiB".
std::string FormatBytes(uint64_t bytes);

}  // namespace ringtrain::launch

#endif  // RINGTRAIN_LAUNCH_PROGRESS_H_
