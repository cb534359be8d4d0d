// Row-wise sharding of text part files: every record read by exactly one worker, for 1 to 16
// workers over plain and gzip files of uneven sizes (plain files split at record boundaries,
// gzip files whole); CSV headers in every piece; bad records named by file, line and column,
// also in a piece that starts inside its file, or skipped and counted.
#include "ringtrain/data/text_shard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

namespace ringtrain::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class TextShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ringtrain-textshard-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
  }
  void WriteGzip(const std::string& name, const std::string& text) {
    gzFile f = gzopen((dir_ + "/" + name).c_str(), "wb");
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
  }

  TextShardOptions Options(TextFormat format, int workers, int index) {
    TextShardOptions o;
    o.uri = dir_ + "/";
    o.format = format;
    o.features = 4;
    o.classes = 1000000;
    o.workers = workers;
    o.index = index;
    return o;
  }

  std::string dir_;
  storage::Storage storage_{storage::StorageOptions{}};
};

// Records are "<id> 1:<id>": the label says which record it is.
std::string LibsvmRecords(int first, int count, std::mt19937& rng) {
  std::string out;
  for (int i = first; i < first + count; ++i) {
    out += std::to_string(i) + " 1:" + std::to_string(i);
    // Uneven line lengths, comments and blank lines between records.
    const unsigned extra = rng() % 3;
    for (unsigned k = 1; k <= extra; ++k) out += " " + std::to_string(1 + k) + ":0.5";
    out += rng() % 7 == 0 ? "\n\n# note\n" : "\n";
  }
  return out;
}

TEST_F(TextShardTest, EveryRecordIsReadByExactlyOneWorkerFor1To16Workers) {
  std::mt19937 rng(3);
  int next = 0;
  // Uneven: a big plain file, small ones, an empty one, gzip files, one without a final newline.
  const int sizes[] = {900, 3, 1, 0, 250, 40, 77};
  for (int f = 0; f < 7; ++f) {
    std::string text = LibsvmRecords(next, sizes[f], rng);
    next += sizes[f];
    if (f == 6) text.pop_back();
    const std::string name = "part-" + std::to_string(f);
    if (f == 2 || f == 4) {
      WriteGzip(name + ".gz", text);
    } else {
      Write(name, text);
    }
  }
  for (int workers = 1; workers <= 16; ++workers) {
    std::map<int, int> seen;
    for (int i = 0; i < workers; ++i) {
      StatusOr<TextShard> shard = LoadTextShard(storage_, Options(TextFormat::kLibsvm, workers, i));
      ASSERT_TRUE(shard.ok()) << shard.status().ToString();
      for (const int32_t label : shard->rows.labels) ++seen[label];
      for (int64_t r = 0; r < shard->rows.rows(); ++r) {
        ASSERT_EQ(shard->rows.features(r, 0), static_cast<float>(shard->rows.labels[r]));
      }
    }
    ASSERT_EQ(static_cast<int>(seen.size()), next) << workers << " workers";
    for (const auto& [id, count] : seen) ASSERT_EQ(count, 1) << "record " << id << ", " << workers;
  }
}

TEST_F(TextShardTest, PiecesSplitPlainFilesAndKeepGzipFilesWhole) {
  const std::vector<storage::ObjectInfo> objects = {{"a", 100}, {"b.gz", 50}, {"c", 50}};
  const std::vector<bool> gz = {false, true, false};
  std::vector<Piece> p0 = ShardPieces(objects, gz, 2, 0);
  std::vector<Piece> p1 = ShardPieces(objects, gz, 2, 1);
  ASSERT_EQ(p0.size(), 1u);
  EXPECT_EQ(p0[0], (Piece{{"a", 100}, 0, 100, false}));
  ASSERT_EQ(p1.size(), 2u);
  EXPECT_EQ(p1[0], (Piece{{"b.gz", 50}, 0, 50, true}));
  EXPECT_EQ(p1[1], (Piece{{"c", 50}, 0, 50, false}));
  std::vector<Piece> third = ShardPieces(objects, gz, 3, 1);  // [66, 133)
  ASSERT_EQ(third.size(), 2u);
  EXPECT_EQ(third[0], (Piece{{"a", 100}, 66, 100, false}));
  EXPECT_EQ(third[1], (Piece{{"b.gz", 50}, 0, 50, true}));
}

