// DataQueue: dynamic sharding (spec.dataset.sharding: dynamic), as DLRover and ElasticDL do it:
// small tasks of the data are handed out as workers ask for them, so a slow worker takes fewer
// and a failed worker's unfinished task goes back to the queue.
//
// The queue is no new process: one parameter server keeps it (the ring's owner of the key
// "data-queue", QueueServer), and it is part of that server's shard state, checkpointed and
// restored with it. It holds no data names: every worker cuts the data the same way into
// `tasks` tasks (data/text_shard.h, DynamicTasks) and maps an epoch's position to a task with
// the epoch's order; the queue hands out positions.
//
// Next(worker, tasks, epochs, finished): the worker reports the lease it finished (if any) and
// gets its next one: a position of the epoch being handed out (epochs follow one another with
// no barrier: once every position of epoch e is handed out, epoch e+1's are), or one given back
// (handed out again first), or kWait (nothing left to hand out, but tasks are still held: ask
// again soon), or kEnd (every task of every epoch finished). A worker holds at most one lease:
// asking again without finishing it (a retried request whose reply was lost) gets the same
// lease. Return(worker) gives its lease back (its replacement joined, or it went silent); a
// finish of a lease the worker no longer holds is a replay (finished_again) unless the task was
// still waiting to be handed out again, which it then no longer needs.
//
// So every task of every epoch is finished exactly once (state().finished == tasks * epochs at
// the end); its records may have been read more than once (a requeued task is read again from
// its start: the part its first worker trained on is replayed).
//
// Thread-safety: a value; owned by the server's thread (ps::ServerCore).
#ifndef RINGTRAIN_PS_DATA_QUEUE_H_
#define RINGTRAIN_PS_DATA_QUEUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ringtrain/ckpt/shard_state.h"
#include "ringtrain/common/status.h"

namespace ringtrain::ps {

// The key whose ring owner keeps the queue.
inline constexpr char kDataQueueKey[] = "data-queue";

struct TaskAnswer {
  enum class Kind { kLease, kWait, kEnd };
  Kind kind = Kind::kEnd;
  int64_t epoch = 0;     // kLease
  int64_t position = 0;  // kLease
};

class DataQueue {
 public:
  using Lease = ckpt::DataQueueState::Lease;

  // REQUIRES: num_workers >= 1
  explicit DataQueue(int num_workers) : num_workers_(num_workers) {}

  // InvalidArgument (nothing changes) when `worker` is out of range, `tasks` or `epochs` are not
  // positive, `tasks` differs from what the first worker said (the workers cut different data)
  // or `epochs` is fewer (more: the job was continued for longer, and the queue grows), or
  // `finished` is no position of the job.
  [[nodiscard]] StatusOr<TaskAnswer> Next(int worker, int64_t tasks, int epochs,
                                          std::optional<Lease> finished);

  // Gives `worker`'s lease back, if it holds one; true if it did.
  bool Return(int worker);

  const ckpt::DataQueueState& state() const { return state_; }
  // A restored queue: every lease it held is given back (its workers start again and join).
  void Restore(ckpt::DataQueueState state);

 private:
  Status Check(int worker, int64_t tasks, int epochs, const std::optional<Lease>& finished) const;
  void Finish(int worker, const Lease& finished);

  int num_workers_;
  ckpt::DataQueueState state_;
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_DATA_QUEUE_H_
