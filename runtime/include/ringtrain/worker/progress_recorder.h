// ProgressRecorder: an EventSink in front of another that keeps the latest training progress
// of this worker (PROGRESS, EVAL, FINISHED events) as a proto::StatusReply, for the status
// server to hand to the operator and for the final summary written at exit.
//
// Samples per second are this worker's rate between its last two reports times the number of
// workers (every worker runs the same steps per epoch, so that is the job's rate).
//
// Thread-safety: Send from the training thread; Snapshot from any thread.
#ifndef RINGTRAIN_WORKER_PROGRESS_RECORDER_H_
#define RINGTRAIN_WORKER_PROGRESS_RECORDER_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "ringtrain/job/final_progress.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/transport/event_sink.h"

namespace ringtrain::worker {

class ProgressRecorder final : public transport::EventSink {
 public:
  using Clock = std::chrono::steady_clock;

  // `next` (not owned) receives every event after it is recorded; it must outlive this.
  ProgressRecorder(transport::EventSink* next, const std::string& job, int num_workers,
                   int64_t global_batch_size);

  void Send(const proto::Event& event) override;
  // For tests: Send with the time of the event given.
  void SendAt(const proto::Event& event, Clock::time_point now);

  // The progress so far (job, latest event, rate, global batch, finished).
  proto::StatusReply Snapshot() const;

 private:
  transport::EventSink* const next_;
  const int num_workers_;
  mutable std::mutex mu_;
  proto::StatusReply reply_;       // GUARDED_BY(mu_)
  bool has_sample_ = false;        // GUARDED_BY(mu_)
  uint64_t last_samples_ = 0;      // GUARDED_BY(mu_)
  Clock::time_point last_time_{};  // GUARDED_BY(mu_)
};

// The final progress record of `reply` (ringtrain/job/final_progress.h), which worker 0 writes
// to its termination log so that the operator reads the end of a run from the pod's status
// (containerStatuses[].state.terminated.message) after the worker is gone.
job::FinalProgress FinalProgressOf(const proto::StatusReply& reply);

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_WORKER_PROGRESS_RECORDER_H_