TEST_F(TextShardTest, CsvHeadersAreReadForEveryPieceAndChecked) {
  std::string csv = "a,b,label,c,d\n";
  for (int i = 0; i < 500; ++i) {
    csv += "0.5," + std::to_string(i) + "," + std::to_string(i) + ",1,2\n";
  }
  Write("train.csv", csv);
  std::map<int, int> seen;
  for (int i = 0; i < 3; ++i) {
    StatusOr<TextShard> shard = LoadTextShard(storage_, Options(TextFormat::kCsv, 3, i));
    ASSERT_TRUE(shard.ok()) << shard.status().ToString();
    for (int64_t r = 0; r < shard->rows.rows(); ++r) {
      EXPECT_EQ(shard->rows.features(r, 1), static_cast<float>(shard->rows.labels[r]));
      ++seen[shard->rows.labels[r]];
    }
  }
  EXPECT_EQ(seen.size(), 500u);
  TextShardOptions wide = Options(TextFormat::kCsv, 3, 2);
  wide.features = 5;
  StatusOr<TextShard> wrong = LoadTextShard(storage_, wide);
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong.status().message(),
              HasSubstr("train.csv:1: the header names 4 feature columns besides the label, "
                        "spec.dataset.features is 5"));
}

// Dynamic sharding's tasks are cut in one pass as ShardPieces would cut them among as many
// workers, over plain and gzip objects of uneven sizes (empty ones included).
TEST_F(TextShardTest, TasksAreCutAsShardsOfAsManyWorkers) {
  std::mt19937 rng(9);
  const int sizes[] = {300, 0, 7, 1, 120, 45, 0, 900};
  int next = 0;
  for (int f = 0; f < 8; ++f) {
    const std::string text = LibsvmRecords(next, sizes[f], rng);
    next += sizes[f];
    const std::string name = "part-" + std::to_string(f);
    if (f == 2 || f == 4 || f == 6) {
      WriteGzip(name + ".gz", text);
    } else {
      Write(name, text);
    }
  }
  StatusOr<std::vector<storage::ObjectInfo>> objects = storage_.List(dir_ + "/");
  ASSERT_TRUE(objects.ok());
  std::vector<bool> gz;
  for (const storage::ObjectInfo& o : *objects) gz.push_back(o.uri.ends_with(".gz"));
  for (const int64_t task_bytes : {int64_t{1}, int64_t{97}, int64_t{1000}, int64_t{1} << 30}) {
    StatusOr<std::vector<std::vector<Piece>>> cut =
        CutTasks(storage_, Options(TextFormat::kLibsvm, 1, 0), task_bytes);
    ASSERT_TRUE(cut.ok()) << cut.status().ToString();
    const int tasks = static_cast<int>(cut->size());
    for (int t = 0; t < tasks; ++t) {
      ASSERT_EQ((*cut)[static_cast<size_t>(t)], ShardPieces(*objects, gz, tasks, t))
          << "task " << t << " of " << tasks << " (" << task_bytes << " bytes each)";
    }
  }
}

