// SparseStream (data/sparse_stream.h): a worker's share of click-through data streamed in the
// three formats (LibSVM keys, CSV through a feature schema with headers read for pieces inside
// a file, Criteo's logs): the shares of 1-4 workers hold every row of the data exactly once,
// each row whole, as the in-memory reader reads it; every row once per epoch for any window;
// the same batches whatever the reader's pace and from the middle of an epoch; a bad record's
// error names file and line after the batches before it, or the record is skipped and counted
// and takes nothing of the rows around it; a stream dropped while its reader waits stops.
#include "ringtrain/data/sparse_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "ringtrain/data/sparse_data.h"

namespace ringtrain::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A row as comparable values: its label, then each entry's field, key and value.
using RowKey = std::tuple<float, std::vector<std::tuple<uint32_t, uint64_t, float>>>;

std::vector<RowKey> RowsOf(const SparseBatch& b) {
  std::vector<RowKey> rows;
  for (int64_t r = 0; r < b.rows(); ++r) {
    RowKey row{b.labels[static_cast<size_t>(r)], {}};
    for (int64_t e = b.offsets[static_cast<size_t>(r)]; e < b.offsets[static_cast<size_t>(r) + 1];
         ++e) {
      const auto at = static_cast<size_t>(e);
      std::get<1>(row).emplace_back(b.fields[at], b.keys[at], b.values[at]);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

class SparseStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ringtrain-sparsestream-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text, bool gzip = false) {
    const std::string path = dir_ + "/" + name;
    if (gzip) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary) << text;
    }
  }

  // Records first..first+count-1 as "<id % 2> <id>:1 <id + 1000000>:0.5" (blank lines between
  // some): the key says which record it is.
  static std::string Libsvm(int first, int count) {
    std::string text;
    for (int i = first; i < first + count; ++i) {
      text += std::to_string(i % 2) + " " + std::to_string(i) + ":1 " +
              std::to_string(i + 1000000) + ":0.5" + (i % 11 == 0 ? "\n\n" : "\n");
    }
    return text;
  }

  TextShardOptions Shard(TextFormat format, int workers = 1, int index = 0) {
    TextShardOptions o;
    o.uri = dir_ + "/";
    o.format = format;
    o.sparse_rows = true;
    o.workers = workers;
    o.index = index;
    return o;
  }

  std::unique_ptr<SparseStream> Open(const TextShardOptions& shard, int64_t window, int64_t batch,
                                     bool shuffle = true, int64_t block = 16, int prefetch = 2) {
    StatusOr<TextShardPlan> plan = PlanTextShard(storage_, shard, true);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    SparseStreamOptions o;
    o.shard = shard;
    o.fields = fields_;
    o.pieces = plan->pieces;
    o.steps_per_epoch = (plan->records + batch - 1) / batch;
    o.seed = 7;
    o.shuffle = shuffle;
    o.worker = shard.index;
    o.batch_rows = batch;
    o.window_rows = window;
    o.block_rows = block;
    o.prefetch_blocks = prefetch;
    o.field = "spec.dataset.train";
    return std::make_unique<SparseStream>(&storage_, std::move(o));
  }

  // Every row of epoch `epoch` from step `step` on, in order (batches until one is empty).
  static std::vector<RowKey> Epoch(SparseStream& s, int epoch, int64_t step = 0) {
    std::vector<RowKey> rows;
    EXPECT_TRUE(s.StartEpoch(epoch, step).ok());
    SparseBatch b;
    while (true) {
      Status st = s.Next(&b);
      EXPECT_TRUE(st.ok()) << st.ToString();
      if (!st.ok() || b.rows() == 0) return rows;
      for (RowKey& r : RowsOf(b)) rows.push_back(std::move(r));
    }
  }

  // The record ids of LibSVM rows written by Libsvm(), checking each row is whole.
  static std::vector<uint64_t> Ids(const std::vector<RowKey>& rows) {
    std::vector<uint64_t> ids;
    for (const RowKey& r : rows) {
      const auto& entries = std::get<1>(r);
      EXPECT_EQ(entries.size(), 2u);
      if (entries.size() != 2) continue;
      const uint64_t id = std::get<1>(entries[0]);
      EXPECT_EQ(std::get<0>(r), static_cast<float>(id % 2));
      EXPECT_EQ(entries[1], std::make_tuple(0u, id + 1000000, 0.5f));
      ids.push_back(id);
    }
    return ids;
  }

  std::string dir_;
  std::vector<FeatureField> fields_;
  storage::Storage storage_{storage::StorageOptions{}};
};

