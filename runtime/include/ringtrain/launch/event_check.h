// CheckEvent: whether an event on the launcher's control socket could have come from a process
// of the job, before anything in it is used.
//
// The control socket is a ZeroMQ PULL socket on loopback: any local process can connect and
// send to it, so its events are input, not facts. An event passes if its type is known, its
// role and index name a process of the job, its steps and epoch are within what the job runs
// (0 <= step <= total_steps <= the job's steps per worker; 0 <= epoch <= epochs), a READY
// carries an endpoint, a CHECKPOINT (servers only) a location and a step within the job's, and
// a server's PROGRESS carries its counters only, and its FINISHED and PROGRESS count at most
// every worker. A forged event that
// passes (plausible numbers) can still mislead the progress line; what uses events must stay
// safe for any values that pass (ProgressTracker clamps).
//
// Pure; thread-safe.
#ifndef RINGTRAIN_LAUNCH_EVENT_CHECK_H_
#define RINGTRAIN_LAUNCH_EVENT_CHECK_H_

#include <cstdint>

#include "ringtrain/common/status.h"
#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::launch {

// What the job allows, from its spec and the training set's size.
struct EventBounds {
  int num_ps = 0;
  int num_workers = 0;
  int epochs = 0;
  int64_t total_steps = 0;  // steps each worker runs in all
};

// OK, or InvalidArgument saying what is wrong with the event.
[[nodiscard]] Status CheckEvent(const proto::Event& event, const EventBounds& bounds);

}  // namespace ringtrain::launch

#endif  // RINGTRAIN_LAUNCH_EVENT_CHECK_H_
