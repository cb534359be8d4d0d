#include "ringtrain/ckpt/shard_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include <zlib.h>

#include "ckpt_test_util.h"

namespace ringtrain::ckpt {
namespace {

using testing::FlipByte;
using ::testing::HasSubstr;
using testing::ReadAll;
using testing::SameState;
using testing::ScratchDir;
using testing::TestIdentity;
using testing::TestState;
using testing::Truncate;
using testing::WriteAll;

// Header 32 bytes, then partition 1's record (48 bytes) whose size field is at offset 8.
constexpr int64_t kFirstRecord = 32;
constexpr int64_t kFirstSizeField = kFirstRecord + 8;

class ShardFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/shard.bin";
    StatusOr<FileEntry> e = WriteShardFile(path_, state_, id_);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    entry_ = *e;
  }

  // The file's entry after it was changed, with a recomputed checksum and size, as if the
  // manifest had been written for the damaged bytes: only the structural checks remain.
  FileEntry Recomputed() const {
    const std::string bytes = ReadAll(path_);
    return FileEntry{"shard.bin", bytes.size(),
                     static_cast<uint32_t>(
                         crc32_z(0L, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()))};
  }

  void SetI64(int64_t offset, int64_t value) {
    std::string bytes = ReadAll(path_);
    std::memcpy(bytes.data() + offset, &value, sizeof(value));
    WriteAll(path_, bytes);
  }

  ScratchDir dir_;
  std::string path_;
  ShardIdentity id_ = TestIdentity();
  ShardState state_ = TestState(id_, 42);
  FileEntry entry_;
};

TEST_F(ShardFileTest, RoundTripsEveryField) {
  EXPECT_EQ(entry_.name, "shard.bin");
  // 32 header + 3 * 48 records + (10 params + 10 state + 5 accum) * 4 + 8 + 3 * 16 clocks.
  EXPECT_EQ(entry_.bytes, 32u + 3 * 48 + 25 * 4 + 8 + 3 * 16);
  EXPECT_EQ(ReadAll(path_).size(), entry_.bytes);
  StatusOr<ShardState> back = ReadShardFile(path_, entry_, id_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(SameState(*back, state_));
  EXPECT_EQ(back->step(), 42);
  EXPECT_TRUE(back->workers[2].done);
  EXPECT_FALSE(back->workers[0].done);
  EXPECT_TRUE(back->workers[1].excluded);
  EXPECT_FALSE(back->workers[0].excluded);
}

// The server keeping the data queue (dynamic sharding) writes it after the worker clocks.
TEST_F(ShardFileTest, TheDataQueueRoundTripsAndADamagedOneIsRefused) {
  ShardState with = state_;
  DataQueueState q;
  q.tasks = 33;
  q.epochs = 3;
  q.epoch = 1;
  q.next = 7;
  q.leased = {{1, 5, 2}, {0, 32, 0}};
  q.returned = {{0, 12, -1}};
  q.handed_out = 41;
  q.finished = 38;
  q.requeued = 1;
  q.finished_again = 2;
  with.queue = q;
  const std::string path = dir_.path() + "/queue.bin";
  StatusOr<FileEntry> e = WriteShardFile(path, with, id_);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->bytes, entry_.bytes + 8 + 10 * 8 + 3 * 24);
  StatusOr<ShardState> back = ReadShardFile(path, *e, id_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->queue.has_value());
  EXPECT_EQ(*back->queue, q);
  EXPECT_FALSE(ReadShardFile(path_, entry_, id_)->queue.has_value()) << "none without one";

  // A lease of worker 3 in a job of 3 workers, the checksum recomputed: refused all the same.
  std::string bytes = ReadAll(path);
  const int64_t worker_of_first_lease = static_cast<int64_t>(entry_.bytes) + 8 + 10 * 8 + 16;
  const int64_t three = 3;
  std::memcpy(bytes.data() + worker_of_first_lease, &three, sizeof(three));
  WriteAll(path, bytes);
  const FileEntry damaged{"shard.bin", bytes.size(),
                          static_cast<uint32_t>(crc32_z(
                              0L, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()))};
  StatusOr<ShardState> refused = ReadShardFile(path, damaged, id_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(refused.status().message(), HasSubstr("a lease of the data queue is damaged"));
}

TEST_F(ShardFileTest, RefusesToOverwrite) {
  StatusOr<FileEntry> again = WriteShardFile(path_, state_, id_);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(), HasSubstr(path_));
}

