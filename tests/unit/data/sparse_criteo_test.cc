// ReadSparseCriteo: Criteo's click logs as click-through rows (data/sparse_data.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ringtrain/data/sparse_data.h"
#include "ringtrain/data/text_records.h"

namespace ringtrain::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Criteo's click logs: 13 integer columns bucketed into keys of fields 0-12, 26 categorical
// columns hashed into CriteoKeys of fields 13-38; empty columns give no entry.
TEST(ReadSparseCriteoTest, IntegerColumnsAreBucketedAndCategoricalOnesHashed) {
  EXPECT_EQ(CriteoIntegerBucket(-1), -1);
  EXPECT_EQ(CriteoIntegerBucket(2), 2);
  EXPECT_EQ(CriteoIntegerBucket(3), 1);                       // floor(ln(3)^2) = floor(1.207)
  EXPECT_EQ(CriteoIntegerBucket(100), 21);                    // floor(4.605^2) = floor(21.21)
  EXPECT_NE(CriteoIntegerKey(0, 5), CriteoIntegerKey(1, 5));  // field-aware
  EXPECT_EQ(CriteoIntegerKey(0, 3), CriteoIntegerKey(0, 4));  // the same bucket: 1
  EXPECT_EQ(CriteoIntegerKey(12, -1) >> 56, 27u + 12u);
  const std::string dir = ::testing::TempDir() + "/sparse-criteo-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  // Label, I1 = 3, I2 = -1, I3..I13 empty; C1 = 68fd1e64, C2 empty, C3 = 05db9164, C4..C26 empty.
  std::string line =
      "1\t3\t-1" + std::string(11, '\t') + "\t68fd1e64\t\t05db9164" + std::string(23, '\t');
  std::ofstream(dir + "/day-0") << line << "\n"
                                << "0" << std::string(39, '\t') << "\n";
  storage::Storage storage{storage::StorageOptions{}};
  StatusOr<SparseBatch> all = ReadSparseCriteo(&storage, dir + "/day-0");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_THAT(all->labels, ElementsAre(1.0f, 0.0f));
  EXPECT_THAT(all->offsets, ElementsAre(0, 4, 4));  // the second row has no value at all
  EXPECT_THAT(all->fields, ElementsAre(0u, 1u, 13u, 15u));
  EXPECT_THAT(all->keys, ElementsAre(CriteoIntegerKey(0, 3), CriteoIntegerKey(1, -1),
                                     CriteoKey(0, "68fd1e64"), CriteoKey(2, "05db9164")));
  EXPECT_THAT(all->values, ElementsAre(1.0f, 1.0f, 1.0f, 1.0f));

  std::ofstream(dir + "/day-0", std::ios::app) << "1\t3\n";
  all = ReadSparseCriteo(&storage, dir + "/day-0");
  ASSERT_FALSE(all.ok());
  EXPECT_THAT(all.status().message(), HasSubstr("day-0:3: "));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringtrain::data