TEST_F(SparseStreamTest, TheWorkersSharesHoldEveryRowOnceAsTheWholeReadHasItInEachFormat) {
  // CSV: a categorical, a multi-valued and a bucketized column; headers in every file.
  fields_ = {{.column = "user"},
             {.column = "genres", .separator = "|"},
             {.column = "age", .kind = FeatureKind::kNumeric, .buckets = {18, 30, 50}}};
  std::string csv_a = "label,user,genres,age\n";
  std::string csv_b = "age,label,genres,user\n";
  for (int i = 0; i < 300; ++i) {
    const std::string user = "u" + std::to_string(i);
    const std::string genres = i % 3 == 0 ? "" : "g" + std::to_string(i % 5) + "|g9";
    const std::string age = std::to_string(10 + i % 60);
    csv_a += std::to_string(i % 2) + "," + user + "," + genres + "," + age + "\n";
    csv_b += age + "," + std::to_string((i + 1) % 2) + "," + genres + ",v" + user + "\n";
  }
  // Criteo: label, 13 integer columns, 26 categorical ones, some empty.
  std::string criteo, criteo_head;
  for (int i = 0; i < 400; ++i) {
    if (i == 130) criteo_head = criteo;
    criteo += std::to_string(i % 2);
    for (int c = 0; c < 13; ++c) criteo += "\t" + (c == i % 13 ? "" : std::to_string(i * c));
    for (int c = 0; c < 26; ++c) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%08x", (i * 31 + c) * 2654435761u);
      criteo += std::string("\t") + (c == i % 26 ? "" : hex);
    }
    criteo += "\n";
  }
  struct Case {
    TextFormat format;
    std::vector<std::pair<std::string, std::string>> files;
  };
  const std::vector<Case> cases = {
      {TextFormat::kLibsvm, {{"part-0", Libsvm(0, 500)}, {"part-1.gz", Libsvm(500, 120)}}},
      {TextFormat::kCsv, {{"a.csv", csv_a}, {"b.csv.gz", csv_b}}},
      {TextFormat::kCriteo, {{"day-0", criteo}, {"day-1", criteo_head}}},
  };
  for (const Case& c : cases) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const auto& [name, text] : c.files) Write(name, text, name.ends_with(".gz"));
    StatusOr<SparseBatch> whole =
        c.format == TextFormat::kLibsvm ? ReadSparseLibsvm(&storage_, dir_ + "/")
        : c.format == TextFormat::kCsv  ? ReadSparseCsv(&storage_, dir_ + "/", fields_, "label")
                                        : ReadSparseCriteo(&storage_, dir_ + "/");
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    ASSERT_GT(whole->rows(), 100);
    std::vector<RowKey> expected = RowsOf(*whole);
    std::sort(expected.begin(), expected.end());
    for (const int workers : {1, 2, 4}) {
      std::vector<RowKey> seen;
      int64_t records = 0;
      for (int i = 0; i < workers; ++i) {
        const TextShardOptions shard = Shard(c.format, workers, i);
        StatusOr<TextShardPlan> plan = PlanTextShard(storage_, shard, true);
        ASSERT_TRUE(plan.ok()) << plan.status().ToString();
        records += plan->records;
        auto s = Open(shard, 50, 32);
        for (RowKey& r : Epoch(*s, 1)) seen.push_back(std::move(r));
      }
      EXPECT_EQ(records, whole->rows()) << "the counting pass, " << workers << " workers";
      std::sort(seen.begin(), seen.end());
      EXPECT_EQ(seen, expected) << "format " << static_cast<int>(c.format) << ", " << workers
                                << " workers";
    }
  }
}

