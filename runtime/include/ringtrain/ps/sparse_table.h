// SparseTable: rows of floats keyed by 64-bit keys, holding only the keys that were inserted.
//
// The store behind a parameter server's sparse tables (ps/sparse_shard.h): a key's row is its
// value (an embedding, a weight) followed by its optimizer state, `row_floats` floats in all,
// and optionally the step it was last updated at (for expiry). Memory is what the rows need and
// little more: keys and rows sit in flat arrays (open addressing with linear probing, no
// pointers, no per-row allocation), filled to between 2/3 and 4/5 of their slots, so a table
// takes 1.25 to 1.5 times the raw bytes of its keys and rows (bytes() says exactly what it
// holds; raw_bytes() what the keys and rows alone take).
//
// The table is cut into 16 segments by the high bits of a key's hash; each segment grows on
// its own (by 1.2x when it passes 4/5 full), so growing never stops the server for longer
// than a 16th of the table's copy. Arrays of 2 MiB and more start on a 2 MiB boundary and are
// given transparent huge pages (madvise) for every whole 2 MiB of them, their tail keeping
// small pages (so nothing is spent rounding up): a table of millions of keys is read at random,
// and with 4 KiB pages nearly every access would also miss the TLB.
//
// kEmptyKey (2^64 - 1) marks free slots and is never a key; callers reject it (every table
// declares a key range below it, ring/sparse_layout.h).
//
// Row pointers stay valid until the next Insert or Erase on the table (growth and deletion
// move rows).
//
// Thread-safety: not thread-safe; one thread (the server's socket thread) owns a table.
#ifndef RINGTRAIN_PS_SPARSE_TABLE_H_
#define RINGTRAIN_PS_SPARSE_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace ringtrain::ps {

class SparseTable {
 public:
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};
  static constexpr int kSegments = 16;

  // REQUIRES: row_floats >= 1. With track_steps every row also keeps the step of its last
  // update (4 bytes), for ExpireOlderThan.
  SparseTable(int row_floats, bool track_steps);

  SparseTable(const SparseTable&) = delete;
  SparseTable& operator=(const SparseTable&) = delete;
  SparseTable(SparseTable&&) = default;
  SparseTable& operator=(SparseTable&&) = default;

  int row_floats() const { return row_floats_; }
  bool track_steps() const { return track_steps_; }
  size_t size() const { return size_; }

  // The row of `key`, or nullptr when it has none. REQUIRES: key != kEmptyKey.
  float* Find(uint64_t key);
  const float* Find(uint64_t key) const;

  // The row of `key`, inserted if it had none (*inserted then says so, and the row is zeros for
  // the caller to initialise). REQUIRES: key != kEmptyKey.
  float* Insert(uint64_t key, bool* inserted);

  // Asks the CPU to start loading the slot where `key` would be (a hint; no effect on contents).
  // Loops over many keys call it some keys ahead, so that the cache misses of a large table
  // overlap instead of coming one after another.
  void Prefetch(uint64_t key) const;

  // Removes `key`'s row; false when it had none.
  bool Erase(uint64_t key);

  // The step `key`'s row was last updated at (set with Touch). REQUIRES: track_steps() and the
  // key has a row.
  uint32_t last_step(uint64_t key) const;
  // Records that `key`'s row was updated at `step`. Does nothing without track_steps().
  // REQUIRES: the key has a row.
  void Touch(uint64_t key, uint32_t step);

  // Removes every row whose last update is before `step` (track_steps() only; 0 otherwise) and
  // returns how many it removed.
  size_t ExpireOlderThan(uint32_t step);

  // Calls fn(key, row, last_step) for every row, in a deterministic order (segment, then slot),
  // which depends on the keys inserted and erased and their order. last_step is 0 without
  // track_steps(). fn must not insert or erase.
  void ForEach(const std::function<void(uint64_t, std::span<const float>, uint32_t)>& fn) const;

  // Makes room for about n rows in all, so inserting them grows no segment (or hardly any):
  // for loading a table whose size is known (a checkpoint). Keeps every row.
  void Reserve(size_t n);

  // Removes every row (keeps no capacity beyond the empty segments').
  void Clear();

  // Bytes the table's arrays take (slots of every segment: key, row and step, large arrays
  // rounded up to a whole small page as allocated), and the raw bytes of what it stores:
  // size() * (8 + 4 * row_floats).
  size_t bytes() const;
  size_t raw_bytes() const;

 private:
  // std::allocator, but arrays of 2 MiB and more (see above) are 2 MiB-aligned and madvise'd
  // for huge pages.
  template <typename T>
  struct HugePages {
    using value_type = T;
    HugePages() = default;
    template <typename U>
    HugePages(const HugePages<U>&) {}  // NOLINT: rebinding, as allocators must
    T* allocate(size_t n);
    void deallocate(T* p, size_t n);
    bool operator==(const HugePages&) const { return true; }
  };
  template <typename T>
  using Array = std::vector<T, HugePages<T>>;

  struct Segment {
    Array<uint64_t> keys;   // kEmptyKey = free
    Array<float> rows;      // row_floats per slot
    Array<uint32_t> steps;  // track_steps only, one per slot
    size_t used = 0;
  };

  static uint64_t Mix(uint64_t key);
  // The segment a mixed key belongs to, and its home slot in a segment of `capacity` slots.
  static size_t SegmentOf(uint64_t mixed) { return static_cast<size_t>(mixed >> 60); }
  static size_t HomeOf(uint64_t mixed, size_t capacity);

  // Index of key's slot in seg, or capacity when absent.
  size_t Locate(const Segment& seg, uint64_t key, uint64_t mixed) const;
  void Grow(Segment& seg);
  // Moves seg's rows into new arrays of `capacity` slots (> its rows / (4/5)).
  void Rehash(Segment& seg, size_t capacity);
  void EraseSlot(Segment& seg, size_t slot);

  int row_floats_;
  bool track_steps_;
  size_t size_ = 0;
  std::array<Segment, kSegments> segments_;
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_SPARSE_TABLE_H_