TEST_F(ShardFileTest, StateThatDoesNotFitTheIdentityIsNotWritten) {
  ShardState bad = state_;
  bad.partitions[1].optimizer_state.pop_back();
  StatusOr<FileEntry> e = WriteShardFile(dir_.path() + "/other.bin", bad, id_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(e.status().message(), HasSubstr("partition 4"));
}

// Streamed rounds: a file has no place for a push partly in (ps::ServerCheckpointer waits).
TEST_F(ShardFileTest, StateWithAPushPartlyInIsNotWritten) {
  ShardState partly = state_;
  partly.workers[1].partial = {partly.partitions[0].id};
  StatusOr<FileEntry> e = WriteShardFile(dir_.path() + "/other.bin", partly, id_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(e.status().message(), HasSubstr("worker 1's push partly in"));
}

TEST_F(ShardFileTest, TruncatedIsDataLossNamingFileAndSizes) {
  Truncate(path_, 5);
  StatusOr<ShardState> s = ReadShardFile(path_, entry_, id_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr(path_));
  EXPECT_THAT(s.status().message(),
              HasSubstr(std::to_string(entry_.bytes - 5) + " bytes, the manifest says " +
                        std::to_string(entry_.bytes) + " (truncated)"));
}

TEST_F(ShardFileTest, TrailingBytesAreDataLoss) {
  WriteAll(path_, ReadAll(path_) + "x");
  StatusOr<ShardState> s = ReadShardFile(path_, entry_, id_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("(trailing bytes)"));
}

TEST_F(ShardFileTest, MissingIsNotFound) {
  std::filesystem::remove(path_);
  StatusOr<ShardState> s = ReadShardFile(path_, entry_, id_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
}

TEST_F(ShardFileTest, EveryFlippedByteIsDetected) {
  const std::string good = ReadAll(path_);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    WriteAll(path_, bad);
    StatusOr<ShardState> s = ReadShardFile(path_, entry_, id_);
    ASSERT_FALSE(s.ok()) << "byte " << i << " flipped went unnoticed";
    EXPECT_EQ(s.status().code(), StatusCode::kDataLoss) << i;
    EXPECT_THAT(s.status().message(), HasSubstr("checksum mismatch")) << i;
  }
}

TEST_F(ShardFileTest, FlippedParameterByteSaysTheFileIsCorrupt) {
  FlipByte(path_, kFirstRecord + 48);  // partition 1's first parameter
  StatusOr<ShardState> s = ReadShardFile(path_, entry_, id_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            path_ + ": checksum mismatch (its CRC-32 is not the manifest's): the file is corrupt");
}

// A size in the file is never trusted: a huge one (with a checksum that agrees) is refused by
// comparison with the layout before anything is allocated for it.
TEST_F(ShardFileTest, HugeSizeInFileIsRefusedBeforeAllocating) {
  SetI64(kFirstSizeField, int64_t{1} << 60);
  StatusOr<ShardState> s = ReadShardFile(path_, Recomputed(), id_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(),
              HasSubstr("partition 1 has 1152921504606846976 elements, the layout says 3"));
}

TEST_F(ShardFileTest, HugePartitionCountIsRefused) {
  SetI64(16, int64_t{1} << 40);
  StatusOr<ShardState> s = ReadShardFile(path_, Recomputed(), id_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("1099511627776 partitions, this server owns 3"));
}

TEST_F(ShardFileTest, AnotherLayoutIsRefusedNamingThePartition) {
  ShardIdentity other = id_;
  other.partitions[1].size = 6;  // the same ids, another size
  StatusOr<ShardState> s = ReadShardFile(path_, entry_, other);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr("partition 4 has 5 elements, the layout says 6"));

  other = id_;
  other.partitions[0].id = 0;
  s = ReadShardFile(path_, entry_, other);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(),
              HasSubstr("partition record 0 is partition 1, expected partition 0"));

  other = id_;
  other.state_slots = 2;
  s = ReadShardFile(path_, entry_, other);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("1 optimizer state slots"));
}

