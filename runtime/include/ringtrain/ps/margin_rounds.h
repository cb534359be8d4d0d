// MarginRounds: the sums of partial margins in feature-wise sharding (spec.dataset.sharding:
// feature; model/feature_block.h). In every step each worker computes the partial logits of
// its column block for the step's rows (every worker reads the same rows) and sends them to one
// parameter server (the ring's owner of the key "feature-margins", MarginServer); once every
// worker's are in, each gets their sum back and computes its block's gradient from it. This is
// that server's half: one round per step, no new process.
//
// Add(worker, step, rows, margins, done): adds the worker's partial margins (rows x cols) to
// step `step`'s round and says what to answer:
//   kWait     the round still misses an unfinished worker (done[w] false, nothing added yet);
//   kComplete the round now has every unfinished worker's: sum() is the answer to every
//             worker that sent one (they were told kWait), and the round is kept;
//   kRepeat   the step's round was completed before (a worker that rejoined, or replaces one
//             that died, sends its step again): Kept(step) is the answer, nothing changes.
// A worker that sends a step of the open round again (a retried request) is not added twice:
// its first margins stay (the same numbers: it computed them from the same parameters).
// InvalidArgument, nothing changes: a worker out of range or done, a negative step, rows
// outside [1, 2^24 / cols], margins.size() != rows * cols, a non-finite value, rows differing
// from the round's, a step other than the open round's while one is open, or one older than the
// completed rounds kept (the last kKeptRounds).
// Complete(done): after a worker finished, completes the open round if it no longer misses an
// unfinished worker (true).
//
// The rounds are not part of a shard's checkpoint: after a restart every worker waiting for a
// sum sends its margins again (PsClient resends what is in flight), so the round forms again.
//
// Thread-safety: a value; owned by the server's thread (ps::ServerCore).
#ifndef RINGTRAIN_PS_MARGIN_ROUNDS_H_
#define RINGTRAIN_PS_MARGIN_ROUNDS_H_

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "ringtrain/common/status.h"

namespace ringtrain::ps {

// The key whose ring owner sums the partial margins.
inline constexpr char kMarginsKey[] = "feature-margins";

class MarginRounds {
 public:
  static constexpr size_t kKeptRounds = 4;
  enum class Answer { kWait, kComplete, kRepeat };

  // REQUIRES: num_workers >= 1, cols >= 1
  MarginRounds(int num_workers, int cols);

  [[nodiscard]] StatusOr<Answer> Add(int worker, int64_t step, uint32_t rows,
                                     std::span<const float> margins, const std::vector<bool>& done);
  bool Complete(const std::vector<bool>& done);

  // The open round's step, or -1; the workers it misses (ascending): what it waits for.
  int64_t open_step() const { return open_ ? step_ : -1; }
  std::vector<int> Missing(const std::vector<bool>& done) const;
  // The last completed round's sum (rows x cols), after kComplete.
  std::span<const float> sum() const;
  // A kept round's sum, or empty.
  std::span<const float> Kept(int64_t step) const;
  int cols() const { return cols_; }

 private:
  struct Done {
    int64_t step;
    uint32_t rows;
    std::vector<float> sum;
  };
  const Done* Find(int64_t step) const;

  int num_workers_;
  int cols_;
  bool open_ = false;
  int64_t step_ = -1;
  uint32_t rows_ = 0;
  std::vector<float> sum_;
  std::vector<bool> in_;   // per worker: its margins are in the open round
  std::deque<Done> kept_;  // completed rounds, oldest first
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_MARGIN_ROUNDS_H_
