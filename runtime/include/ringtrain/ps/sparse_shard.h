// SparseShard: one parameter server's share of the model's sparse tables (ring/sparse_placement.h).
//
// For every sparse table it holds the rows of the keys in the buckets its server owns, and only
// of the keys that were ever updated (ps/sparse_table.h): a row is the key's value (`dim`
// floats) followed by its optimizer state (state_slots() x dim floats). A key without a row reads
// as its initial value: zeros, or uniform in [-scale, scale] drawn from (seed, table, key)
// alone (InitialValue), so a key's first pull gives the same value on every server and after
// every restart, and a row comes into being with the first update that reaches it.
//
// Requests (ServerCore hands over the sparse slices of PUSH and PULL, Header.sparse):
//   PULL: ValidateKeys, then RecordPull (the keys a worker may push next) and AnswerPull (one
//     values frame per slice, in order, the rows' current values).
//   PUSH: ValidateKeys and ValidatePush (every key was in the worker's latest pull of that
//     table, unless the push was forwarded by a primary, which checked it; every gradient
//     finite), then
//     sync: Accumulate(msg, weight) adds weight x gradient into the round's per-key sums, and
//       ApplyRound, when the round is complete, applies optimizer(row, sum / samples) once per
//       key the round touched;
//     async and ssp: ApplyNow applies each key's gradient at once.
//   The optimizer is the job's (ServerCoreConfig::optimizer), applied row by row with step 1:
//   one that counts steps (Adam) is refused for sparse models by the spec.
//
// Table hygiene (Monolith's), both optional and counted in CountInto:
//   admission (admit_after > 1): a key without a row gets one only at its admit_after-th
//     update (counted per (table, key) by an AdmissionCounter, which may admit a little sooner,
//     never later); the updates before are dropped (sparse_updates_not_admitted), and the key
//     reads as its initial value until then.
//   expiry (expire_after > 0): the shard counts its updates (each ApplyRound in sync, each
//     ApplyNow in async and ssp); a row not updated in the last expire_after of them is dropped
//     (sparse_rows_expired) by a sweep every max(1, expire_after / 8) of them, so a row lives at
//     most 9/8 x expire_after idle updates. It reads as its initial value again afterwards.
//
// The round bookkeeping (version, pushes, samples, rate) is ServerCore's, as for a partition:
// a server's sparse tables advance as one partition would.
//
// Errors: the Validate* functions return InvalidArgument naming the slice, table and key; they
// change nothing. The other functions have their validation as precondition.
//
// Thread-safety: not thread-safe; the server's socket thread owns it (through ServerCore).
#ifndef RINGTRAIN_PS_SPARSE_SHARD_H_
#define RINGTRAIN_PS_SPARSE_SHARD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/ckpt/shard_state.h"
#include "ringtrain/common/status.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/admission_counter.h"
#include "ringtrain/ps/sparse_table.h"
#include "ringtrain/ring/partition_table.h"
#include "ringtrain/transport/message.h"

namespace ringtrain::ps {

// How the rows of one sparse table start: uniform in [-scale, scale] (0: zeros).
struct SparseInit {
  float scale = 0.0f;
};

// The initial value of `key` in table `table` (out.size() == the table's dim): a function of
// (seed, table, key) only.
void InitialValue(uint64_t seed, uint32_t table, uint64_t key, float scale, std::span<float> out);

// expire_after's bound: the shard counts its updates in 32 bits.
inline constexpr int64_t kMaxExpireAfter = int64_t{1} << 30;

struct SparseShardConfig {
  std::shared_ptr<const ring::PartitionTable> table;  // table->sparse() has >= 1 table
  int server_index = 0;
  int num_workers = 1;
  const optim::Optimizer* optimizer = nullptr;  // borrowed; outlives the shard
  std::vector<SparseInit> init;  // one per sparse table, or empty for zeros everywhere
  uint64_t init_seed = 0;
  uint32_t admit_after = 1;  // 1..255; 1: every key gets a row at its first update
  int64_t expire_after = 0;  // 0..kMaxExpireAfter; 0: rows never expire
};

class SparseShard {
 public:
  // REQUIRES: config.table has sparse tables; config.optimizer != nullptr; init empty or one
  // per table; 0 <= server_index < the table's servers; num_workers >= 1.
  explicit SparseShard(SparseShardConfig config);
  SparseShard(const SparseShard&) = delete;
  SparseShard& operator=(const SparseShard&) = delete;

