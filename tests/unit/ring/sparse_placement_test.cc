#include "ringtrain/ring/sparse_placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ringtrain/ring/partition_table.h"
#include "test_util.h"

namespace ringtrain::ring {
namespace {

using testing::MustRing;
using testing::ServerIds;

SparseTableSpec Table(std::string name, int dim = 8, uint32_t buckets = 4096) {
  return SparseTableSpec{std::move(name), dim, uint64_t{1} << 40, buckets};
}

TEST(SparsePlacementTest, BucketsSpreadSequentialAndFieldTaggedKeysEvenly) {
  for (const uint64_t stride : {uint64_t{1}, uint64_t{1} << 56}) {
    std::vector<int> counts(64, 0);
    for (uint64_t i = 0; i < 64000; ++i) ++counts[SparseBucketOf(i * stride + i, 64)];
    const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
    EXPECT_GT(*lo, 800) << "stride " << stride;
    EXPECT_LT(*hi, 1200) << "stride " << stride;
  }
  EXPECT_EQ(SparseBucketOf(12345, 1), 0u);
}

TEST(SparsePlacementTest, EveryProcessComputesTheSameOwnersAndAServerTakesOnlyItsShare) {
  const SparsePlacement three =
      SparsePlacement::Build({Table("emb"), Table("lin", 1)}, MustRing(ServerIds(3))).value();
  const SparsePlacement again =
      SparsePlacement::Build({Table("emb"), Table("lin", 1)}, MustRing(ServerIds(3))).value();
  const SparsePlacement four =
      SparsePlacement::Build({Table("emb"), Table("lin", 1)}, MustRing(ServerIds(4))).value();
  EXPECT_EQ(three.fingerprint(), again.fingerprint());
  EXPECT_NE(three.fingerprint(), four.fingerprint());
  size_t moved = 0;
  std::vector<int> per_server(4, 0);
  for (uint32_t t = 0; t < 2; ++t) {
    for (uint64_t key = 0; key < 20000; ++key) {
      EXPECT_EQ(three.ServerOf(t, key), again.ServerOf(t, key));
      const int before = three.ServerOf(t, key);
      const int after = four.ServerOf(t, key);
      ++per_server[static_cast<size_t>(after)];
      if (before != after) {
        ++moved;
        EXPECT_EQ(after, 3) << "a key moved between two servers that both stayed";
      }
    }
  }
  // The new server takes about a quarter of the keys; none is empty.
  EXPECT_GT(moved, 40000u / 6);
  EXPECT_LT(moved, 40000u / 3);
  for (int n : per_server) EXPECT_GT(n, 40000 / 6);
}

TEST(SparsePlacementTest, RefusesBadTablesNamingThem) {
  const HashRing ring = MustRing(ServerIds(2));
  EXPECT_NE(SparsePlacement::Build({Table("")}, ring).status().message().find("empty name"),
            std::string::npos);
  EXPECT_NE(SparsePlacement::Build({Table("a"), Table("a")}, ring)
                .status()
                .message()
                .find("tables[1] 'a': duplicate"),
            std::string::npos);
  EXPECT_NE(SparsePlacement::Build({Table("a", 0)}, ring).status().message().find("dim"),
            std::string::npos);
  EXPECT_NE(SparsePlacement::Build({Table("a", 4, 0)}, ring).status().message().find("buckets"),
            std::string::npos);
  SparseTableSpec no_keys = Table("a");
  no_keys.key_limit = 0;
  EXPECT_NE(SparsePlacement::Build({no_keys}, ring).status().message().find("key_limit"),
            std::string::npos);
  EXPECT_TRUE(SparsePlacement::Build({}, ring).value().empty());
}

// The partition table folds the sparse placement into the fingerprint peers compare, and
// leaves a dense model's fingerprint as it was.
TEST(SparsePlacementTest, TheLayoutFingerprintCoversSparseTables) {
  const HashRing ring = MustRing(ServerIds(2));
  const auto dense = PartitionTable::Build({{"bias", 0, 1}}, 16, ring).value();
  const auto dense_again = PartitionTable::Build({{"bias", 0, 1}}, 16, ring, {}).value();
  const auto sparse8 = PartitionTable::Build({{"bias", 0, 1}}, 16, ring, {Table("e")}).value();
  const auto sparse4 = PartitionTable::Build({{"bias", 0, 1}}, 16, ring, {Table("e", 4)}).value();
  EXPECT_EQ(dense.fingerprint(), dense_again.fingerprint());
  EXPECT_NE(dense.fingerprint(), sparse8.fingerprint());
  EXPECT_NE(sparse8.fingerprint(), sparse4.fingerprint());
  EXPECT_EQ(sparse8.sparse().tables().size(), 1u);
  EXPECT_TRUE(dense.sparse().empty());
  EXPECT_FALSE(PartitionTable::Build({{"bias", 0, 1}}, 16, ring, {Table("")}).ok());
}

}  // namespace
}  // namespace ringtrain::ring
