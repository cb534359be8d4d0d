#include "ringtrain/data/shard.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/common/random.h"

namespace ringtrain::data {
namespace {

// floor(i * n / k) without overflowing i * n: with n = q*k + r, it is i*q + floor(i*r / k),
// and i*r < k*k fits comfortably since k is an int.
int64_t ShardBoundary(int64_t n, int64_t k, int64_t i) {
  const int64_t q = n / k, r = n % k;
  return i * q + (i * r) / k;
}

}  // namespace

RowRange RowShard(int64_t n, int num_shards, int index) {
  RT_CHECK(n >= 0 && num_shards >= 1 && index >= 0 && index < num_shards);
  return {ShardBoundary(n, num_shards, index), ShardBoundary(n, num_shards, index + 1)};
}

int64_t StepsPerEpoch(int64_t n, int num_shards, int64_t batch) {
  RT_CHECK(n >= 0 && num_shards >= 1 && batch >= 1);
  const int64_t largest_shard = n / num_shards + (n % num_shards != 0 ? 1 : 0);
  return largest_shard / batch + (largest_shard % batch != 0 ? 1 : 0);
}

RowRange BatchRows(int64_t step_in_epoch, int64_t batch, int64_t shard_size) {
  RT_CHECK(step_in_epoch >= 0 && batch >= 1 && shard_size >= 0);
  // Clamp before multiplying so that a step far past the end cannot overflow.
  const int64_t max_step = shard_size / batch + 1;
  const int64_t step = std::min(step_in_epoch, max_step);
  return {std::min(step * batch, shard_size), std::min((step + 1) * batch, shard_size)};
}

EpochOrder::EpochOrder(int64_t shard_size, int64_t epoch, uint64_t seed, bool shuffle,
                       int worker_index) {
  RT_CHECK(shard_size >= 0 && epoch >= 0 && worker_index >= 0);
  indices_.resize(static_cast<size_t>(shard_size));
  std::iota(indices_.begin(), indices_.end(), int64_t{0});
  if (!shuffle) return;
  SplitMix64 rng(MixSeed(MixSeed(MixSeed(seed) ^ static_cast<uint64_t>(epoch)) ^
                         static_cast<uint64_t>(worker_index)));
  // Fisher-Yates, from the back: position i takes a uniform pick among positions [0, i].
  for (size_t i = indices_.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng.Below(i));
    std::swap(indices_[i - 1], indices_[j]);
  }
}

std::span<const int64_t> EpochOrder::Batch(int64_t step_in_epoch, int64_t batch) const {
  const RowRange r = BatchRows(step_in_epoch, batch, size());
  return std::span<const int64_t>(indices_).subspan(static_cast<size_t>(r.begin),
                                                    static_cast<size_t>(r.size()));
}

}  // namespace ringtrain::data