  // Checks the sparse slices of a PULL or PUSH: a known table, each at most once, the table's
  // dim, keys strictly ascending, below the table's key_limit and owned by this server.
  Status ValidateKeys(const transport::Message& msg) const;
  // Checks a PUSH's gradients against worker's latest pull (unless `forwarded`) and for
  // finiteness. REQUIRES: ValidateKeys(msg) passed; 0 <= worker < num_workers.
  Status ValidatePush(int worker, const transport::Message& msg, bool forwarded) const;

  // Remembers the keys of `worker`'s pull, per table (replacing its earlier pull's).
  // REQUIRES: ValidateKeys(msg) passed.
  void RecordPull(int worker, const transport::Message& msg);
  // Appends one slice (table, keys, dim, version) per slice of the pull to *reply and the
  // rows' values to *frames. REQUIRES: ValidateKeys(msg) passed.
  void AnswerPull(const transport::Message& msg, int64_t version, proto::Header* reply,
                  std::vector<zmq::message_t>* frames);

  // sync: adds weight x each gradient to the round's sums. REQUIRES: validated push.
  void Accumulate(const transport::Message& msg, float weight);
  // sync: applies the round's sums, divided by `divisor` (> 0), to their rows with rate
  // `learning_rate`, and forgets them. Returns the rows updated.
  size_t ApplyRound(float learning_rate, float divisor);
  // sync: forgets the round's sums without applying them.
  void ClearRound();
  // async, ssp: applies each gradient of the push to its row now. Returns the rows updated.
  size_t ApplyNow(const transport::Message& msg, float learning_rate);

  // The tables' state, for a checkpoint or a replica: their rows (with their last-update steps
  // under expiry), the round's sums, the update clock and the admission sketch. The round's
  // version, pushes, samples and rate are ServerCore's to fill in.
  void SnapshotInto(ckpt::SparseState* out) const;
  // Replaces the tables with `state`'s (consumed) after checking all of it: one table per
  // sparse table with its dim, whole rows, and every key — of rows and round sums alike —
  // below its table's key_limit, in a bucket this server owns, and at most once per table.
  // Rows without steps (saved without expiry) count as updated at the state's clock; the
  // sketch is used when admission is on (none: counts start over) and ignored when it is off.
  // Afterwards the keys of the workers' latest pulls are unknown (their pulls went to the
  // server the state came from): a worker's next push is accepted with any keys this server
  // owns, and the check of pushes against pulls resumes with its next pull.
  // FailedPrecondition naming the table and key; on error nothing changes.
  Status Restore(ckpt::SparseState* state);

  // The row of `key` in `table` (value then optimizer state), or nullptr when it has none.
  const float* row(uint32_t table, uint64_t key) const;
  // Rows held, bytes the tables take and the raw bytes of their keys and rows.
  size_t rows() const;
  size_t table_bytes() const;
  size_t raw_bytes() const;
  // Writes the sparse counters into *stats.
  void CountInto(proto::ServerStats* stats) const;

 private:
  struct Table {
    int dim = 1;
    float init_scale = 0.0f;
    SparseTable rows;   // value, then optimizer state
    SparseTable accum;  // sync: the round's gradient sums, dim floats per key
  };

  // The row of `key`, created at its initial value if it has none and admission lets it in;
  // nullptr when it does not.
  float* RowFor(uint32_t table, uint64_t key);
  // Applies the gradient grad_scale * grad to `key`'s row (Optimizer::ApplyScaled).
  void Update(uint32_t table, uint64_t key, std::span<const float> grad, float learning_rate,
              float grad_scale);
  // Counts one update of the shard and, when a sweep is due, drops the rows left idle.
  void Tick();

  SparseShardConfig config_;
  int slots_ = 0;  // optimizer state floats per value float
  std::vector<Table> tables_;
  // Per worker, per table: the keys of its latest pull (what its next push may carry), and
  // whether it is known (false from a Restore to the worker's next pull: any owned key).
  std::vector<std::vector<std::vector<uint64_t>>> pulled_;
  std::vector<bool> pull_known_;
  std::optional<AdmissionCounter> admission_;  // admit_after > 1 only
  uint32_t clock_ = 0;                         // updates so far (expiry's steps)
  uint64_t keys_pulled_ = 0;
  uint64_t keys_pushed_ = 0;
  uint64_t rows_created_ = 0;
  uint64_t not_admitted_ = 0;
  uint64_t rows_expired_ = 0;
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_SPARSE_SHARD_H_
