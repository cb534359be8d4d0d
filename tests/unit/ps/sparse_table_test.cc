#include "ringtrain/ps/sparse_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace ringtrain::ps {
namespace {

// A row's contents derived from its key, to tell rows apart after moves.
float Tag(uint64_t key, int e) { return static_cast<float>(key % 100003) + 0.25f * e; }

TEST(SparseTableTest, FindsWhatWasInsertedAndOnlyThat) {
  SparseTable t(3, false);
  EXPECT_EQ(t.Find(42), nullptr);
  bool inserted = false;
  float* row = t.Insert(42, &inserted);
  ASSERT_TRUE(inserted);
  EXPECT_EQ(row[0], 0.0f);
  EXPECT_EQ(row[2], 0.0f);
  row[1] = 7.0f;
  EXPECT_EQ(t.Insert(42, &inserted)[1], 7.0f);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.Find(43), nullptr);
  EXPECT_TRUE(t.Erase(42));
  EXPECT_FALSE(t.Erase(42));
  EXPECT_EQ(t.Find(42), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

// Random inserts and erases against std::map: every row survives growth and backward shifts
// with its own contents.
TEST(SparseTableTest, MatchesAReferenceMapThroughGrowthAndErasure) {
  SparseTable t(2, true);
  std::map<uint64_t, uint32_t> ref;  // key -> step
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    // Small key space so that erases and re-inserts hit; some sequential, some random.
    const uint64_t key = (i % 3 == 0) ? rng() % 50000 : static_cast<uint64_t>(i % 70000);
    if (rng() % 4 == 0) {
      EXPECT_EQ(t.Erase(key), ref.erase(key) == 1);
    } else {
      bool inserted = false;
      float* row = t.Insert(key, &inserted);
      EXPECT_EQ(inserted, ref.count(key) == 0);
      row[0] = Tag(key, 0);
      row[1] = Tag(key, 1);
      t.Touch(key, static_cast<uint32_t>(i));
      ref[key] = static_cast<uint32_t>(i);
    }
  }
  ASSERT_EQ(t.size(), ref.size());
  for (const auto& [key, step] : ref) {
    const float* row = t.Find(key);
    ASSERT_NE(row, nullptr) << key;
    EXPECT_EQ(row[0], Tag(key, 0));
    EXPECT_EQ(row[1], Tag(key, 1));
    EXPECT_EQ(t.last_step(key), step);
  }
  size_t visited = 0;
  t.ForEach([&](uint64_t key, std::span<const float> row, uint32_t step) {
    ++visited;
    ASSERT_EQ(ref.count(key), 1u);
    EXPECT_EQ(row[1], Tag(key, 1));
    EXPECT_EQ(step, ref[key]);
  });
  EXPECT_EQ(visited, ref.size());
}

TEST(SparseTableTest, ExpiresExactlyTheRowsNotTouchedSinceAStep) {
  SparseTable t(1, true);
  for (uint64_t key = 0; key < 20000; ++key) {
    bool inserted = false;
    t.Insert(key, &inserted)[0] = Tag(key, 0);
    t.Touch(key, static_cast<uint32_t>(key % 10));
  }
  EXPECT_EQ(t.ExpireOlderThan(4), 8000u);  // steps 0..3
  EXPECT_EQ(t.size(), 12000u);
  for (uint64_t key = 0; key < 20000; ++key) {
    const float* row = t.Find(key);
    if (key % 10 < 4) {
      EXPECT_EQ(row, nullptr) << key;
    } else {
      ASSERT_NE(row, nullptr) << key;
      EXPECT_EQ(row[0], Tag(key, 0));
    }
  }
  SparseTable untracked(1, false);
  bool inserted = false;
  untracked.Insert(1, &inserted);
  EXPECT_EQ(untracked.ExpireOlderThan(100), 0u);
  EXPECT_EQ(untracked.size(), 1u);
}

// The memory contract: once past a few slots per segment, the table takes between 1.25x and
// 1.5x the raw bytes of its keys and rows (slots 2/3 to 4/5 full), at every size.
TEST(SparseTableTest, TakesAtMostOneAndAHalfTimesTheRawBytes) {
  SparseTable t(3, false);  // an FTRL weight: w, z, n
  double lowest = 10, highest = 0;
  for (uint64_t key = 0; key < 400000; ++key) {
    bool inserted = false;
    t.Insert(key * 0x9e3779b97f4a7c15ULL >> 3, &inserted);
    if (key >= 50000 && key % 997 == 0) {
      const double ratio = static_cast<double>(t.bytes()) / static_cast<double>(t.raw_bytes());
      lowest = std::min(lowest, ratio);
      highest = std::max(highest, ratio);
    }
  }
  EXPECT_GE(lowest, 1.2);
  EXPECT_LE(highest, 1.52);
  t.Clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.bytes(), 0u);
}

}  // namespace
}  // namespace ringtrain::ps
