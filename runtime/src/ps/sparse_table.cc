#include "ringtrain/ps/sparse_table.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "ringtrain/common/check.h"
#include "ringtrain/common/hash.h"

namespace ringtrain::ps {

namespace {

constexpr size_t kMinCapacity = 8;

// Grow when a segment would pass 4/5 full; by 1.2x, so it is 2/3 full right after.
bool Overfull(size_t used, size_t capacity) { return 5 * used > 4 * capacity; }
constexpr size_t kHugePage = size_t{2} << 20;

constexpr size_t kPage = 4096;

// Arrays of a huge page or more start on a huge-page boundary and are madvise'd for huge pages;
// their length is only rounded up to a small page, so every whole 2 MiB of the array can be
// one huge page and the tail keeps small pages (no memory is spent rounding up).
bool OnHugePages(size_t bytes) { return bytes >= kHugePage; }
size_t PageBytes(size_t bytes) { return (bytes + kPage - 1) / kPage * kPage; }

// What an array of `bytes` takes as allocated.
size_t Allocated(size_t bytes) { return OnHugePages(bytes) ? PageBytes(bytes) : bytes; }

size_t GrownCapacity(size_t capacity) {
  return std::max(kMinCapacity, capacity + (capacity + 4) / 5);
}

}  // namespace

template <typename T>
T* SparseTable::HugePages<T>::allocate(size_t n) {
  const size_t bytes = n * sizeof(T);
  if (!OnHugePages(bytes)) return std::allocator<T>().allocate(n);
  void* p = nullptr;
  if (posix_memalign(&p, kHugePage, PageBytes(bytes)) != 0) throw std::bad_alloc();
  // A hint: without huge pages (disabled, or none free) the memory works the same.
  (void)madvise(p, PageBytes(bytes), MADV_HUGEPAGE);
  return static_cast<T*>(p);
}

template <typename T>
void SparseTable::HugePages<T>::deallocate(T* p, size_t n) {
  if (!OnHugePages(n * sizeof(T))) {
    std::allocator<T>().deallocate(p, n);
  } else {
    std::free(p);
  }
}

template struct SparseTable::HugePages<uint64_t>;
template struct SparseTable::HugePages<float>;
template struct SparseTable::HugePages<uint32_t>;

SparseTable::SparseTable(int row_floats, bool track_steps)
    : row_floats_(row_floats), track_steps_(track_steps) {
  RT_CHECK(row_floats >= 1);
}

uint64_t SparseTable::Mix(uint64_t key) { return Fmix64(key ^ 0x9e3779b97f4a7c15ULL); }

size_t SparseTable::HomeOf(uint64_t mixed, size_t capacity) {
  // The low 60 bits (the high 4 chose the segment), scaled to [0, capacity) without a division.
  return static_cast<size_t>(ScaleToRange(mixed << 4, capacity));
}

size_t SparseTable::Locate(const Segment& seg, uint64_t key, uint64_t mixed) const {
  const size_t capacity = seg.keys.size();
  if (capacity == 0) return 0;
  size_t slot = HomeOf(mixed, capacity);
  // Never full (at most 4/5 of the slots are used), so the scan ends at a free slot.
  while (true) {
    const uint64_t k = seg.keys[slot];
    if (k == key) return slot;
    if (k == kEmptyKey) return capacity;
    if (++slot == capacity) slot = 0;
  }
}

float* SparseTable::Find(uint64_t key) {
  RT_CHECK(key != kEmptyKey);
  const uint64_t mixed = Mix(key);
  Segment& seg = segments_[SegmentOf(mixed)];
  const size_t slot = Locate(seg, key, mixed);
  if (slot >= seg.keys.size()) return nullptr;
  return seg.rows.data() + slot * static_cast<size_t>(row_floats_);
}

const float* SparseTable::Find(uint64_t key) const {
  return const_cast<SparseTable*>(this)->Find(key);
}

void SparseTable::Prefetch(uint64_t key) const {
  const uint64_t mixed = Mix(key);
  const Segment& seg = segments_[SegmentOf(mixed)];
  if (seg.keys.empty()) return;
  const size_t slot = HomeOf(mixed, seg.keys.size());
  __builtin_prefetch(seg.keys.data() + slot);
  __builtin_prefetch(seg.rows.data() + slot * static_cast<size_t>(row_floats_));
}

float* SparseTable::Insert(uint64_t key, bool* inserted) {
  RT_CHECK(key != kEmptyKey);
  const uint64_t mixed = Mix(key);
  Segment& seg = segments_[SegmentOf(mixed)];
  if (Overfull(seg.used + 1, seg.keys.size())) Grow(seg);
  const size_t capacity = seg.keys.size();
  const size_t width = static_cast<size_t>(row_floats_);
  size_t slot = HomeOf(mixed, capacity);
  while (true) {
    const uint64_t k = seg.keys[slot];
    if (k == key) {
      *inserted = false;
      return seg.rows.data() + slot * width;
    }
    if (k == kEmptyKey) break;
    if (++slot == capacity) slot = 0;
  }
  seg.keys[slot] = key;
  ++seg.used;
  ++size_;
  *inserted = true;
  float* row = seg.rows.data() + slot * width;
  std::fill(row, row + width, 0.0f);
  if (track_steps_) seg.steps[slot] = 0;
  return row;
}

void SparseTable::Grow(Segment& seg) { Rehash(seg, GrownCapacity(seg.keys.size())); }

void SparseTable::Reserve(size_t n) {
  // A segment gets n / 16 keys on average, give or take a few standard deviations: room for
  // 1/8 more at 2/3 full, the fill a segment has right after growing.
  const size_t per_segment = n / kSegments + n / kSegments / 8 + kMinCapacity;
  const size_t capacity = per_segment + per_segment / 2;
  for (Segment& seg : segments_) {
    if (seg.keys.size() < capacity) Rehash(seg, capacity);
  }
}

void SparseTable::Rehash(Segment& seg, size_t capacity) {
  const size_t width = static_cast<size_t>(row_floats_);
  Segment grown;
  grown.keys.assign(capacity, kEmptyKey);
  grown.rows.resize(capacity * width);
  if (track_steps_) grown.steps.resize(capacity);
  for (size_t i = 0; i < seg.keys.size(); ++i) {
    const uint64_t key = seg.keys[i];
    if (key == kEmptyKey) continue;
    size_t slot = HomeOf(Mix(key), capacity);
    while (grown.keys[slot] != kEmptyKey) {
      if (++slot == capacity) slot = 0;
    }
    grown.keys[slot] = key;
    std::memcpy(grown.rows.data() + slot * width, seg.rows.data() + i * width,
                width * sizeof(float));
    if (track_steps_) grown.steps[slot] = seg.steps[i];
  }
  grown.used = seg.used;
  seg = std::move(grown);
}

bool SparseTable::Erase(uint64_t key) {
  RT_CHECK(key != kEmptyKey);
  const uint64_t mixed = Mix(key);
  Segment& seg = segments_[SegmentOf(mixed)];
  const size_t slot = Locate(seg, key, mixed);
  if (slot >= seg.keys.size()) return false;
  EraseSlot(seg, slot);
  return true;
}

void SparseTable::EraseSlot(Segment& seg, size_t slot) {
  // Backward-shift deletion (Knuth's algorithm R): later keys of the same probe run move into
  // the hole, so no tombstones accumulate and lookups stay short.
  const size_t capacity = seg.keys.size();
  const size_t width = static_cast<size_t>(row_floats_);
  size_t hole = slot;
  size_t next = slot;
  while (true) {
    if (++next == capacity) next = 0;
    const uint64_t k = seg.keys[next];
    if (k == kEmptyKey) break;
    const size_t home = HomeOf(Mix(k), capacity);
    // The key at `next` may stay when its home lies cyclically in (hole, next].
    const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (stays) continue;
    seg.keys[hole] = k;
    std::memcpy(seg.rows.data() + hole * width, seg.rows.data() + next * width,
                width * sizeof(float));
    if (track_steps_) seg.steps[hole] = seg.steps[next];
    hole = next;
  }
  seg.keys[hole] = kEmptyKey;
  --seg.used;
  --size_;
}

uint32_t SparseTable::last_step(uint64_t key) const {
  RT_CHECK(track_steps_);
  const uint64_t mixed = Mix(key);
  const Segment& seg = segments_[SegmentOf(mixed)];
  const size_t slot = Locate(seg, key, mixed);
  RT_CHECK(slot < seg.keys.size());
  return seg.steps[slot];
}

void SparseTable::Touch(uint64_t key, uint32_t step) {
  if (!track_steps_) return;
  const uint64_t mixed = Mix(key);
  Segment& seg = segments_[SegmentOf(mixed)];
  const size_t slot = Locate(seg, key, mixed);
  RT_CHECK(slot < seg.keys.size());
  seg.steps[slot] = step;
}

size_t SparseTable::ExpireOlderThan(uint32_t step) {
  if (!track_steps_) return 0;
  size_t removed = 0;
  for (Segment& seg : segments_) {
    // A backward shift can move a not-yet-visited key into the slot just cleared, so the slot
    // is examined again before moving on; a key shifted from past the end of the array into
    // slot 0 or later was either seen already or is seen again, and is judged the same way.
    size_t slot = 0;
    while (slot < seg.keys.size()) {
      if (seg.keys[slot] != kEmptyKey && seg.steps[slot] < step) {
        EraseSlot(seg, slot);
        ++removed;
      } else {
        ++slot;
      }
    }
  }
  return removed;
}

void SparseTable::ForEach(
    const std::function<void(uint64_t, std::span<const float>, uint32_t)>& fn) const {
  const size_t width = static_cast<size_t>(row_floats_);
  for (const Segment& seg : segments_) {
    for (size_t i = 0; i < seg.keys.size(); ++i) {
      if (seg.keys[i] == kEmptyKey) continue;
      fn(seg.keys[i], std::span<const float>(seg.rows.data() + i * width, width),
         track_steps_ ? seg.steps[i] : 0);
    }
  }
}

void SparseTable::Clear() {
  for (Segment& seg : segments_) seg = Segment{};
  size_ = 0;
}

size_t SparseTable::bytes() const {
  size_t total = 0;
  for (const Segment& seg : segments_) {
    total += Allocated(seg.keys.capacity() * sizeof(uint64_t)) +
             Allocated(seg.rows.capacity() * sizeof(float)) +
             Allocated(seg.steps.capacity() * sizeof(uint32_t));
  }
  return total;
}

size_t SparseTable::raw_bytes() const {
  return size_ * (sizeof(uint64_t) + static_cast<size_t>(row_floats_) * sizeof(float));
}

}  // namespace ringtrain::ps
