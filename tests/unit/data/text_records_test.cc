#include "ringtrain/data/text_records.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ringtrain/common/hash.h"

namespace ringtrain::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(LibsvmParserTest, LabelsIndicesAndValuesWithQidAndComments) {
  LibsvmParser p(/*index_base=*/1, /*num_features=*/784);
  TextRecord r;
  ASSERT_TRUE(p.Parse("+1 qid:3 1:0.5 7:-2e-3\t784:1   # a comment: 9:9", &r).ok());
  EXPECT_EQ(r.label, 1.0f);
  EXPECT_THAT(r.indices, ElementsAre(0u, 6u, 783u));
  EXPECT_THAT(r.values, ElementsAre(0.5f, -2e-3f, 1.0f));
  ASSERT_TRUE(p.Parse("+1 2:1e-50 3:+2.5", &r).ok()) << "too small for a float is 0";
  EXPECT_THAT(r.values, ElementsAre(0.0f, 2.5f));
  ASSERT_TRUE(p.Parse("-1", &r).ok()) << "no features";
  EXPECT_EQ(r.label, -1.0f);
  EXPECT_TRUE(r.indices.empty());
  LibsvmParser zero_based(0, 0);
  ASSERT_TRUE(zero_based.Parse("3 0:1 18446744073709551615:2", &r).ok()) << "unchecked width";
  EXPECT_THAT(r.indices, ElementsAre(0u, 18446744073709551615u));
}

TEST(LibsvmParserTest, MalformedRecordsNameTheColumnAndTheProblem) {
  LibsvmParser p(1, 784);
  TextRecord r;
  const std::pair<std::string, std::string> cases[] = {
      {"", "an empty record"},
      {"   # only a comment", "an empty record"},
      {"abc 1:2", "column 1: 'abc' is not a number"},
      {"nan 1:2", "column 1: 'nan' is not a finite number"},
      {"1 5:nan", "column 2: 'nan' is not a finite number"},
      {"1 5:inf", "is not a finite number"},
      {"1 5:1e99", "out of the range of a float"},
      {"1 5", "column 2: '5' is not <index>:<value>"},
      {"1 x:1", "column 2: index 'x' is not a non-negative integer"},
      {"1 -3:1", "index '-3' is not a non-negative integer"},
      {"1 0:1", "column 2: index 0 is below the index base 1"},
      {"1 785:1", "column 2: index 785 is beyond the 784 features (index base 1)"},
      {"1 3:1 3:2", "column 3: index 3 after 3: indices must ascend"},
      {"1 9:1 2:2", "column 3: index 2 after 9: indices must ascend"},
      {"1 2:", "column 2: an empty value"},
      {"1 2:0x1p3", "is not a number"},
      {"1 2:\xff\xfe",
       "column 2: '?"
       "?' is not a number"},
      {"1 2:+-1", "column 2: '+-1' is not a number"},
  };
  for (const auto& [line, message] : cases) {
    const Status s = p.Parse(line, &r);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << line;
    EXPECT_THAT(s.message(), HasSubstr(message)) << line;
  }
}

TEST(CsvTest, HeaderChoosesTheLabelByNameOrIndexAndRecordsFollowIt) {
  StatusOr<CsvSchema> schema = ParseCsvHeader("f0, \"label\" ,f1,f2", "label");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ(schema->label_column, 1);
  EXPECT_EQ(schema->features(), 3);
  CsvParser p(*schema);
  TextRecord r;
  ASSERT_TRUE(p.Parse("0.5,3,\"-1\", 2e1", &r).ok());
  EXPECT_EQ(r.label, 3.0f);
  EXPECT_THAT(r.dense, ElementsAre(0.5f, -1.0f, 20.0f));
  StatusOr<CsvSchema> by_index = ParseCsvHeader("y,a,b", "#1");
  ASSERT_TRUE(by_index.ok());
  EXPECT_EQ(by_index->label_column, 0);
}

