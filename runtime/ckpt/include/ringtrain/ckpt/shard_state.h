// ShardState: what one parameter server must keep to continue where it was — the partitions it
// owns (parameters, optimizer state, versions, and in sync mode the round in progress), its
// sparse tables' rows (a sparse model), and the clocks of the workers it serves. It is the value a
// server's state machine (ps::ServerCore) snapshots into and restores from, and the one a
// checkpoint file holds.
//
// A plain value with no invariants of its own: a ShardState read from a file has passed the
// shard file's checks (shard_file.h: sizes match the expected layout), and ServerCore::Restore
// checks it against the server's own partitions before using it.
//
// Thread-safety: a value; copy or move it between threads (the snapshot is taken on the server's
// thread and written by the checkpoint writer's).
#ifndef RINGTRAIN_CKPT_SHARD_STATE_H_
#define RINGTRAIN_CKPT_SHARD_STATE_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace ringtrain::ckpt {

// One partition as a server holds it.
struct PartitionSnapshot {
  uint32_t id = 0;
  int64_t version = 0;          // the partition's version (sync: rounds; else updates applied)
  int64_t optimizer_steps = 0;  // updates the optimizer state has seen (Adam's t)
  std::vector<float> params;    // size() elements
  // state_slots * params.size() floats, slot-major (optim/optimizer.h).
  std::vector<float> optimizer_state;
  // Sync mode's round in progress: sum_i n_i * g_i of the pushes received for `version`, how
  // many pushes and samples, and their learning rate. Empty `accum` and zeros when no push of
  // the round has arrived (always so in async and ssp).
  std::vector<float> accum;
  uint32_t round_pushes = 0;
  uint64_t round_samples = 0;
  float round_learning_rate = 0;
};

// One worker's progress as this server has seen it.
struct WorkerClock {
  int64_t clock = 0;  // pushes accepted from the worker
  bool done = false;  // the worker sent WORKER_DONE
  // sync: the rounds stopped waiting for the silent worker (ps::ServerCore::Exclude)
  bool excluded = false;
  // sync: the owned partitions (ids, ascending) of the worker's push at `clock` that already came
  // in chunks (streamed rounds, ps/server_core.h), while the rest has not. Checkpoint files
  // never hold such a state (the checkpointer waits for the push to complete); a replica's copy
  // may.
  std::vector<uint32_t> partial;
};

// The dynamic-sharding queue (ps/data_queue.h), on the one server that keeps it.
struct DataQueueState {
  // A task of an epoch: its position in the epoch's order, and who holds it (-1: nobody).
  struct Lease {
    int64_t epoch = 0;
    int64_t position = 0;
    int32_t worker = -1;
    bool operator==(const Lease&) const = default;
  };
  int64_t tasks = 0;  // per epoch; 0: no worker has asked yet
  int32_t epochs = 0;
  int64_t epoch = 0;            // the epoch being handed out (== epochs: all of them were)
  int64_t next = 0;             // its next position not handed out
  std::vector<Lease> leased;    // handed out, not finished: one per worker at most
  std::vector<Lease> returned;  // given back (worker -1): handed out again first
  uint64_t handed_out = 0;      // leases given
  uint64_t finished = 0;        // tasks finished (each (epoch, position) once)
  uint64_t requeued = 0;        // leases given back: their worker joined again or went silent
  uint64_t finished_again = 0;  // finishes of a task another worker holds or finished: replays

  bool operator==(const DataQueueState&) const = default;
};

// One sparse table of a shard (ps/sparse_shard.h): the rows the server holds, and in sync mode
// the gradient sums of the round in progress.
struct SparseTableSnapshot {
  uint32_t dim = 1;             // floats of a key's value
  std::vector<uint64_t> keys;   // one per row, in no particular order
  std::vector<float> rows;      // (1 + state slots) x dim per key: the value, then its state
  std::vector<uint32_t> steps;  // expiry: the shard's clock at each row's last update; else empty
  std::vector<uint64_t> round_keys;  // sync: the keys the round in progress has sums for
  std::vector<float> round_sums;     // dim per round key: sum_i n_i x gradient

  bool operator==(const SparseTableSnapshot&) const = default;
};

// The sparse tables of a shard, which take part in rounds and clocks as one partition would.
struct SparseState {
  int64_t version = 0;        // sync: rounds applied; async and ssp: pushes applied
  uint32_t round_pushes = 0;  // sync: the round in progress (0 and empty sums: none)
  uint64_t round_samples = 0;
  float round_learning_rate = 0;
  uint32_t clock = 0;                       // the shard's updates so far (expiry's steps)
  std::vector<SparseTableSnapshot> tables;  // one per sparse table, in the model's order
  std::vector<uint8_t> admission;           // admission's count-min sketch; empty without admission

  bool operator==(const SparseState&) const = default;
  int64_t rows() const {
    int64_t n = 0;
    for (const SparseTableSnapshot& t : tables) n += static_cast<int64_t>(t.keys.size());
    return n;
  }
};

struct ShardState {
  std::vector<PartitionSnapshot> partitions;  // ascending id
  std::vector<WorkerClock> workers;           // index = worker rank
  std::optional<DataQueueState> queue;        // on the server that keeps the queue
  std::optional<SparseState> sparse;          // a sparse model's tables

  // The step every worker has reached on this shard: the smallest clock (0 with no workers).
  int64_t step() const {
    int64_t s = -1;
    for (const WorkerClock& w : workers) {
      if (s < 0 || w.clock < s) s = w.clock;
    }
    return s < 0 ? 0 : s;
  }
};

}  // namespace ringtrain::ckpt

#endif  // RINGTRAIN_CKPT_SHARD_STATE_H_
