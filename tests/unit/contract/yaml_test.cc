// YamlToJson (scalar typing, errors with positions) and LoadTrainingJobFile.
#include "ringtrain/job/yaml.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sanitized.h"

namespace ringtrain::job {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

json MustConvert(const char* text) {
  StatusOr<json> doc = YamlToJson(text);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return doc.ok() ? *doc : json();
}

TEST(YamlToJsonTest, PlainScalarsAreTyped) {
  json doc = MustConvert(R"(
int: 42
negative: -3
plus: +7
big: 18446744073709551615
hex: 0x1F
octal: 0o17
float: 1.5
leading_dot: .5
negative_dot: -.5
exponent: 1e-3
exponent_int: 2e3
yes_true: true
capital_false: False
tilde: ~
null_word: null
empty:
word: hello
quantity: 1Gi
version: 0.1.0
yaml11_bool: yes
)");
  EXPECT_EQ(doc["int"], json(42));
  EXPECT_TRUE(doc["int"].is_number_integer());
  EXPECT_EQ(doc["negative"].get<int64_t>(), -3);
  EXPECT_EQ(doc["plus"].get<int64_t>(), 7);
  EXPECT_TRUE(doc["big"].is_number_unsigned());
  EXPECT_EQ(doc["big"].get<uint64_t>(), 18446744073709551615u);
  EXPECT_EQ(doc["hex"].get<int64_t>(), 31);
  EXPECT_EQ(doc["octal"].get<int64_t>(), 15);
  EXPECT_TRUE(doc["float"].is_number_float());
  EXPECT_DOUBLE_EQ(doc["float"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(doc["leading_dot"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(doc["negative_dot"].get<double>(), -0.5);
  EXPECT_DOUBLE_EQ(doc["exponent"].get<double>(), 0.001);
  EXPECT_TRUE(doc["exponent_int"].is_number_float());
  EXPECT_DOUBLE_EQ(doc["exponent_int"].get<double>(), 2000.0);
  EXPECT_EQ(doc["yes_true"], json(true));
  EXPECT_EQ(doc["capital_false"], json(false));
  EXPECT_TRUE(doc["tilde"].is_null());
  EXPECT_TRUE(doc["null_word"].is_null());
  EXPECT_TRUE(doc.contains("empty"));
  EXPECT_TRUE(doc["empty"].is_null());
  EXPECT_EQ(doc["word"], json("hello"));
  EXPECT_EQ(doc["quantity"], json("1Gi"));
  EXPECT_EQ(doc["version"], json("0.1.0"));
  // YAML 1.2: only true/false are booleans.
  EXPECT_EQ(doc["yaml11_bool"], json("yes"));
}

TEST(YamlToJsonTest, QuotedAndBlockScalarsStayStrings) {
  json doc = MustConvert(
      "double: \"1\"\nsingle: '3.5'\nbool: \"true\"\nnull_word: 'null'\nempty: \"\"\n"
      "tagged: !!str 42\nblock: |\n  two\n  lines\n");
  EXPECT_EQ(doc["double"], json("1"));
  EXPECT_EQ(doc["single"], json("3.5"));
  EXPECT_EQ(doc["bool"], json("true"));
  EXPECT_EQ(doc["null_word"], json("null"));
  EXPECT_EQ(doc["empty"], json(""));
  EXPECT_EQ(doc["tagged"], json("42"));
  EXPECT_EQ(doc["block"], json("two\nlines\n"));
}

TEST(YamlToJsonTest, SpecialFloatsAndExplicitTags) {
  json doc = MustConvert("inf: .inf\nninf: -.Inf\nnan: .NaN\nf: !!float 3\ni: !!int 0x10\n");
  EXPECT_TRUE(std::isinf(doc["inf"].get<double>()));
  EXPECT_LT(doc["ninf"].get<double>(), 0);
  EXPECT_TRUE(std::isnan(doc["nan"].get<double>()));
  EXPECT_TRUE(doc["f"].is_number_float());
  EXPECT_EQ(doc["i"].get<int64_t>(), 16);
}

TEST(YamlToJsonTest, NestedCollectionsAndFlowStyle) {
  json doc = MustConvert("a: {b: [1, {c: x}], d: []}\ne:\n  - 1\n  - two\n");
  EXPECT_EQ(doc, json::parse(R"({"a": {"b": [1, {"c": "x"}], "d": []}, "e": [1, "two"]})"));
}

TEST(YamlToJsonTest, JsonDocumentIsAccepted) {
  json doc = MustConvert(R"({"a": 1, "b": "x", "c": [true, null, 2.5]})");
  EXPECT_EQ(doc, json::parse(R"({"a": 1, "b": "x", "c": [true, null, 2.5]})"));
}

TEST(YamlToJsonTest, EmptyTextIsNull) { EXPECT_TRUE(MustConvert("").is_null()); }

TEST(YamlToJsonTest, SyntaxErrorReportsLineAndColumn) {
  StatusOr<json> doc = YamlToJson("a: 1\nb: [1, 2\nc: 3\n");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(doc.status().message(), testing::MatchesRegex("line [0-9]+, column [0-9]+: .+"));
  EXPECT_THAT(doc.status().message(), Not(HasSubstr("yaml-cpp: error")));

  StatusOr<json> tab = YamlToJson("spec:\n  model: x\n bad: 1\n");
  ASSERT_FALSE(tab.ok());
  EXPECT_THAT(tab.status().message(), StartsWith("line 3, column 2: "));
}

TEST(YamlToJsonTest, DuplicateKeyIsAnError) {
  StatusOr<json> doc = YamlToJson("training:\n  epochs: 1\n  batchSize: 2\n  epochs: 3\n");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.status().message(), "line 4, column 3: duplicate key \"epochs\" (first at line 2)");
}

TEST(YamlToJsonTest, MultipleDocumentsAreAnError) {
  StatusOr<json> doc = YamlToJson("a: 1\n---\nb: 2\n");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().message(),
            "expected one YAML document, found 2 (the second starts at line 3, column 1)");
}

TEST(YamlToJsonTest, UnsupportedTagsAreErrors) {
  StatusOr<json> custom = YamlToJson("a: !secret 3\n");
  ASSERT_FALSE(custom.ok());
  EXPECT_EQ(custom.status().message(), "line 1, column 4: unsupported tag \"!secret\"");
  StatusOr<json> bad_int = YamlToJson("a: !!int x\n");
  ASSERT_FALSE(bad_int.ok());
  EXPECT_THAT(bad_int.status().message(), HasSubstr("\"x\" is not a valid int"));
}

TEST(YamlToJsonTest, NonScalarKeyIsAnError) {
  StatusOr<json> doc = YamlToJson("? [a, b]\n: 1\n");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("mapping keys must be scalars"));
  StatusOr<json> null_key = YamlToJson("a: 1\n~: 2\n");
  ASSERT_FALSE(null_key.ok());
  EXPECT_EQ(null_key.status().message(), "line 2, column 1: mapping key must not be null");
}

class LoadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("ringtrain_job_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

constexpr char kJobYaml[] = R"(apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata:
  name: fashion-mnist
spec:
  model: {type: mlp, hiddenLayers: [256]}
  dataset:
    train: {images: /data/train-images.gz, labels: /data/train-labels.gz}
  training:
    batchSize: 64
)";

TEST_F(LoadFileTest, LoadsYamlFile) {
  std::string path = Write("job.yaml", kJobYaml);
  StatusOr<TrainingJob> job = LoadTrainingJobFile(path);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->metadata.name, "fashion-mnist");
  EXPECT_EQ(job->spec.model.hidden_layers, std::vector<int>{256});
  EXPECT_EQ(job->spec.training.batch_size, 64);
}

TEST_F(LoadFileTest, LoadsJsonFile) {
  std::string path = Write("job.json", MustConvert(kJobYaml).dump(2));
  StatusOr<TrainingJob> job = LoadTrainingJobFile(path);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->spec.training.batch_size, 64);
}

