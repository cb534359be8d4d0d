// Row-wise sharding and the batch plan: which rows a worker owns and in which order it visits
// them. Every function here is a pure function of its arguments, so every worker computes the
// same plan without talking to the others.
//
//   RowShard(n, k, i)        = [floor(i*n/k), floor((i+1)*n/k)): the k shards are disjoint,
//                              cover [0, n), and their sizes differ by at most one.
//   StepsPerEpoch(n, k, b)   = ceil(ceil(n/k) / b): the same for every worker, so that
//                              synchronous training has every worker run the same number of
//                              steps; a worker with a smaller shard runs its last steps with
//                              fewer (possibly zero) rows.
//   BatchRows(s, b, size)    = [min(s*b, size), min((s+1)*b, size)): positions in the epoch
//                              order used by step s (possibly empty).
//   EpochOrder               a permutation of 0..size-1 for one epoch: identity without shuffle,
//                              otherwise Fisher-Yates driven by SplitMix64 (random.h) seeded with
//                              MixSeed(MixSeed(MixSeed(seed) ^ epoch) ^ worker_index), which
//                              is the same on every platform. Different epochs and workers get
//                              different orders.
//
// Preconditions are programming errors (the job spec is validated before this is reached) and
// abort via RT_CHECK. Thread-safety: pure functions; an EpochOrder is immutable after
// construction and safe to read from several threads.
#ifndef RINGTRAIN_DATA_SHARD_H_
#define RINGTRAIN_DATA_SHARD_H_

#include <cstdint>
#include <span>
#include <vector>

#include "ringtrain/data/dataset.h"
#include "ringtrain/data/row_range.h"

namespace ringtrain::data {

// REQUIRES: n >= 0, num_shards >= 1, 0 <= index < num_shards
RowRange RowShard(int64_t n, int num_shards, int index);

// REQUIRES: n >= 0, num_shards >= 1, batch >= 1
int64_t StepsPerEpoch(int64_t n, int num_shards, int64_t batch);

// REQUIRES: step_in_epoch >= 0, batch >= 1, shard_size >= 0
RowRange BatchRows(int64_t step_in_epoch, int64_t batch, int64_t shard_size);

class EpochOrder {
 public:
  // REQUIRES: shard_size >= 0, epoch >= 0, worker_index >= 0
  EpochOrder(int64_t shard_size, int64_t epoch, uint64_t seed, bool shuffle, int worker_index);

  // The permutation: indices()[p] is the shard row visited at position p.
  const std::vector<int64_t>& indices() const { return indices_; }
  int64_t size() const { return static_cast<int64_t>(indices_.size()); }

  // The shard rows used by step `step_in_epoch`: indices()[BatchRows(step, batch, size())].
  // REQUIRES: step_in_epoch >= 0, batch >= 1
  std::span<const int64_t> Batch(int64_t step_in_epoch, int64_t batch) const;

 private:
  std::vector<int64_t> indices_;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_SHARD_H_
