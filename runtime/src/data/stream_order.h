// Stream orders (private to the data area): the random streams a streamed epoch is read in
// (TextStream, SparseStream), functions of the job's seed, the epoch and the worker only, so
// that a worker continuing from a checkpoint reads on exactly.
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_RUNTIME_SRC_DATA_STREAM_ORDER_H_
#define RINGTRAIN_RUNTIME_SRC_DATA_STREAM_ORDER_H_

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "ringtrain/common/random.h"

namespace ringtrain::data {

// Salts of the epoch's two random streams: the pieces' order and the window's draws.
inline constexpr uint64_t kPieceOrderSalt = 0x70696563'65730000ULL;
inline constexpr uint64_t kWindowSalt = 0x77696e64'6f770000ULL;

inline uint64_t StreamSeed(uint64_t seed, int64_t epoch, int worker, uint64_t salt) {
  return MixSeed(MixSeed(MixSeed(MixSeed(seed) ^ static_cast<uint64_t>(epoch)) ^
                         static_cast<uint64_t>(worker)) ^
                 salt);
}

// The order the `n` pieces of epoch `epoch` are read in: 0..n-1, shuffled when `shuffle`.
inline std::vector<size_t> PieceOrder(size_t n, uint64_t seed, int64_t epoch, int worker,
                                      bool shuffle) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  if (shuffle) {
    SplitMix64 rng(StreamSeed(seed, epoch, worker, kPieceOrderSalt));
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
  }
  return order;
}

}  // namespace ringtrain::data

#endif  // RINGTRAIN_RUNTIME_SRC_DATA_STREAM_ORDER_H_