TEST_F(LoadFileTest, MissingFileIsNotFoundNamingThePath) {
  std::string path = (dir_ / "absent.yaml").string();
  StatusOr<TrainingJob> job = LoadTrainingJobFile(path);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(job.status().message(), StartsWith(path + ": "));
}

TEST_F(LoadFileTest, DirectoryIsAnInputErrorNamingThePath) {
  StatusOr<TrainingJob> job = LoadTrainingJobFile(dir_.string());
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(job.status().message(), dir_.string() + ": is a directory, not a file");
}

// Regression: a FIFO without a writer (or `ringtrain run <(...)`) blocked forever in open(2).
TEST_F(LoadFileTest, FifoIsRefusedWithoutWaitingForAWriter) {
  const std::string path = (dir_ / "spec.fifo").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  std::future<StatusOr<TrainingJob>> job =
      std::async(std::launch::async, [&] { return LoadTrainingJobFile(path); });
  if (job.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    // Unblock the reader so the test can end, then fail.
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd >= 0) ::close(fd);
    FAIL() << "LoadTrainingJobFile waited for a writer on a FIFO";
  }
  StatusOr<TrainingJob> result = job.get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(),
              StartsWith(path + ": is a FIFO (named pipe), not a regular file"));
}

TEST_F(LoadFileTest, DeviceIsRefused) {
  StatusOr<TrainingJob> job = LoadTrainingJobFile("/dev/zero");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(job.status().message(),
              StartsWith("/dev/zero: is a character device, not a regular file"));
}

