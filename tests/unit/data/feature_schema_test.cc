#include "ringtrain/data/feature_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "ringtrain/common/hash.h"
#include "ringtrain/data/sparse_data.h"
#include "ringtrain/data/text_records.h"

namespace ringtrain::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

FeatureField Categorical(std::string column) { return FeatureField{.column = std::move(column)}; }

FeatureField Numeric(std::string column, std::vector<double> buckets = {}) {
  FeatureField f{.column = std::move(column)};
  f.kind = FeatureKind::kNumeric;
  f.buckets = std::move(buckets);
  return f;
}

FeatureField MultiValued(std::string column, std::string separator, FeatureCombiner combiner) {
  FeatureField f{.column = std::move(column)};
  f.separator = std::move(separator);
  f.combiner = combiner;
  return f;
}

SparseCsvParser MakeParser(const std::vector<FeatureField>& fields, const std::string& header,
                           const std::string& label = "label") {
  StatusOr<SparseCsvParser> parser = SparseCsvParser::Make(fields, header, label);
  EXPECT_TRUE(parser.ok()) << parser.status().ToString();
  return std::move(*parser);
}

TEST(FeatureKeyTest, IsFieldAwareAndMatchesTheCriteoKey) {
  EXPECT_EQ(FeatureKey(0, "abc", 0), CriteoKey(0, "abc"));
  EXPECT_EQ(FeatureKey(7, "abc", 0), CriteoKey(7, "abc"));
  EXPECT_NE(FeatureKey(0, "abc", 0), FeatureKey(1, "abc", 0));
  EXPECT_EQ(FeatureKey(2, "abc", 0) >> 56, 3u);
  EXPECT_EQ(FeatureKey(254, "x", 0) >> 56, 255u);
}

TEST(FeatureKeyTest, AHashSpaceBoundsTheKeysOfAField) {
  std::set<uint64_t> keys;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t key = FeatureKey(4, "value-" + std::to_string(i), 10);
    EXPECT_EQ(key >> 56, 5u);
    EXPECT_LT(key & ((uint64_t{1} << 56) - 1), 10u);
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), 10u);  // 1000 values share the 10 keys
  EXPECT_EQ(FeatureKey(4, "a", 10), (uint64_t{5} << 56) | ScaleToRange(Hash64("a"), 10));
}

TEST(SparseCsvParserTest, CategoricalFieldsGiveOneKeyOfWeightOneAndSkipOtherColumns) {
  const SparseCsvParser parser =
      MakeParser({Categorical("user"), Categorical("item")}, "label,user,ignored,item");
  SparseBatch batch;
  ASSERT_TRUE(parser.Parse("1,u7,whatever,\"i9\"", &batch).ok());
  ASSERT_TRUE(parser.Parse("0, u8 ,x,", &batch).ok());  // spaces trimmed; an empty item
  EXPECT_THAT(batch.labels, ElementsAre(1.0f, 0.0f));
  EXPECT_THAT(batch.offsets, ElementsAre(0, 2, 3));
  EXPECT_THAT(batch.keys,
              ElementsAre(FeatureKey(0, "u7", 0), FeatureKey(1, "i9", 0), FeatureKey(0, "u8", 0)));
  EXPECT_THAT(batch.fields, ElementsAre(0u, 1u, 0u));
  EXPECT_THAT(batch.values, ElementsAre(1.0f, 1.0f, 1.0f));
}

TEST(SparseCsvParserTest, MultiValuedFieldsShareTheirWeightOrSumIt) {
  const SparseCsvParser parser = MakeParser({MultiValued("genres", "|", FeatureCombiner::kMean),
                                             MultiValued("tags", " ", FeatureCombiner::kSum)},
                                            "genres,tags,label");
  SparseBatch batch;
  ASSERT_TRUE(parser.Parse("Comedy|Drama||War,a  b,-1", &batch).ok());
  EXPECT_THAT(batch.labels, ElementsAre(0.0f));
  EXPECT_THAT(batch.keys,
              ElementsAre(FeatureKey(0, "Comedy", 0), FeatureKey(0, "Drama", 0),
                          FeatureKey(0, "War", 0), FeatureKey(1, "a", 0), FeatureKey(1, "b", 0)));
  const float third = 1.0f / 3.0f;
  EXPECT_THAT(batch.values, ElementsAre(third, third, third, 1.0f, 1.0f));
  // One value weighs 1 whatever the combiner.
  ASSERT_TRUE(parser.Parse("Drama,,1", &batch).ok());
  EXPECT_EQ(batch.values.back(), 1.0f);
  EXPECT_EQ(batch.offsets.back() - batch.offsets[1], 1);
}

