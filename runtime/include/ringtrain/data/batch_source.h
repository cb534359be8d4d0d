// BatchSource: where a worker's training loop gets its mini-batches, one epoch at a time.
//
// Contract: batches have the size the source was made with. StartEpoch(e, s) begins epoch e
// (0-based) at its step s; the batches of steps 0..s-1 are the same as a run from the epoch's start
// would have had and are dropped (a worker that continues from a checkpoint, or replaces one that
// died, gets the rows it would have had: every order is a function of the job's seed, the epoch and
// the worker). Next() then returns the epoch's batches in order: that many rows each, fewer at the
// end of the shard's rows, and 0 once the epoch's rows are used up (the training loop still runs
// its steps: in sync mode every round needs every worker's push). Within an epoch every row of the
// shard comes exactly once.
//
// Implementations: InMemoryBatches (a Dataset in memory, shuffled by data::EpochOrder) and
// data::TextStream (text_stream.h: read while training, bounded memory).
//
// Thread-safety: one thread at a time.
#ifndef RINGTRAIN_DATA_BATCH_SOURCE_H_
#define RINGTRAIN_DATA_BATCH_SOURCE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "ringtrain/common/status.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/data/shard.h"

namespace ringtrain::data {

// Bad records passed over (onBadRecord: skip) in the epoch so far.
struct SkippedRecords {
  int64_t count = 0;
  std::string first;  // the first one's message ("<uri>:<line>: column <k>: ..."), or ""
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // REQUIRES: epoch >= 0, step >= 0
  [[nodiscard]] virtual Status StartEpoch(int epoch, int64_t step) = 0;
  // REQUIRES: StartEpoch was called; out != nullptr
  [[nodiscard]] virtual Status Next(Batch* out) = 0;
  virtual SkippedRecords skipped() const { return {}; }
};

// A shard in memory (IDX data): each epoch visits data::EpochOrder(rows, epoch, seed, shuffle,
// worker)'s permutation, batch by batch.
class InMemoryBatches : public BatchSource {
 public:
  // REQUIRES: `shard` outlives this; worker >= 0; batch >= 1
  InMemoryBatches(const Dataset* shard, int64_t batch, uint64_t seed, bool shuffle, int worker)
      : shard_(shard), batch_(batch), seed_(seed), shuffle_(shuffle), worker_(worker) {}

  Status StartEpoch(int epoch, int64_t step) override {
    order_.emplace(shard_->rows(), epoch, seed_, shuffle_, worker_);
    step_ = step;
    return Status::Ok();
  }
  Status Next(Batch* out) override {
    GatherRows(*shard_, order_->Batch(step_++, batch_), out);
    return Status::Ok();
  }

 private:
  const Dataset* shard_;
  int64_t batch_;
  uint64_t seed_;
  bool shuffle_;
  int worker_;
  std::optional<EpochOrder> order_;
  int64_t step_ = 0;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_BATCH_SOURCE_H_