// Feature-wise sharding reads a block of columns: the blocks side by side are the whole rows,
// in LibSVM (indices outside the block dropped, but still checked) and CSV.
TEST_F(TextShardTest, ColumnBlocksSideBySideAreTheWholeRows) {
  std::string libsvm;
  std::string csv = "a,b,label,c,d\n";
  for (int i = 0; i < 50; ++i) {
    libsvm +=
        std::to_string(i) + " 1:" + std::to_string(i) + " 3:0.5 4:" + std::to_string(-i) + "\n";
    csv += std::to_string(i) + ".5," + std::to_string(i) + "," + std::to_string(i) + ",1," +
           std::to_string(-i) + "\n";
  }
  for (const TextFormat format : {TextFormat::kLibsvm, TextFormat::kCsv}) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write(format == TextFormat::kLibsvm ? "part-0" : "train.csv",
          format == TextFormat::kLibsvm ? libsvm : csv);
    StatusOr<TextShard> whole = LoadTextShard(storage_, Options(format, 1, 0));
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    ASSERT_EQ(whole->rows.cols(), 4);
    const int64_t edges[][2] = {{0, 1}, {1, 3}, {3, 4}};
    for (const auto& [begin, end] : edges) {
      TextShardOptions block = Options(format, 1, 0);
      block.column_begin = begin;
      block.column_end = end;
      StatusOr<TextShard> part = LoadTextShard(storage_, block);
      ASSERT_TRUE(part.ok()) << part.status().ToString();
      ASSERT_EQ(part->rows.cols(), end - begin);
      ASSERT_EQ(part->rows.labels, whole->rows.labels);
      for (int64_t r = 0; r < whole->rows.rows(); ++r) {
        for (int64_t c = begin; c < end; ++c) {
          ASSERT_EQ(part->rows.features(r, c - begin), whole->rows.features(r, c))
              << "row " << r << ", column " << c;
        }
      }
    }
  }
  TextShardOptions outside = Options(TextFormat::kCsv, 1, 0);
  outside.column_begin = 2;
  outside.column_end = 5;
  EXPECT_EQ(LoadTextShard(storage_, outside).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TextShardTest, BadRecordsAreNamedByFileAndLineEvenInsideAFileOrSkippedAndCounted) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += std::to_string(i % 2) + " 1:1 3:0.5\n";
  text += "1 2:nan\n";  // line 401
  for (int i = 0; i < 99; ++i) text += "0 1:1\n";
  text += "1 9:1\n";  // line 501: index beyond 4 features
  Write("part-0", text);
  // Worker 1 of 2 starts inside the file: its lines are still counted from the file's start.
  StatusOr<TextShard> failed = LoadTextShard(storage_, Options(TextFormat::kLibsvm, 2, 1));
  EXPECT_EQ(failed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(failed.status().message(),
              HasSubstr("part-0:401: column 2: 'nan' is not a finite number"));
  TextShardOptions skip = Options(TextFormat::kLibsvm, 2, 1);
  skip.skip_bad_records = true;
  StatusOr<TextShard> skipped = LoadTextShard(storage_, skip);
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(skipped->skipped, 2);
  ASSERT_EQ(skipped->skipped_examples.size(), 2u);
  EXPECT_THAT(skipped->skipped_examples[1],
              HasSubstr("part-0:501: column 2: index 9 is beyond the 4 features (index base 1)"));
  // The line reader's own errors are numbered from the file's start too.
  std::string binary;
  for (int i = 0; i < 600; ++i) binary += i == 449 ? std::string("1 1:\0\n", 6) : "0 1:1\n";
  Write("part-0", binary);
  StatusOr<TextShard> nul = LoadTextShard(storage_, Options(TextFormat::kLibsvm, 2, 1));
  EXPECT_EQ(nul.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(nul.status().message(), HasSubstr("part-0:450: a NUL byte"));
  // Labels that are not classes.
  Write("part-0", "0 1:1\n2 1:1\n");
  TextShardOptions two = Options(TextFormat::kLibsvm, 1, 0);
  two.classes = 2;
  StatusOr<TextShard> label = LoadTextShard(storage_, two);
  EXPECT_THAT(label.status().message(),
              HasSubstr("part-0:2: column 1: the label 2 is not a class (0 to 1, or -1 and +1)"));
}

TEST_F(TextShardTest, BrokenFilesNameTheFile) {
  WriteGzip("a.gz", std::string(100000, '1') + " 1:1\n");
  std::string gz;
  {
    std::ifstream in(dir_ + "/a.gz", std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(in), {});
  }
  Write("a.gz", gz.substr(0, gz.size() - 20));
  StatusOr<TextShard> truncated = LoadTextShard(storage_, Options(TextFormat::kLibsvm, 1, 0));
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(truncated.status().message(), HasSubstr("a.gz:1: truncated gzip stream"));
  fs::remove(dir_ + "/a.gz");
  Write("b", "1 1:1\n" + std::string(2 << 20, '1') + "\n");
  StatusOr<TextShard> long_line = LoadTextShard(storage_, Options(TextFormat::kLibsvm, 1, 0));
  EXPECT_EQ(long_line.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(long_line.status().message(), HasSubstr("/b:2: a line longer than 1048576 bytes"));
  fs::remove(dir_ + "/b");
  StatusOr<TextShard> none = LoadTextShard(storage_, Options(TextFormat::kLibsvm, 1, 0));
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ringtrain::data
