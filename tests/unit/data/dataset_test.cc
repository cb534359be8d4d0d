#include "ringtrain/data/dataset.h"

#include <vector>

#include <gtest/gtest.h>

namespace ringtrain::data {
namespace {

// 5 rows x 3 features: feature j of row i is 10*i + j; label of row i is i % 3.
Dataset Small() {
  Dataset d;
  d.features.resize(5, 3);
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 3; ++j) d.features(i, j) = static_cast<float>(10 * i + j);
    d.labels.push_back(i % 3);
  }
  d.num_classes = 3;
  return d;
}

TEST(DatasetTest, ViewBorrowsRows) {
  const Dataset d = Small();
  const BatchView v = View(d, {1, 4});
  EXPECT_EQ(v.rows(), 3);
  EXPECT_EQ(v.x.cols(), 3);
  EXPECT_EQ(v.x.data(), d.features.data() + 3);
  EXPECT_EQ(v.x(0, 0), 10.0f);
  EXPECT_EQ(v.x(2, 2), 32.0f);
  EXPECT_EQ(v.labels, d.labels.data() + 1);
  EXPECT_EQ(View(d, {5, 5}).rows(), 0);
}

TEST(DatasetTest, TakeRowsCopiesARange) {
  const Dataset d = Small();
  const Dataset s = TakeRows(d, {2, 5});
  EXPECT_EQ(s.rows(), 3);
  EXPECT_EQ(s.cols(), 3);
  EXPECT_EQ(s.num_classes, 3);
  EXPECT_EQ(s.labels, (std::vector<int32_t>{2, 0, 1}));
  EXPECT_EQ(s.features(0, 1), 21.0f);
  EXPECT_EQ(s.features(2, 0), 40.0f);
  EXPECT_NE(s.features.data(), d.features.data() + 6);
  EXPECT_EQ(TakeRows(d, {0, 0}).rows(), 0);
}

TEST(DatasetTest, GatherRowsInOrderAndReusesStorage) {
  const Dataset d = Small();
  Batch b;
  const std::vector<int64_t> first = {4, 0, 2, 2};
  GatherRows(d, first, &b);
  ASSERT_EQ(b.rows, 4);
  const BatchView v = b.view();
  ASSERT_EQ(v.rows(), 4);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_EQ(v.x(i, j), d.features(first[i], j)) << i << "," << j;
    EXPECT_EQ(v.labels[i], d.labels[first[i]]);
  }
  // A smaller batch reuses the same storage.
  const float* storage = b.x.data();
  const std::vector<int64_t> second = {3};
  GatherRows(d, second, &b);
  EXPECT_EQ(b.x.data(), storage);
  const BatchView one = b.view();  // BatchView is not assignable (it holds an Eigen::Map)
  ASSERT_EQ(one.rows(), 1);
  EXPECT_EQ(one.x(0, 2), 32.0f);
  EXPECT_EQ(one.labels[0], 0);
  // An empty batch (a worker whose shard is used up) is valid.
  GatherRows(d, std::span<const int64_t>(), &b);
  EXPECT_EQ(b.view().rows(), 0);
  // A larger one grows it.
  const std::vector<int64_t> third = {0, 1, 2, 3, 4, 0};
  GatherRows(d, third, &b);
  EXPECT_EQ(b.view().rows(), 6);
  EXPECT_EQ(b.view().x(5, 1), 1.0f);
}

TEST(DatasetDeathTest, GatherRowsRejectsOutOfRangeIndex) {
  const Dataset d = Small();
  Batch b;
  const std::vector<int64_t> bad = {5};
  EXPECT_DEATH(GatherRows(d, bad, &b), "invariant violated");
}

}  // namespace
}  // namespace ringtrain::data