TEST_F(LoadFileTest, FileAboveOneMebibyteIsRefused) {
  std::string text = kJobYaml;
  text += "# " + std::string(1 << 20, 'x') + "\n";
  StatusOr<TrainingJob> job = LoadTrainingJobFile(Write("big.yaml", text));
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(job.status().message(), HasSubstr("file is larger than 1048576 bytes"));
}

TEST(YamlToJsonTest, TooManyNodesAreRefusedBeforeATreeIsBuilt) {
  std::string text = "a: [";
  for (int i = 0; i < 20'001; ++i) text += "1,";
  text += "1]\n";
  StatusOr<json> doc = YamlToJson(text);
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("document too large (more than 20000 nodes"));
  std::string fine = "a: [";
  for (int i = 0; i < 10'000; ++i) fine += "1,";
  fine += "1]\n";
  EXPECT_TRUE(YamlToJson(fine).ok());
}

TEST(YamlToJsonTest, NestingDeeperThan64IsRefused) {
  StatusOr<json> doc = YamlToJson(std::string(65, '[') + std::string(65, ']'));
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("nesting deeper than 64 levels"));
  EXPECT_TRUE(YamlToJson(std::string(60, '[') + std::string(60, ']')).ok());
  // Far deeper than any parser's stack would survive by recursion.
  doc = YamlToJson(std::string(500'000, '['));
  ASSERT_FALSE(doc.ok());
}

// "Billion laughs": ten references to an anchor holding ten references, and so on.
std::string AliasBomb(int levels) {
  std::string text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= levels; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) text += prev + (j < 9 ? ", " : "");
    text += "]\n";
  }
  return text;
}

TEST(YamlToJsonTest, AliasExpansionIsBounded) {
  StatusOr<json> doc = YamlToJson(AliasBomb(9));  // 10^10 nodes if expanded
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("more than 100000 nodes after expanding aliases"));
}

// A field of /proc/self/status in kB ("VmRSS", "VmHWM"), or -1.
long StatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// The peak growth of this process's resident set while `work` runs, in MB: the peak is reset
// first (writing 5 to /proc/self/clear_refs, Linux 4.0 and later).
double PeakGrowthMb(const std::function<void()>& work) {
  {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
  }
  const long before = StatusKb("VmRSS");
  EXPECT_LE(StatusKb("VmHWM") - before, 1024) << "the peak was not reset";
  work();
  return static_cast<double>(StatusKb("VmHWM") - before) / 1024.0;
}

