// Consistency: how parameter servers order the updates of many workers (the job's syncMode).
//
//   kSync  bulk synchronous rounds: one update per round from every unfinished worker's push.
//   kAsync every push applied on arrival; pulls answered at once.
//   kSsp   stale synchronous parallel: applied on arrival, but a worker that has pushed c
//          steps may start step c+1 only once every unfinished worker has pushed c - s.
//
// Servers and workers must agree on it: in kSync a pulled version equals the round, in the
// others versions count updates and only grow.
#ifndef RINGTRAIN_PS_CONSISTENCY_H_
#define RINGTRAIN_PS_CONSISTENCY_H_

namespace ringtrain::ps {

enum class Consistency { kSync, kAsync, kSsp };

// "sync", "async" or "ssp".
const char* ConsistencyName(Consistency c);

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_CONSISTENCY_H_