TEST(SparseCsvParserTest, NumericFieldsAreValuesOrBuckets) {
  const SparseCsvParser parser =
      MakeParser({Numeric("price"), Numeric("age", {18, 25, 35})}, "label,price,age");
  SparseBatch batch;
  ASSERT_TRUE(parser.Parse("1,2.5,17", &batch).ok());
  ASSERT_TRUE(parser.Parse("0,-1,18", &batch).ok());  // a boundary is in the bucket above it
  ASSERT_TRUE(parser.Parse("0,,99", &batch).ok());    // no price: no entry
  EXPECT_THAT(batch.keys,
              ElementsAre(FeatureKey(0, "", 0), FeatureKey(1, "#0", 0), FeatureKey(0, "", 0),
                          FeatureKey(1, "#1", 0), FeatureKey(1, "#3", 0)));
  EXPECT_THAT(batch.values, ElementsAre(2.5f, 1.0f, -1.0f, 1.0f, 1.0f));
}

TEST(SparseCsvParserTest, ABadRecordNamesItsColumnAndLeavesTheBatchAsItWas) {
  const SparseCsvParser parser =
      MakeParser({Categorical("user"), Numeric("age")}, "label,user,age");
  SparseBatch batch;
  ASSERT_TRUE(parser.Parse("1,u1,30", &batch).ok());
  const SparseBatch before = batch;
  const auto error = [&](const std::string& line) {
    const Status s = parser.Parse(line, &batch);
    EXPECT_FALSE(s.ok()) << line;
    EXPECT_EQ(batch.keys, before.keys) << line;
    EXPECT_EQ(batch.labels, before.labels) << line;
    return s.message();
  };
  EXPECT_THAT(error("1,u2,old"), HasSubstr("column 3: 'old' is not a number"));
  EXPECT_THAT(error("2,u2,30"), HasSubstr("column 1: label '2' is not 0, 1 or -1"));
  EXPECT_THAT(error("x,u2,30"), HasSubstr("column 1: 'x' is not a number"));
  EXPECT_THAT(error("1,u2"), HasSubstr("column 3: missing"));
  EXPECT_THAT(error("1,u2,30,4"), HasSubstr("column 4: more than the header's 3 columns"));
  EXPECT_THAT(error("1,u2,nan"), HasSubstr("column 3"));
}

TEST(SparseCsvParserTest, TheSchemaMustFitTheHeader) {
  const auto make_error = [](const std::vector<FeatureField>& fields, const std::string& header,
                             const std::string& label = "label") {
    StatusOr<SparseCsvParser> p = SparseCsvParser::Make(fields, header, label);
    EXPECT_FALSE(p.ok()) << header;
    return p.ok() ? std::string() : p.status().message();
  };
  EXPECT_THAT(make_error({Categorical("user"), Categorical("itme")}, "label,user,item"),
              HasSubstr("fields[1].column: the header has no column 'itme'"));
  EXPECT_THAT(make_error({Categorical("label")}, "label,user"),
              HasSubstr("fields[0].column: 'label' is the label column"));
  EXPECT_THAT(make_error({Categorical("user"), Numeric("user")}, "label,user"),
              HasSubstr("fields[1].column: 'user' is fields[0]'s column already"));
  EXPECT_THAT(make_error({Categorical("user")}, "user,item", "clicked"),
              HasSubstr("no label column 'clicked'"));
  EXPECT_THAT(make_error({}, "label,user"), HasSubstr("fields: must have 1 to 255 fields"));
  EXPECT_THAT(make_error({Numeric("age", {30, 20})}, "label,age"),
              HasSubstr("fields[0].buckets: boundaries must be finite and ascending"));
  // The label by position.
  const SparseCsvParser by_index = MakeParser({Categorical("user")}, "user,clicked", "#2");
  SparseBatch batch;
  ASSERT_TRUE(by_index.Parse("u1,1", &batch).ok());
  EXPECT_THAT(batch.labels, ElementsAre(1.0f));
}

TEST(ReadSparseCsvTest, ReadsEveryFileWithItsOwnHeaderAndNamesTheLineOfABadRecord) {
  const std::string dir = ::testing::TempDir() + "/sparse-csv-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/part-0.csv") << "label,user\n1,a\n\n0,b\n";
  std::ofstream(dir + "/part-1.csv") << "user,label\nc,1\n";  // columns in another order
  storage::Storage storage{storage::StorageOptions{}};
  const std::vector<FeatureField> fields = {Categorical("user")};
  StatusOr<SparseBatch> all = ReadSparseCsv(&storage, dir + "/", fields, "label");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_THAT(all->labels, ElementsAre(1.0f, 0.0f, 1.0f));
  EXPECT_THAT(all->keys,
              ElementsAre(FeatureKey(0, "a", 0), FeatureKey(0, "b", 0), FeatureKey(0, "c", 0)));

  std::ofstream(dir + "/part-2.csv") << "label,user\n1,d\n7,e\n";
  all = ReadSparseCsv(&storage, dir + "/", fields, "label");
  ASSERT_FALSE(all.ok());
  EXPECT_THAT(all.status().message(), HasSubstr("part-2.csv:3: column 1: label '7'"));
  std::ofstream(dir + "/part-2.csv") << "label,usr\n1,d\n";
  all = ReadSparseCsv(&storage, dir + "/", fields, "label");
  ASSERT_FALSE(all.ok());
  EXPECT_THAT(all.status().message(),
              HasSubstr("part-2.csv:1: fields[0].column: the header has no column 'user'"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringtrain::data
