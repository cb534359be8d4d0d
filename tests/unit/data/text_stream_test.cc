// TextStream (data/text_stream.h): every record exactly once per epoch through the shuffle
// window, whatever its size; the same batches whatever the reader thread's timing (block and
// queue sizes), and from the middle of an epoch (what a worker that continues from a
// checkpoint gets); a row never moves more than the window's rows earlier than it was read; a
// bad record's error after the batches before it; skipped records counted; a stream dropped
// while its reader waits on a full queue stops.
#include "ringtrain/data/text_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace ringtrain::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class TextStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ringtrain-textstream-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Records first..first+count-1 as "<id> 1:<id> 2:<id % 7>": the label says which it is.
  void WriteRecords(const std::string& name, int first, int count, bool gzip = false) {
    std::string text;
    for (int i = first; i < first + count; ++i) {
      text += std::to_string(i) + " 1:" + std::to_string(i) + " 2:" + std::to_string(i % 7) +
              (i % 11 == 0 ? "\n\n" : "\n");
    }
    const std::string path = dir_ + "/" + name;
    if (gzip) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary) << text;
    }
  }

  TextShardOptions Shard(int workers = 1, int index = 0) {
    TextShardOptions o;
    o.uri = dir_ + "/";
    o.format = TextFormat::kLibsvm;
    o.features = 3;
    o.classes = 1000000;
    o.workers = workers;
    o.index = index;
    return o;
  }

  std::unique_ptr<TextStream> Open(const TextShardOptions& shard, int64_t window, int64_t batch,
                                   bool shuffle = true, int64_t block = 16, int prefetch = 2) {
    StatusOr<TextShardPlan> plan = PlanTextShard(storage_, shard, true);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    TextStreamOptions o;
    o.shard = shard;
    o.pieces = plan->pieces;
    o.seed = 7;
    o.shuffle = shuffle;
    o.worker = shard.index;
    o.batch_rows = batch;
    o.window_rows = window;
    o.block_rows = block;
    o.prefetch_blocks = prefetch;
    o.field = "spec.dataset.train";
    return std::make_unique<TextStream>(&storage_, std::move(o));
  }

  // Every label of epoch `epoch` from step `step` on, in order (batches until one is empty).
  static std::vector<int32_t> Epoch(TextStream& s, int epoch, int64_t step = 0) {
    std::vector<int32_t> labels;
    EXPECT_TRUE(s.StartEpoch(epoch, step).ok());
    Batch b;
    while (true) {
      Status st = s.Next(&b);
      EXPECT_TRUE(st.ok()) << st.ToString();
      if (!st.ok() || b.rows == 0) return labels;
      for (int64_t r = 0; r < b.rows; ++r) {
        EXPECT_EQ(b.x(r, 0), static_cast<float>(b.labels[static_cast<size_t>(r)]));
        EXPECT_EQ(b.x(r, 1), static_cast<float>(b.labels[static_cast<size_t>(r)] % 7));
        labels.push_back(b.labels[static_cast<size_t>(r)]);
      }
    }
  }

  std::string dir_;
  storage::Storage storage_{storage::StorageOptions{}};
};

TEST_F(TextStreamTest, EveryRecordComesOncePerEpochForAnyWindowAndWorkers) {
  WriteRecords("part-0", 0, 700);
  WriteRecords("part-1.gz", 700, 150, /*gzip=*/true);
  WriteRecords("part-2", 850, 3);
  for (const int64_t window : {1, 5, 64, 100000}) {
    for (const int workers : {1, 3}) {
      std::multiset<int32_t> seen;
      for (int i = 0; i < workers; ++i) {
        auto s = Open(Shard(workers, i), window, 32);
        for (int epoch = 0; epoch < 2; ++epoch) {
          for (const int32_t l : Epoch(*s, epoch)) {
            if (epoch == 1) seen.insert(l);
          }
        }
      }
      ASSERT_EQ(seen.size(), 853u) << "window " << window << ", " << workers << " workers";
      for (int id = 0; id < 853; ++id) ASSERT_EQ(seen.count(id), 1u) << id;
    }
  }
}

TEST_F(TextStreamTest, EpochsDifferAndAWholeWindowShufflesAcrossTheShard) {
  WriteRecords("part-0", 0, 500);
  auto s = Open(Shard(), 1000, 50);
  const std::vector<int32_t> first = Epoch(*s, 0);
  const std::vector<int32_t> second = Epoch(*s, 1);
  ASSERT_EQ(first.size(), 500u);
  EXPECT_NE(first, second);
  // The first batch draws from the whole shard: some of its rows come from the second half.
  EXPECT_GT(*std::max_element(first.begin(), first.begin() + 50), 250);
  auto unshuffled = Open(Shard(), 1000, 50, /*shuffle=*/false);
  const std::vector<int32_t> in_order = Epoch(*unshuffled, 0);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(in_order[static_cast<size_t>(i)], i);
}

