#include "ringtrain/ps/admission_counter.h"

#include <algorithm>
#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/common/hash.h"

namespace ringtrain::ps {

AdmissionCounter::AdmissionCounter(int width_log2) : width_log2_(width_log2) {
  RT_CHECK(width_log2 >= 1 && width_log2 <= 30);
  counters_.assign(size_t{kRows} << width_log2, 0);
}

size_t AdmissionCounter::Slot(int row, uint32_t table, uint64_t key) const {
  // A salt per row makes the rows' hashes independent; the top bits index the row.
  const uint64_t h = Fmix64(key ^ Fmix64((uint64_t{table} << 8) + static_cast<uint64_t>(row) + 1));
  return (static_cast<size_t>(row) << width_log2_) + static_cast<size_t>(h >> (64 - width_log2_));
}

uint32_t AdmissionCounter::Add(uint32_t table, uint64_t key) {
  size_t slots[kRows];
  uint32_t least = 255;
  for (int r = 0; r < kRows; ++r) {
    slots[r] = Slot(r, table, key);
    least = std::min<uint32_t>(least, counters_[slots[r]]);
  }
  if (least == 255) return least;
  // Conservative update: only the counters at the least value grow.
  for (const size_t s : slots) {
    if (counters_[s] == least) ++counters_[s];
  }
  return least + 1;
}

bool AdmissionCounter::Restore(std::vector<uint8_t> counters) {
  if (counters.size() != counters_.size()) return false;
  counters_ = std::move(counters);
  return true;
}

uint32_t AdmissionCounter::Count(uint32_t table, uint64_t key) const {
  uint32_t least = 255;
  for (int r = 0; r < kRows; ++r) least = std::min<uint32_t>(least, counters_[Slot(r, table, key)]);
  return least;
}

}  // namespace ringtrain::ps