TEST(CsvTest, BadHeadersAndRecordsAreNamed) {
  const std::pair<std::pair<std::string, std::string>, std::string> headers[] = {
      {{"only", "only"}, "the header has 1 column"},
      {{"a,,b", "a"}, "column 2: the header names no column here"},
      {{"a,b,a", "a"}, "column 3: the header names 'a' twice"},
      {{"a,b", "y"}, "the header has no label column 'y'"},
      {{"a,b", "#3"}, "label column #3 is not one of the 2 columns"},
  };
  for (const auto& [in, message] : headers) {
    StatusOr<CsvSchema> s = ParseCsvHeader(in.first, in.second);
    EXPECT_FALSE(s.ok()) << in.first;
    EXPECT_THAT(s.status().message(), HasSubstr(message)) << in.first;
  }
  CsvParser p(*ParseCsvHeader("y,a,b", "y"));
  TextRecord r;
  const std::pair<std::string, std::string> records[] = {
      {"1,2", "column 3: missing (2 columns, the header has 3)"},
      {"1,2,3,4", "column 4: more than the header's 3 columns"},
      {"1,,3", "column 2: an empty value"},
      {"1,2,NaN", "column 3: 'NaN' is not a finite number"},
      {"1,2,abc", "column 3: 'abc' is not a number"},
      {"", "column 1: an empty value"},
  };
  for (const auto& [line, message] : records) {
    const Status s = p.Parse(line, &r);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << line;
    EXPECT_THAT(s.message(), HasSubstr(message)) << line;
  }
}

std::string CriteoLine(const std::string& label, const std::string& ints, const std::string& cats) {
  return label + "\t" + ints + "\t" + cats;
}

TEST(CriteoTest, IntegersWithGapsAndFieldAwareKeys) {
  std::string ints = "1\t\t-3";
  for (int i = 3; i < 13; ++i) ints += "\t" + std::to_string(i);
  std::string cats = "68fd1e64";
  for (int i = 1; i < 26; ++i) cats += i == 5 ? "\t" : "\t68fd1e64";
  CriteoParser p;
  TextRecord r;
  ASSERT_TRUE(p.Parse(CriteoLine("1", ints, cats), &r).ok());
  EXPECT_EQ(r.label, 1.0f);
  ASSERT_EQ(r.dense.size(), 13u);
  EXPECT_EQ(r.dense[0], 1.0f);
  EXPECT_EQ(r.dense[1], 0.0f);
  EXPECT_EQ(r.dense[2], -3.0f);
  EXPECT_EQ(r.present, 0x1fffu & ~2u) << "I2 was empty";
  ASSERT_EQ(r.keys.size(), 25u) << "C6 was empty";
  // The same value in two columns gives two keys; the column is in the top byte.
  EXPECT_NE(r.keys[0], r.keys[1]);
  EXPECT_EQ(r.keys[0] >> 56, 1u);
  EXPECT_EQ(r.keys[1] >> 56, 2u);
  EXPECT_EQ(r.keys[0], CriteoKey(0, "68fd1e64"));
  // Stable across machines and releases: the documented function's value.
  EXPECT_EQ(CriteoKey(0, "68fd1e64"), (uint64_t{1} << 56) | (Hash64("68fd1e64") >> 8));
}

TEST(CriteoTest, MalformedLinesAreNamed) {
  std::string ints = "1";
  for (int i = 1; i < 13; ++i) ints += "\t1";
  std::string cats = "a";
  for (int i = 1; i < 26; ++i) cats += "\tb";
  CriteoParser p;
  TextRecord r;
  const std::pair<std::string, std::string> cases[] = {
      {CriteoLine("2", ints, cats), "column 1: the label '2' is not 0 or 1"},
      {CriteoLine("1", "x" + ints.substr(1), cats), "column 2: 'x' is not an integer"},
      {CriteoLine("1", ints, cats + "\tc"), "column 41: more than 40 tab-separated columns"},
      {CriteoLine("1", ints, "a\tb"),
       "column 17: missing (16 tab-separated columns, Criteo has 40)"},
      {CriteoLine("1", ints, "\xc3\x28" + cats.substr(1)),
       "column 15: the categorical value '?(' is not printable UTF-8"},
      {CriteoLine("1", ints, "a\x01" + cats.substr(1)), "is not printable UTF-8"},
  };
  for (const auto& [line, message] : cases) {
    const Status s = p.Parse(line, &r);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << line;
    EXPECT_THAT(s.message(), HasSubstr(message)) << line;
  }
  std::string utf8 = "caf\xc3\xa9";
  EXPECT_TRUE(p.Parse(CriteoLine("0", ints, utf8 + cats.substr(1)), &r).ok());
}

}  // namespace
}  // namespace ringtrain::data