TEST_F(TextStreamTest, ARowIsTakenAtMostTheWindowEarlierThanItWasRead) {
  WriteRecords("part-0", 0, 2000);
  const int64_t window = 40;
  auto s = Open(Shard(), window, 10);
  const std::vector<int32_t> order = Epoch(*s, 3);
  ASSERT_EQ(order.size(), 2000u);
  for (size_t p = 0; p < order.size(); ++p) {
    // At position p, p + window rows have been read at most.
    ASSERT_LT(order[p], static_cast<int32_t>(p) + window) << "position " << p;
  }
}

TEST_F(TextStreamTest, TheSameBatchesWhateverTheReadersPaceAndFromTheMiddleOfAnEpoch) {
  WriteRecords("a", 0, 400);
  WriteRecords("b.gz", 400, 333, /*gzip=*/true);
  WriteRecords("c", 733, 91);
  auto reference = Open(Shard(), 57, 20, true, /*block=*/1, /*prefetch=*/1);
  const std::vector<int32_t> all = Epoch(*reference, 2);
  for (const auto& [block, prefetch] : std::vector<std::pair<int64_t, int>>{{7, 3}, {1000, 8}}) {
    auto other = Open(Shard(), 57, 20, true, block, prefetch);
    EXPECT_EQ(Epoch(*other, 2), all) << "block " << block;
    // From step 13: the rows after the first 13 batches of 20.
    const std::vector<int32_t> rest = Epoch(*other, 2, 13);
    EXPECT_EQ(rest, std::vector<int32_t>(all.begin() + 13 * 20, all.end()));
  }
}

TEST_F(TextStreamTest, ABadRecordFailsAfterTheBatchesBeforeItOrIsSkippedAndCounted) {
  WriteRecords("part-0", 0, 300);
  {
    std::ofstream part(dir_ + "/part-0", std::ios::app);
    part << "5 1:0.5 9:1\n";  // line 329 (28 blank lines before); index 9 of 3 features
  }
  auto s = Open(Shard(), 8, 16, /*shuffle=*/false);
  ASSERT_TRUE(s->StartEpoch(0, 0).ok());
  Batch b;
  int64_t rows = 0;
  Status st;
  while ((st = s->Next(&b)).ok() && b.rows > 0) rows += b.rows;
  EXPECT_EQ(rows, 288);  // 18 whole batches; the 19th reaches the bad record
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("spec.dataset.train: " + dir_ + "/part-0:329: column 3:"));

  TextShardOptions skip = Shard();
  skip.skip_bad_records = true;
  auto skipping = Open(skip, 8, 16);
  EXPECT_EQ(Epoch(*skipping, 0).size(), 300u);
  EXPECT_EQ(skipping->skipped().count, 1);
  EXPECT_THAT(skipping->skipped().first, HasSubstr("/part-0:329: column 3:"));
}

TEST_F(TextStreamTest, TheCountingPassCountsRecordLinesOnly) {
  WriteRecords("part-0", 0, 300);  // with blank lines
  {
    std::ofstream part(dir_ + "/part-0", std::ios::app);
    part << "# a comment\n  \n";
  }
  StatusOr<TextShardPlan> plan = PlanTextShard(storage_, Shard(), /*count=*/true);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->records, 300);
  int64_t total = 0;
  for (int i = 0; i < 4; ++i) {
    StatusOr<TextShardPlan> part = PlanTextShard(storage_, Shard(4, i), /*count=*/true);
    ASSERT_TRUE(part.ok());
    total += part->records;
  }
  EXPECT_EQ(total, 300);
}

TEST_F(TextStreamTest, AStreamDroppedWhileItsReaderWaitsStops) {
  WriteRecords("part-0", 0, 5000);
  auto s = Open(Shard(), 4, 2, true, /*block=*/4, /*prefetch=*/1);
  ASSERT_TRUE(s->StartEpoch(0, 0).ok());
  Batch b;
  ASSERT_TRUE(s->Next(&b).ok());
  EXPECT_EQ(b.rows, 2);
  ASSERT_TRUE(s->StartEpoch(1, 0).ok());  // stops the first epoch's reader, starts another
  ASSERT_TRUE(s->Next(&b).ok());
  s.reset();  // returns: its reader is stopped
  SUCCEED();
}

}  // namespace
}  // namespace ringtrain::data