TEST_F(SparseStreamTest, EveryRowComesOncePerEpochForAnyWindow) {
  Write("part-0", Libsvm(0, 700));
  Write("part-1.gz", Libsvm(700, 150), /*gzip=*/true);
  for (const int64_t window : {1, 5, 64, 100000}) {
    auto s = Open(Shard(TextFormat::kLibsvm), window, 32);
    for (int epoch = 0; epoch < 2; ++epoch) {
      std::vector<uint64_t> ids = Ids(Epoch(*s, epoch));
      std::sort(ids.begin(), ids.end());
      ASSERT_EQ(ids.size(), 850u) << "window " << window;
      for (uint64_t id = 0; id < 850; ++id) ASSERT_EQ(ids[id], id);
    }
  }
  auto s = Open(Shard(TextFormat::kLibsvm), 1000, 50);
  EXPECT_NE(Ids(Epoch(*s, 0)), Ids(Epoch(*s, 1)));  // each epoch its own order
  auto in_order = Open(Shard(TextFormat::kLibsvm), 1000, 50, /*shuffle=*/false);
  const std::vector<uint64_t> ids = Ids(Epoch(*in_order, 0));
  for (uint64_t i = 0; i < 850; ++i) ASSERT_EQ(ids[i], i);
}

TEST_F(SparseStreamTest, TheSameBatchesWhateverTheReadersPaceAndFromTheMiddleOfAnEpoch) {
  Write("a", Libsvm(0, 400));
  Write("b.gz", Libsvm(400, 333), /*gzip=*/true);
  auto reference = Open(Shard(TextFormat::kLibsvm), 57, 20, true, /*block=*/1, /*prefetch=*/1);
  const std::vector<RowKey> all = Epoch(*reference, 2);
  ASSERT_EQ(all.size(), 733u);
  for (const auto& [block, prefetch] : std::vector<std::pair<int64_t, int>>{{7, 3}, {1000, 8}}) {
    auto other = Open(Shard(TextFormat::kLibsvm), 57, 20, true, block, prefetch);
    EXPECT_EQ(Epoch(*other, 2), all) << "block " << block;
    const std::vector<RowKey> rest = Epoch(*other, 2, 13);
    EXPECT_EQ(rest, std::vector<RowKey>(all.begin() + 13 * 20, all.end()));
  }
}

TEST_F(SparseStreamTest, ABadRecordFailsAfterTheBatchesBeforeItOrIsSkippedAndCounted) {
  // Line 329 (28 blank lines before it): a label that is no click.
  Write("part-0", Libsvm(0, 300) + "5 1:0.5 9:1\n" + Libsvm(300, 10));
  auto s = Open(Shard(TextFormat::kLibsvm), 8, 16, /*shuffle=*/false);
  ASSERT_TRUE(s->StartEpoch(0, 0).ok());
  SparseBatch b;
  int64_t rows = 0;
  Status st;
  while ((st = s->Next(&b)).ok() && b.rows() > 0) rows += b.rows();
  EXPECT_EQ(rows, 288);  // 18 whole batches; the 19th reaches the bad record
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("spec.dataset.train: " + dir_ + "/part-0:329: column 1:"));

  // A line that is no LibSVM record, skipped: the rows around it are whole.
  Write("part-0", Libsvm(0, 300) + "1\t2\t3 broken\n" + Libsvm(300, 10));
  TextShardOptions skip = Shard(TextFormat::kLibsvm);
  skip.skip_bad_records = true;
  auto skipping = Open(skip, 8, 16);
  const std::vector<uint64_t> ids = Ids(Epoch(*skipping, 0));
  EXPECT_EQ(ids.size(), 310u);
  EXPECT_EQ(skipping->skipped().count, 1);
  EXPECT_THAT(skipping->skipped().first, HasSubstr("/part-0:329:"));
}