TEST_F(ShardFileTest, InconsistentVersionIsRefused) {
  SetI64(kFirstRecord + 16, 0);  // version 0 below optimizer steps 41
  StatusOr<ShardState> s = ReadShardFile(path_, Recomputed(), id_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("are not 0 <= steps <= version"));
}

// A sparse model's tables follow the worker clocks (and come before the data queue); their
// counts are bounded by the file before anything is allocated.
TEST_F(ShardFileTest, SparseTablesRoundTripAndDamagedCountsAreRefused) {
  ShardIdentity id = id_;
  id.sparse_dims = {3};
  ShardState with = state_;
  SparseState& sparse = with.sparse.emplace();
  sparse.version = 5;
  sparse.round_pushes = 1;
  sparse.round_samples = 64;
  sparse.round_learning_rate = 0.1f;
  sparse.clock = 17;
  SparseTableSnapshot& t = sparse.tables.emplace_back();
  t.dim = 3;
  t.keys = {9, 4, uint64_t{1} << 40};
  for (int i = 0; i < 3 * 2 * 3; ++i) t.rows.push_back(0.5f * static_cast<float>(i));
  t.steps = {1, 2, 3};
  t.round_keys = {4};
  t.round_sums = {1, 2, 3};
  sparse.admission = {0, 1, 2, 3, 250};
  with.queue = DataQueueState{};
  std::filesystem::remove(path_);
  StatusOr<FileEntry> e = WriteShardFile(path_, with, id);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  StatusOr<ShardState> back = ReadShardFile(path_, *e, id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->sparse, with.sparse);
  EXPECT_TRUE(back->queue.has_value());
  EXPECT_TRUE(SameState(*back, with));

  // Read as a dense shard's file, or a dense file as a sparse shard's: refused.
  EXPECT_THAT(ReadShardFile(path_, *e, id_).status().message(),
              HasSubstr("bytes after the worker clocks"));
  ShardIdentity two = id;
  two.sparse_dims = {3, 1};
  EXPECT_THAT(ReadShardFile(path_, *e, two).status().message(),
              HasSubstr("1 tables, the model has 2"));
  EXPECT_THAT(ReadShardFile(path_, *e, ShardIdentity(id)).status().code(), StatusCode::kOk);

  // The sparse section starts where the dense file ended (RoundTripsEveryField's size).
  const int64_t sparse_at = 32 + 3 * 48 + 25 * 4 + 8 + 3 * 16;
  SetI64(sparse_at + 40, int64_t{1} << 40);  // the table count
  StatusOr<ShardState> s = ReadShardFile(path_, Recomputed(), id);
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr("1099511627776 tables, the model has 1"));
  SetI64(sparse_at + 40, 1);
  SetI64(sparse_at + 56 + 8, int64_t{1} << 50);  // table 0's row count
  s = ReadShardFile(path_, Recomputed(), id);
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr("claims 1125899906842624 rows"));
}

// A sparse shard's identity reading a dense shard's file: the section is missing.
TEST_F(ShardFileTest, ASparseShardRefusesAFileWithoutItsTables) {
  ShardIdentity id = id_;
  id.sparse_dims = {2};
  StatusOr<ShardState> s = ReadShardFile(path_, entry_, id);
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(),
              HasSubstr("sparse tables: the section is cut short or missing"));
  EXPECT_THAT(WriteShardFile(dir_.path() + "/x.bin", state_, id).status().message(),
              HasSubstr("shard state has no sparse tables, the model 1"));
}

TEST_F(ShardFileTest, NotAShardFile) {
  WriteAll(path_, std::string(200, 'x'));
  FileEntry e = Recomputed();
  StatusOr<ShardState> s = ReadShardFile(path_, e, id_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("not a shard file"));
}

}  // namespace
}  // namespace ringtrain::ckpt
