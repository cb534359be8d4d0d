// Free loopback ports, for `ringtrain run` to tell servers where they and their peers listen
// before any has started (replication: a server connects to its successor from the start).
//
// The ports are free when chosen (bound to port 0, read back, released), not reserved: another
// process may take one before the server binds it, and the server then fails, naming the
// endpoint. Thread-safety: any thread.
#ifndef RINGTRAIN_LAUNCH_LOOPBACK_PORTS_H_
#define RINGTRAIN_LAUNCH_LOOPBACK_PORTS_H_

#include <string>
#include <vector>

#include "ringtrain/common/status.h"

namespace ringtrain::launch {

// `n` distinct endpoints "tcp://127.0.0.1:<port>" whose ports were free a moment ago.
StatusOr<std::vector<std::string>> FreeLoopbackEndpoints(int n);

}  // namespace ringtrain::launch

#endif  // RINGTRAIN_LAUNCH_LOOPBACK_PORTS_H_
