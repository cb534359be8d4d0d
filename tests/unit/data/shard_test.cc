#include "ringtrain/data/shard.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "ringtrain/common/random.h"

namespace ringtrain::data {
namespace {

TEST(RowShardTest, DisjointCoveringAndBalanced) {
  for (int64_t n : {0, 1, 2, 7, 10, 59, 60, 64, 1000, 60000, 60001}) {
    for (int k : {1, 2, 3, 4, 7, 8, 16, 64}) {
      int64_t next = 0, min_size = n, max_size = 0;
      for (int i = 0; i < k; ++i) {
        const RowRange r = RowShard(n, k, i);
        EXPECT_EQ(r.begin, next) << n << " " << k << " " << i;
        EXPECT_LE(r.begin, r.end);
        EXPECT_EQ(r.begin, i * n / k);
        min_size = std::min(min_size, r.size());
        max_size = std::max(max_size, r.size());
        next = r.end;
      }
      EXPECT_EQ(next, n) << n << " " << k;
      EXPECT_LE(max_size - min_size, 1) << n << " " << k;
    }
  }
  EXPECT_EQ(RowShard(10, 3, 0), (RowRange{0, 3}));
  EXPECT_EQ(RowShard(10, 3, 1), (RowRange{3, 6}));
  EXPECT_EQ(RowShard(10, 3, 2), (RowRange{6, 10}));
}

TEST(RowShardTest, NoOverflowForHugeCounts) {
  const int64_t n = int64_t{1} << 62;
  EXPECT_EQ(RowShard(n, 3, 2).end, n);
  EXPECT_EQ(RowShard(n, 4, 1), (RowRange{n / 4, n / 2}));
}

TEST(StepsPerEpochTest, CeilOfLargestShardOverBatch) {
  EXPECT_EQ(StepsPerEpoch(0, 4, 32), 0);
  EXPECT_EQ(StepsPerEpoch(10, 1, 5), 2);
  EXPECT_EQ(StepsPerEpoch(10, 1, 3), 4);
  EXPECT_EQ(StepsPerEpoch(10, 3, 4), 1);  // shards 3,3,4
  EXPECT_EQ(StepsPerEpoch(10, 3, 3), 2);  // largest shard 4
  EXPECT_EQ(StepsPerEpoch(60000, 2, 64), 469);
  EXPECT_EQ(StepsPerEpoch(60000, 7, 64), 134);  // ceil(8572 / 64)
  EXPECT_EQ(StepsPerEpoch(3, 8, 1), 1);         // five workers have empty shards
  // Every worker's shard fits in the plan, and the plan is not one step too long.
  for (int64_t n : {1, 9, 100, 1001}) {
    for (int k : {1, 3, 8}) {
      for (int64_t b : {1, 4, 32}) {
        const int64_t steps = StepsPerEpoch(n, k, b);
        int64_t largest = 0;
        for (int i = 0; i < k; ++i) largest = std::max(largest, RowShard(n, k, i).size());
        EXPECT_GE(steps * b, largest);
        EXPECT_LT((steps - 1) * b, largest);
      }
    }
  }
}

TEST(BatchRowsTest, SlicesAndClamps) {
  EXPECT_EQ(BatchRows(0, 4, 10), (RowRange{0, 4}));
  EXPECT_EQ(BatchRows(2, 4, 10), (RowRange{8, 10}));
  EXPECT_TRUE(BatchRows(3, 4, 10).empty());
  EXPECT_TRUE(BatchRows(0, 4, 0).empty());
  EXPECT_TRUE(BatchRows(int64_t{1} << 62, 1 << 20, 10).empty());  // no overflow
}

TEST(SplitMix64Test, MatchesPublishedSequence) {
  SplitMix64 g(1234567);
  EXPECT_EQ(g.Next(), 6457827717110365317ULL);
  EXPECT_EQ(g.Next(), 3203168211198807973ULL);
  EXPECT_EQ(g.Next(), 9817491932198370423ULL);
}

TEST(SplitMix64Test, BelowIsInRangeAndFixed) {
  SplitMix64 g(7);
  std::vector<uint64_t> got;
  for (int i = 0; i < 8; ++i) got.push_back(g.Below(10));
  // Computed independently (Python) from the definitions in random.h.
  EXPECT_EQ(got, (std::vector<uint64_t>{7, 4, 6, 3, 4, 5, 8, 2}));
  std::vector<int> counts(3);
  SplitMix64 h(1);
  for (int i = 0; i < 30000; ++i) counts[h.Below(3)]++;
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
  EXPECT_EQ(h.Below(1), 0u);
}

bool IsPermutation(const std::vector<int64_t>& v) {
  std::vector<int64_t> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

TEST(EpochOrderTest, FixedPermutationOnEveryPlatform) {
  // Computed independently (Python) from the definitions in shard.h and random.h.
  EXPECT_EQ(EpochOrder(10, 0, 42, true, 0).indices(),
            (std::vector<int64_t>{6, 1, 8, 7, 5, 4, 0, 2, 9, 3}));
  EXPECT_EQ(EpochOrder(10, 1, 42, true, 0).indices(),
            (std::vector<int64_t>{0, 2, 7, 5, 9, 3, 1, 8, 4, 6}));
  EXPECT_EQ(EpochOrder(10, 0, 42, true, 1).indices(),
            (std::vector<int64_t>{2, 1, 8, 9, 0, 7, 4, 6, 3, 5}));
}

TEST(EpochOrderTest, PermutationDeterministicAndVaried) {
  for (int64_t size : {0, 1, 2, 3, 17, 1000, 30000}) {
    const EpochOrder a(size, 3, 99, true, 2);
    EXPECT_TRUE(IsPermutation(a.indices())) << size;
    EXPECT_EQ(a.indices(), EpochOrder(size, 3, 99, true, 2).indices()) << size;
    if (size < 17) continue;
    EXPECT_NE(a.indices(), EpochOrder(size, 4, 99, true, 2).indices()) << "epoch, " << size;
    EXPECT_NE(a.indices(), EpochOrder(size, 3, 98, true, 2).indices()) << "seed, " << size;
    EXPECT_NE(a.indices(), EpochOrder(size, 3, 99, true, 3).indices()) << "worker, " << size;
  }
}

TEST(EpochOrderTest, IdentityWithoutShuffle) {
  const EpochOrder o(5, 7, 123, false, 1);
  EXPECT_EQ(o.indices(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(EpochOrderTest, ShuffleLooksUniform) {
  // Over many epochs, each row lands in position 0 about equally often.
  constexpr int kSize = 8, kEpochs = 8000;
  std::vector<int> first(kSize);
  for (int e = 0; e < kEpochs; ++e) first[EpochOrder(kSize, e, 5, true, 0).indices()[0]]++;
  for (int c : first) EXPECT_NEAR(c, kEpochs / kSize, 120);
}

TEST(EpochOrderTest, BatchesPartitionTheEpoch) {
  const EpochOrder o(10, 0, 1, true, 0);
  std::vector<int64_t> seen;
  for (int64_t s = 0; s < 4; ++s) {
    std::span<const int64_t> b = o.Batch(s, 4);
    EXPECT_EQ(static_cast<int64_t>(b.size()), s < 2 ? 4 : (s == 2 ? 2 : 0)) << s;
    seen.insert(seen.end(), b.begin(), b.end());
  }
  EXPECT_EQ(seen, o.indices());
}

}  // namespace
}  // namespace ringtrain::data
