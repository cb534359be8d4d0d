// AdmissionCounter: how often each key of a server's sparse tables was updated before it had a
// row, for admission (a key gets a row only at its admit_after-th update; Monolith's feature
// filter). A count-min sketch (Cormode & Muthukrishnan 2005): kRows rows of 2^width_log2
// saturating 8-bit counters, each row indexed by its own hash of (table, key); a key's count is
// the least of its counters, and an update raises only the counters at that least value
// (conservative update, Estan & Varghese 2002). It never undercounts, so a key is admitted no later
// than its admit_after-th update, and sooner only when other keys share all of its counters.
//
// Memory: kRows x 2^width_log2 bytes (4 MiB at the default width 2^20).
//
// Thread-safety: not thread-safe; the server's socket thread owns it (through SparseShard).
#ifndef RINGTRAIN_PS_ADMISSION_COUNTER_H_
#define RINGTRAIN_PS_ADMISSION_COUNTER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringtrain::ps {

class AdmissionCounter {
 public:
  static constexpr int kRows = 4;
  static constexpr int kDefaultWidthLog2 = 20;

  // REQUIRES: 1 <= width_log2 <= 30.
  explicit AdmissionCounter(int width_log2 = kDefaultWidthLog2);

  // Counts one more update of (table, key); returns its count so far (at most 255).
  uint32_t Add(uint32_t table, uint64_t key);
  // The count of (table, key) without adding.
  uint32_t Count(uint32_t table, uint64_t key) const;

  size_t bytes() const { return counters_.size(); }

  // The counters, for a checkpoint; and putting such a copy back. Restore returns false (and
  // changes nothing) when `counters` is not bytes() long.
  const std::vector<uint8_t>& counters() const { return counters_; }
  bool Restore(std::vector<uint8_t> counters);
  // Forgets every count.
  void Clear() { std::fill(counters_.begin(), counters_.end(), 0); }

 private:
  size_t Slot(int row, uint32_t table, uint64_t key) const;

  int width_log2_;
  std::vector<uint8_t> counters_;  // kRows x 2^width_log2, row-major
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_ADMISSION_COUNTER_H_
