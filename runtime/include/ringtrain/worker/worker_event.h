// The progress event a worker's training loop reports (PROGRESS, EVAL, FINISHED), built the
// same way for every model: where the worker stands and what its client has moved.
//
// Thread-safety: a function.
#ifndef RINGTRAIN_WORKER_WORKER_EVENT_H_
#define RINGTRAIN_WORKER_WORKER_EVENT_H_

#include <cstdint>

#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::worker {

struct WorkerStanding {
  int rank = 0;
  int epoch = 0;             // 1-based, the epoch in progress or evaluated
  int64_t step = 0;          // the clock reached
  int64_t start_step = 0;    // where this run started
  int64_t total_steps = 0;   // of the whole run (at least `step`)
  double loss = 0;           // mean training loss since the last report
  uint64_t samples = 0;      // trained by this worker so far
  double learning_rate = 0;  // of the last step
};

// The event of `type` with `standing` and the client's byte counters; the caller adds what is
// its own (evaluations, replays, skipped records).
proto::Event WorkerEvent(proto::EventType type, const WorkerStanding& standing,
                         const PsClient& client);

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_WORKER_WORKER_EVENT_H_