// The issue's measurement: a 16 MB spec cost 2.6 GB of RSS to reject. Every spec at the caps
// now costs at most tens of MB.
TEST_F(LoadFileTest, HostileSpecsNearTheCapsCostBoundedMemory) {
#if defined(RINGTRAIN_TEST_SANITIZED)
  constexpr double kBoundMb = 160;  // shadow memory and the freed-memory quarantine
#else
  constexpr double kBoundMb = 48;
#endif
  std::string many;  // just under the file cap: half a million tiny nodes
  many = "a: [";
  while (many.size() < (1 << 20) - 4) many += "1,";
  many += "1]\n";
  std::string wide;  // just under the node cap, long scalars filling the file
  wide = "spec:\n";
  for (int i = 0; i < 9'900; ++i) {  // two nodes each: 19,800
    wide += "  k" + std::to_string(i) + ": " + std::string(94, 'v') + "\n";
  }
  const std::vector<std::string> paths = {Write("many.yaml", many), Write("wide.yaml", wide),
                                          Write("bomb.yaml", AliasBomb(9))};
  for (const std::string& path : paths) {
    ASSERT_LE(std::filesystem::file_size(path), size_t{1} << 20) << path;
    bool refused = false;
    const double mb = PeakGrowthMb([&] { refused = !LoadTrainingJobFile(path).ok(); });
    EXPECT_TRUE(refused) << path << " is no valid job";
    EXPECT_LT(mb, kBoundMb) << path;
    std::printf("%s: peak growth %.1f MB\n", path.c_str(), mb);
  }
}

TEST_F(LoadFileTest, InvalidSpecErrorIsPrefixedWithPath) {
  std::string text = kJobYaml;
  text.replace(text.find("batchSize: 64"), 13, "batchSize: 0");
  std::string path = Write("bad.yaml", text);
  StatusOr<TrainingJob> job = LoadTrainingJobFile(path);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(job.status().message(),
            path + ": spec.training.batchSize: must be between 1 and 1048576 (got 0)");
}

TEST_F(LoadFileTest, YamlSyntaxErrorIsPrefixedWithPath) {
  std::string path = Write("broken.yaml", "metadata:\n  name: [x\n");
  StatusOr<TrainingJob> job = LoadTrainingJobFile(path);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(job.status().message(), StartsWith(path + ": line "));
}

TEST_F(LoadFileTest, QuotedNumberIsNotAnInteger) {
  std::string text = kJobYaml;
  text.replace(text.find("batchSize: 64"), 13, "batchSize: \"64\"");
  StatusOr<TrainingJob> job = LoadTrainingJobFile(Write("quoted.yaml", text));
  ASSERT_FALSE(job.ok());
  EXPECT_THAT(job.status().message(),
              HasSubstr("spec.training.batchSize: expected an integer, got string \"64\""));
}

// JsonToYaml: every value reads back as itself, whatever a YAML reader would otherwise make of
// the text (YAML 1.1 booleans, numbers, comments, key separators).
TEST(JsonToYamlTest, StringsThatLookLikeOtherThingsAreQuoted) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  const char* tricky[] = {"",      "on",     "yes",         "No",    "true",   "null", "~",  "1",
                          "1.5",   "-1",     ".5",          "0x10",  "a: b",   "a #b", "#c", "- x",
                          "[x]",   "{x}",    "*x",          "&x",    "!x",     "|",    ">",  "'q'",
                          "\"q\"", "tab\tx", "line\nbreak", " lead", "trail ", "ends:"};
  for (const char* s : tricky) doc[std::string("k") + s] = s;
  doc["plain"] = "Number of workers, 1 to 4096.";
  doc["ints"] = {1, -2, 3};
  doc["float"] = 0.25;
  doc["flag"] = false;
  doc["empty-object"] = nlohmann::ordered_json::object();
  doc["empty-list"] = nlohmann::ordered_json::array();
  doc["nested"] = {{"list", {{{"a", 1}, {"b", "two"}}, {{"c", nlohmann::ordered_json::array()}}}}};
  const std::string text = JsonToYaml(doc);
  StatusOr<json> back = YamlToJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
  EXPECT_EQ(*back, json::parse(doc.dump())) << text;
  // Safe text stays plain, so the generated CRD reads like a hand-written one.
  EXPECT_NE(text.find("plain: Number of workers, 1 to 4096.\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kon: \"on\"\n"), std::string::npos) << text;
}

TEST(JsonToYamlTest, KeysKeepTheirOrder) {
  nlohmann::ordered_json doc = {{"zeta", 1}, {"alpha", 2}};
  EXPECT_EQ(JsonToYaml(doc), "zeta: 1\nalpha: 2\n");
}

}  // namespace
}  // namespace ringtrain::job
