#include "ringtrain/data/ctr_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ringtrain/data/text_records.h"

namespace ringtrain::data {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/ctr-" + std::to_string(getpid()) + "-" + name;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

double LogLoss(double z, double y) {
  return std::log1p(std::exp(-std::fabs(z))) + std::max(z, 0.0) - y * z;
}

TEST(CtrGeneratorTest, TheSameOptionsWriteTheSameRowsAndAnotherSeedOthers) {
  CtrGeneratorOptions o;
  o.rows = 500;
  o.fields = 6;
  const auto a = GenerateCtr(o, TempPath("a"));
  const auto b = GenerateCtr(o, TempPath("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(Lines(TempPath("a")), Lines(TempPath("b")));
  o.seed = 2;
  ASSERT_TRUE(GenerateCtr(o, TempPath("c")).ok());
  EXPECT_NE(Lines(TempPath("a")), Lines(TempPath("c")));
  // Other rows of the same truth.
  o.seed = 1;
  o.row_seed = 3;
  const auto d = GenerateCtr(o, TempPath("d"));
  ASSERT_TRUE(d.ok());
  EXPECT_NE(Lines(TempPath("a")), Lines(TempPath("d")));
  // ... of the same values: the frequent ones occur in both.
  const auto keys_of = [](const std::vector<std::string>& lines) {
    std::set<std::string> keys;
    for (const std::string& line : lines) {
      std::istringstream in(line.substr(2));
      for (std::string token; in >> token;) keys.insert(token);
    }
    return keys;
  };
  const std::set<std::string> ka = keys_of(Lines(TempPath("a")));
  const std::set<std::string> kd = keys_of(Lines(TempPath("d")));
  const std::set<std::string> kc = keys_of(Lines(TempPath("c")));
  size_t shared = 0, foreign = 0;
  for (const std::string& k : kd) shared += ka.count(k);
  for (const std::string& k : kc) foreign += ka.count(k);
  EXPECT_GT(shared, kd.size() / 10);
  EXPECT_EQ(foreign, 0u);  // another seed spells its values otherwise
}

// The rows parse with ringtrain's own readers, the two formats give the same keys, and the
// report's ground-truth log-loss is the truth model's on exactly these rows.
TEST(CtrGeneratorTest, BothFormatsCarryTheSameKeysAndTheReportedLossIsTheTruths) {
  CtrGeneratorOptions o;
  o.rows = 2000;
  o.fields = 26;
  o.keys_per_field = 50;
  o.seed = 9;
  const auto libsvm = GenerateCtr(o, TempPath("l.gz"));
  ASSERT_TRUE(libsvm.ok()) << libsvm.status().ToString();
  o.format = CtrFormat::kCriteo;
  const auto criteo = GenerateCtr(o, TempPath("c"));
  ASSERT_TRUE(criteo.ok()) << criteo.status().ToString();
  EXPECT_EQ(libsvm->truth_log_loss, criteo->truth_log_loss);
  ASSERT_EQ(std::system(("zcat " + TempPath("l.gz") + " > " + TempPath("l")).c_str()), 0);
  const std::vector<std::string> l = Lines(TempPath("l"));
  const std::vector<std::string> c = Lines(TempPath("c"));
  ASSERT_EQ(l.size(), 2000u);
  ASSERT_EQ(c.size(), 2000u);
  LibsvmParser lp(/*index_base=*/0, /*num_features=*/0);
  CriteoParser cp;
  double loss = 0, positives = 0;
  for (size_t i = 0; i < l.size(); ++i) {
    TextRecord lr, cr;
    ASSERT_TRUE(lp.Parse(l[i], &lr).ok()) << l[i];
    ASSERT_TRUE(cp.Parse(c[i], &cr).ok()) << c[i];
    EXPECT_EQ(lr.label, cr.label);
    std::vector<uint64_t> keys = cr.keys;
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    EXPECT_EQ(lr.indices, keys) << "row " << i;
    double z = o.bias;
    for (uint64_t k : cr.keys) z += TruthWeight(o.seed, k, o.weight_scale);
    loss += LogLoss(z, lr.label);
    positives += lr.label;
  }
  EXPECT_NEAR(libsvm->truth_log_loss, loss / 2000, 1e-9);
  EXPECT_DOUBLE_EQ(libsvm->positive_rate, positives / 2000);
  // 26 fields of 50 items with Zipf frequencies: most items occur in 2000 rows.
  EXPECT_GT(libsvm->distinct_keys, 26u * 30);
  EXPECT_LE(libsvm->distinct_keys, 26u * 50);
}

// With weighted_values, only each field's most frequent values carry a weight: here the one
// most frequent value (a steep Zipf makes it the most common key in the file).
TEST(CtrGeneratorTest, OnlyTheWeightedValuesCarryTheTruthsWeights) {
  CtrGeneratorOptions o;
  o.rows = 3000;
  o.fields = 1;
  o.keys_per_field = 20;
  o.zipf = 2.0;
  o.weight_scale = 2.0;
  o.weighted_values = 1;
  const auto made = GenerateCtr(o, TempPath("w"));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  LibsvmParser parser(/*index_base=*/0, /*num_features=*/0);
  std::vector<TextRecord> rows;
  std::map<uint64_t, int> count;
  for (const std::string& line : Lines(TempPath("w"))) {
    TextRecord r;
    ASSERT_TRUE(parser.Parse(line, &r).ok()) << line;
    ASSERT_EQ(r.indices.size(), 1u);
    ++count[r.indices[0]];
    rows.push_back(r);
  }
  ASSERT_GT(count.size(), 3u);
  uint64_t top = 0;
  for (const auto& [key, n] : count) {
    if (n > count[top]) top = key;
  }
  double loss = 0;
  for (const TextRecord& r : rows) {
    const double w = r.indices[0] == top ? TruthWeight(o.seed, top, o.weight_scale) : 0.0;
    loss += LogLoss(o.bias + w, r.label);
  }
  EXPECT_NEAR(made->truth_log_loss, loss / 3000, 1e-9);
}

TEST(CtrGeneratorTest, ValuesFollowZipfFrequencies) {
  CtrGeneratorOptions o;
  o.rows = 20000;
  o.fields = 1;
  o.keys_per_field = 1000;
  o.zipf = 1.0;
  ASSERT_TRUE(GenerateCtr(o, TempPath("z")).ok());
  std::map<std::string, int> counts;
  for (const std::string& line : Lines(TempPath("z"))) ++counts[line.substr(2)];
  std::vector<int> sorted;
  for (const auto& [key, n] : counts) sorted.push_back(n);
  std::sort(sorted.rbegin(), sorted.rend());
  // Rank 1 has probability 1 / H(1000) = 13.4%; rank 2 half of it.
  EXPECT_NEAR(sorted[0] / 20000.0, 0.134, 0.01);
  EXPECT_NEAR(static_cast<double>(sorted[1]) / sorted[0], 0.5, 0.06);
}

TEST(CtrGeneratorTest, RefusesBadOptionsNamingThem) {
  CtrGeneratorOptions o;
  o.rows = 0;
  EXPECT_THAT(ValidateCtrOptions(o).message(), ::testing::HasSubstr("rows"));
  o = {};
  o.fields = 3;
  o.format = CtrFormat::kCriteo;
  EXPECT_THAT(ValidateCtrOptions(o).message(), ::testing::HasSubstr("26"));
  o = {};
  o.weight_scale = 0;
  EXPECT_THAT(ValidateCtrOptions(o).message(), ::testing::HasSubstr("weight scale"));
  EXPECT_EQ(GenerateCtr(CtrGeneratorOptions{}, "/nonexistent-dir/x").status().code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace ringtrain::data