// The second worker's piece starts inside the file: it reads the file's header first, and a
// bad record in it is named by its line in the file, not in the piece.
TEST_F(SparseStreamTest, APieceInsideAFileHasItsHeaderAndNamesTheFilesLine) {
  fields_ = {{.column = "user"}, {.column = "age", .kind = FeatureKind::kNumeric}};
  std::string csv = "user,label,age\n";
  for (int i = 2; i <= 300; ++i) {
    csv += "u" + std::to_string(i) + "," + std::to_string(i % 2) + "," +
           (i == 250 ? std::string("old") : std::to_string(i % 70)) + "\n";
  }
  Write("a.csv", csv);
  TextShardOptions first = Shard(TextFormat::kCsv, 2, 0);
  auto s = Open(first, 8, 16, /*shuffle=*/false);
  const std::vector<RowKey> rows = Epoch(*s, 0);
  ASSERT_GT(rows.size(), 100u);
  EXPECT_EQ(std::get<1>(rows[0]).size(), 2u);  // user and age: the header was read
  auto second = Open(Shard(TextFormat::kCsv, 2, 1), 8, 16, /*shuffle=*/false);
  ASSERT_TRUE(second->StartEpoch(0, 0).ok());
  SparseBatch b;
  Status st;
  int64_t read = 0;
  while ((st = second->Next(&b)).ok() && b.rows() > 0) {
    read += b.rows();
    for (const RowKey& r : RowsOf(b)) EXPECT_EQ(std::get<1>(r).size(), 2u);
  }
  EXPECT_GT(read, 50);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("/a.csv:250: column 3:"));
}

TEST_F(SparseStreamTest, ABadCsvRecordTakesNothingOfTheRowsAroundIt) {
  fields_ = {{.column = "user"},
             {.column = "genres", .separator = "|"},
             {.column = "age", .kind = FeatureKind::kNumeric, .buckets = {18, 30}}};
  // The bad record's first cells parse (entries added) before its last one fails.
  Write("a.csv", "label,user,genres,age\n1,u1,g1|g2,3\n0,u2,g3|g4,old\n1,u3,g5,4\n");
  TextShardOptions skip = Shard(TextFormat::kCsv);
  skip.skip_bad_records = true;
  auto s = Open(skip, 8, 16, /*shuffle=*/false);
  const std::vector<RowKey> rows = Epoch(*s, 0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(std::get<1>(rows[0]).size(), 4u);  // u1, g1, g2 and the age's bucket
  EXPECT_EQ(std::get<1>(rows[1]).size(), 3u);  // u3, g5 and the age's bucket
  EXPECT_EQ(s->skipped().count, 1);
  EXPECT_THAT(s->skipped().first, HasSubstr("/a.csv:3:"));
}

TEST_F(SparseStreamTest, AStreamDroppedWhileItsReaderWaitsStops) {
  Write("part-0", Libsvm(0, 5000));
  auto s = Open(Shard(TextFormat::kLibsvm), 4, 2, true, /*block=*/4, /*prefetch=*/1);
  ASSERT_TRUE(s->StartEpoch(0, 0).ok());
  SparseBatch b;
  ASSERT_TRUE(s->Next(&b).ok());
  EXPECT_EQ(b.rows(), 2);
  ASSERT_TRUE(s->StartEpoch(1, 0).ok());  // stops the first epoch's reader, starts another
  ASSERT_TRUE(s->Next(&b).ok());
  s.reset();  // returns: its reader is stopped
  SUCCEED();
}

}  // namespace
}  // namespace ringtrain::data
