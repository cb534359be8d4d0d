// Test support: control and progress events (proto::Event) as the processes of a job send
// them, for the tests of what reads them (the launcher's checks and progress line, worker 0's
// status socket, the operator's progress). Each builder sets the fields it names and leaves
// the others unset, so a test sets only what it is about.
#ifndef RINGTRAIN_TESTS_SUPPORT_EVENTS_H_
#define RINGTRAIN_TESTS_SUPPORT_EVENTS_H_

#include <cstdint>
#include <string>

#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::testing {

// An event of `type` (PROGRESS, EVAL, FINISHED) from worker `index`, which has run `step` of
// its `total_steps` steps and is in (or has evaluated) `epoch`.
proto::Event WorkerEvent(proto::EventType type, uint32_t index, int64_t step, int64_t total_steps,
                         int epoch);

// WorkerEvent(proto::PROGRESS, ...).
proto::Event WorkerProgress(uint32_t index, int64_t step, int64_t total_steps, int epoch);

// Server `index`'s READY event: it serves at `endpoint`.
proto::Event ServerReady(uint32_t index, const std::string& endpoint);

// Server `index`'s FINISHED event, whose stats count `workers_done` finished workers.
proto::Event ServerFinished(uint32_t index, uint32_t workers_done);

// Server `index`'s CHECKPOINT event: it wrote a checkpoint at `step` into `location`.
proto::Event ServerCheckpoint(uint32_t index, int64_t step, const std::string& location,
                              bool final = false);

// A FAILED event from `role` ("ps", "worker", or what a forger claims) `index`, saying
// `message`.
proto::Event Failed(const std::string& role, uint32_t index, const std::string& message);

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_EVENTS_H_
