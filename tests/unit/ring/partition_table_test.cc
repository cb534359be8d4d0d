#include "ringtrain/ring/partition_table.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace ringtrain::ring {
namespace {

using ::testing::HasSubstr;
using testing::MustRing;
using testing::ServerIds;

PartitionTable MustBuild(const std::vector<TensorSpan>& tensors, int64_t partition_size,
                         const HashRing& ring) {
  StatusOr<PartitionTable> t = PartitionTable::Build(tensors, partition_size, ring);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

// An MLP-like model: two weight matrices and biases, back to back.
std::vector<TensorSpan> Mlp() {
  return {{"fc1/w", 0, 784 * 256},
          {"fc1/b", 784 * 256, 256},
          {"fc2/w", 784 * 256 + 256, 2560},
          {"fc2/b", 784 * 256 + 256 + 2560, 10}};
}

TEST(PartitionTableTest, ChunksEachTensorWithoutSpanning) {
  // 3 < size (one short chunk), 8 == 2 * 4 (exact multiple), 10 = 2 * 4 + 2 (remainder).
  const std::vector<TensorSpan> tensors = {{"small", 0, 3}, {"exact", 3, 8}, {"rem", 11, 10}};
  HashRing ring = MustRing(ServerIds(3));
  PartitionTable t = MustBuild(tensors, 4, ring);
  struct Want {
    const char* key;
    int64_t offset, size;
  };
  const std::vector<Want> want = {{"small/0", 0, 3}, {"exact/0", 3, 4}, {"exact/1", 7, 4},
                                  {"rem/0", 11, 4},  {"rem/1", 15, 4},  {"rem/2", 19, 2}};
  ASSERT_EQ(t.partitions().size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Partition& p = t.partitions()[i];
    EXPECT_EQ(p.id, i);
    EXPECT_EQ(p.key, want[i].key);
    EXPECT_EQ(p.offset, want[i].offset) << p.key;
    EXPECT_EQ(p.size, want[i].size) << p.key;
    EXPECT_EQ(p.server, ring.OwnerIndexOfKey(p.key)) << p.key;
    EXPECT_EQ(&t.partition(p.id), &p);
  }
  EXPECT_EQ(t.total_size(), 21);
  EXPECT_EQ(t.num_servers(), 3);
  EXPECT_EQ(t.partition_size(), 4);
}

TEST(PartitionTableTest, PartitionsOfServerAreAscendingAndCoverAll) {
  HashRing ring = MustRing(ServerIds(4));
  PartitionTable t = MustBuild(Mlp(), 1000, ring);
  std::vector<int> seen(t.partitions().size(), 0);
  int64_t covered = 0;
  for (int s = 0; s < t.num_servers(); ++s) {
    const std::vector<uint32_t>& ids = t.partitions_of(s);
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    for (uint32_t id : ids) {
      EXPECT_EQ(t.partition(id).server, s);
      seen[id]++;
      covered += t.partition(id).size;
    }
  }
  EXPECT_EQ(seen, std::vector<int>(seen.size(), 1));
  EXPECT_EQ(covered, t.total_size());
  EXPECT_EQ(t.total_size(), 784 * 256 + 256 + 2560 + 10);
}

TEST(PartitionTableTest, DeterministicAndFingerprintTracksInputs) {
  HashRing ring = MustRing(ServerIds(4));
  PartitionTable a = MustBuild(Mlp(), 1000, ring);
  PartitionTable b = MustBuild(Mlp(), 1000, MustRing(ServerIds(4)));
  ASSERT_EQ(a.partitions().size(), b.partitions().size());
  for (size_t i = 0; i < a.partitions().size(); ++i) {
    EXPECT_EQ(a.partitions()[i].key, b.partitions()[i].key);
    EXPECT_EQ(a.partitions()[i].server, b.partitions()[i].server);
  }
  EXPECT_EQ(a.fingerprint(), b.fingerprint());

  EXPECT_NE(MustBuild(Mlp(), 999, ring).fingerprint(), a.fingerprint());
  EXPECT_NE(MustBuild(Mlp(), 1000, MustRing(ServerIds(5))).fingerprint(), a.fingerprint());
  EXPECT_NE(MustBuild(Mlp(), 1000, MustRing({"ps-0", "ps-1", "ps-2", "ps-x"})).fingerprint(),
            a.fingerprint());
  std::vector<TensorSpan> renamed = Mlp();
  renamed[3].name = "fc2/bias";
  EXPECT_NE(MustBuild(renamed, 1000, ring).fingerprint(), a.fingerprint());
}

TEST(PartitionTableTest, RejectsInvalidInput) {
  HashRing ring = MustRing(ServerIds(2));
  auto error = [&](const std::vector<TensorSpan>& tensors, int64_t partition_size) {
    StatusOr<PartitionTable> t = PartitionTable::Build(tensors, partition_size, ring);
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    return t.status().message();
  };
  EXPECT_THAT(error(Mlp(), 0), HasSubstr("partition_size must be >= 1 (got 0)"));
  EXPECT_THAT(error({}, 10), HasSubstr("no tensors"));
  EXPECT_THAT(error({{"a", 0, 5}, {"b", 4, 5}}, 10),
              HasSubstr("tensors[1] 'b': offset 4 overlaps tensors[0] 'a' ending at 5"));
  EXPECT_THAT(error({{"a", 0, 5}, {"b", 6, 5}}, 10),
              HasSubstr("tensors[1] 'b': offset 6 leaves a gap after tensors[0] 'a'"));
  EXPECT_THAT(error({{"a", 3, 5}}, 10), HasSubstr("tensors[0] 'a': offset 3 leaves a gap"));
  EXPECT_THAT(error({{"b", 5, 5}, {"a", 0, 5}}, 10), HasSubstr("tensors[0] 'b': offset 5"));
  EXPECT_THAT(error({{"a", 0, 5}, {"a", 5, 5}}, 10), HasSubstr("tensors[1] 'a': duplicate name"));
  EXPECT_THAT(error({{"", 0, 5}}, 10), HasSubstr("tensors[0] '': empty name"));
  EXPECT_THAT(error({{"a", 0, 0}}, 10), HasSubstr("tensors[0] 'a': size must be >= 1 (got 0)"));
  EXPECT_THAT(error({{"a", 0, int64_t{1} << 40}}, 1), HasSubstr("more than 2^32-1 partitions"));
}

// One model cut into 1024 partitions per server of the larger ring.
std::vector<TensorSpan> ManyPartitions(int partitions) {
  return {{"emb", 0, int64_t{partitions - 1} * 100}, {"bias", int64_t{partitions - 1} * 100, 7}};
}

std::string OwnerId(const PartitionTable& t, uint32_t id) {
  return t.servers()[t.partition(id).server];
}

TEST(PartitionTableMovementTest, AddingAServerMovesOnlyOntoIt) {
  for (int n : {4, 8, 16, 32}) {
    const std::vector<TensorSpan> model = ManyPartitions(1024 * (n + 1));
    PartitionTable before = MustBuild(model, 100, MustRing(ServerIds(n)));
    PartitionTable after = MustBuild(model, 100, MustRing(ServerIds(n + 1)));
    ASSERT_EQ(before.partitions().size(), after.partitions().size());
    const std::string added = "ps-" + std::to_string(n);
    size_t moved = 0;
    for (uint32_t id = 0; id < before.partitions().size(); ++id) {
      if (OwnerId(before, id) == OwnerId(after, id)) continue;
      ++moved;
      EXPECT_EQ(OwnerId(after, id), added) << "partition " << id << " with " << n << " servers";
    }
    const double fraction = static_cast<double>(moved) / before.partitions().size();
    const double ideal = 1.0 / (n + 1);
    EXPECT_GE(fraction, 0.5 * ideal) << n;
    EXPECT_LE(fraction, 1.5 * ideal) << n;
    EXPECT_EQ(moved, after.partitions_of(n).size()) << n;
  }
}

TEST(PartitionTableMovementTest, RemovingAServerMovesOnlyItsPartitions) {
  for (int n : {4, 8, 16, 32}) {
    const std::vector<TensorSpan> model = ManyPartitions(1024 * n);
    std::vector<std::string> ids = ServerIds(n);
    PartitionTable before = MustBuild(model, 100, MustRing(ids));
    const std::string removed = ids[n / 2];
    ids.erase(ids.begin() + n / 2);
    PartitionTable after = MustBuild(model, 100, MustRing(ids));
    size_t moved = 0;
    for (uint32_t id = 0; id < before.partitions().size(); ++id) {
      if (OwnerId(before, id) == removed) {
        ++moved;
        EXPECT_NE(OwnerId(after, id), removed);
      } else {
        EXPECT_EQ(OwnerId(before, id), OwnerId(after, id)) << "partition " << id;
      }
    }
    EXPECT_EQ(moved, before.partitions_of(n / 2).size());
    EXPECT_GT(moved, 0u);
  }
}

}  // namespace
}  // namespace ringtrain::ring
