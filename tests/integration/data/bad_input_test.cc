// Bad input through `ringtrain run` (issue 13): malformed records and broken part files, one
// table, each case a small real job (1 server, 1 worker, 1 epoch, 200 good rows beside the bad
// ones). A case either fails with exit code 2 naming spec.dataset.train, the file, the line and,
// for a bad record, the column; or (a bad record) is skipped and counted with onBadRecord: skip,
// the good rows all trained; or, if nothing is wrong with the data (an empty part), trains. No
// case may crash the binary or hang it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "ringtrain/launch/child_process.h"
#include "text_job.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
using testing::WriteFile;

const std::string kBinary = RINGTRAIN_BINARY;
constexpr int kRows = 200;  // good records in every case's training data
constexpr auto kRunTimeout = std::chrono::seconds(120);

// A job of 1 server and 1 worker, 1 epoch, on `format` data at `train` (no test set: it would
// be read first and could fail first); `extra_dataset` (lines indented by four spaces) goes under
// spec.dataset.
std::string SmallJob(const std::string& name, const std::string& format, const std::string& train,
                     const std::string& extra_dataset, int workers = 1) {
  return testing::TextJob(name, format, train, "", extra_dataset, "",
                          {.servers = 1, .workers = workers, .epochs = 1, .sync_mode = ""});
}

struct RunResult {
  bool finished = false;  // false: still running after kRunTimeout (killed)
  launch::ExitInfo exit;
  std::string log;         // what `ringtrain run` printed
  std::string worker_log;  // logs/worker-0.log
};

// `ringtrain run` on `spec`, its files named after `tag` in `dir`.
RunResult RunJob(const std::string& dir, const std::string& tag, const std::string& spec) {
  const std::string spec_path = dir + "/" + tag + ".yaml";
  const std::string log_dir = dir + "/logs-" + tag;
  const std::string log = dir + "/" + tag + ".log";
  WriteFile(spec_path, spec);
  auto run = launch::ChildProcess::Spawn("run",
                                         {kBinary, "run", "--no-progress", "--log-dir", log_dir,
                                          "--output", dir + "/out-" + tag, spec_path},
                                         {}, log);
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  RunResult r;
  if (!run.ok()) return r;
  std::optional<launch::ExitInfo> exit = testing::WaitForExit(**run, kRunTimeout);
  r.finished = exit.has_value();
  if (r.finished) r.exit = *exit;
  run->reset();  // a run still going is killed here, with its processes
  r.log = ReadFile(log);
  r.worker_log = ReadFile(log_dir + "/worker-0.log");
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const data::Dataset& Good() {
  static const data::Dataset d = testing::MakeSyntheticImages(kRows, 8, 10, 1);
  return d;
}

std::vector<std::string> LibsvmRecords() { return Lines(testing::ToLibsvm(Good(), 0, kRows)); }

// The CSV header, then the records.
std::vector<std::string> CsvLines() { return Lines(testing::ToCsv(Good())); }

// `lines`, each bad[i] before lines[i] (at the end for i = lines.size()), newline-ended.
std::string Join(const std::vector<std::string>& lines,
                 const std::multimap<size_t, std::string>& bad = {}) {
  std::string out;
  for (size_t i = 0; i <= lines.size(); ++i) {
    const auto [first, last] = bad.equal_range(i);
    for (auto it = first; it != last; ++it) out += it->second + "\n";
    if (i < lines.size()) out += lines[i] + "\n";
  }
  return out;
}

// `good` with `bad` lines put at the 1-based file lines their keys name, in ascending order.
std::string WithBad(const std::vector<std::string>& good,
                    const std::vector<std::pair<int, std::string>>& bad) {
  std::multimap<size_t, std::string> at;
  for (size_t k = 0; k < bad.size(); ++k) {
    // Line L comes after L - 1 lines, k of them bad ones put before it.
    at.emplace(static_cast<size_t>(bad[k].first - 1) - k, bad[k].second);
  }
  return Join(good, at);
}

std::string LibsvmWithBad(const std::vector<std::pair<int, std::string>>& bad) {
  return WithBad(LibsvmRecords(), bad);
}

// The header is line 1.
std::string CsvWithBad(const std::vector<std::pair<int, std::string>>& bad) {
  return WithBad(CsvLines(), bad);
}

std::string Gzip(const std::string& text) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The complete lines zlib inflates from the (broken) gzip `bytes` before it stops: the damage is
// on the line after them.
int LinesInflatedFrom(const std::string& bytes) {
  z_stream z{};
  inflateInit2(&z, 16 + MAX_WBITS);
  std::string out(4 << 20, '\0');  // more than the data
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  inflate(&z, Z_NO_FLUSH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return static_cast<int>(std::count(out.begin(), out.end(), '\n'));
}

// Writes a case's training part files into the directory `train`; returns the line of the
// damage when only the data can say (0: the table's line).
using Writer = std::function<int(const std::string& train)>;

struct Case {
  std::string name;    // the gtest name (CamelCase)
  std::string format;  // libsvm or csv
  Writer write;
  std::string extra_dataset;  // under spec.dataset, indented by four spaces

  bool trains = false;  // nothing wrong: the job succeeds with every good row
  // Otherwise the failure names `file` (in the training directory; "" the directory itself),
  // `line` (0: no line), `column` (0: none) and then says `message`.
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  // A bad record: with onBadRecord: skip the job trains, `skipped` records skipped. -1: the
  // data itself is broken, and skip changes nothing.
  int skipped = -1;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// A broken file: the job fails, skip or not.
Case Broken(std::string name, std::string format, Writer write, std::string file, int line,
            std::string message) {
  Case c;
  c.name = std::move(name);
  c.format = std::move(format);
  c.write = std::move(write);
  c.file = std::move(file);
  c.line = line;
  c.message = std::move(message);
  return c;
}

// `skipped` bad records, the first on `line`: the job fails naming it, or skips them.
Case BadRecords(std::string name, std::string format, Writer write, std::string file, int line,
                int column, std::string message, int skipped) {
  Case c = Broken(std::move(name), std::move(format), std::move(write), std::move(file), line,
                  std::move(message));
  c.column = column;
  c.skipped = skipped;
  return c;
}

Case Trains(std::string name, std::string format, Writer write) {
  Case c;
  c.name = std::move(name);
  c.format = std::move(format);
  c.write = std::move(write);
  c.trains = true;
  return c;
}

Case WithDataset(Case c, std::string extra_dataset) {
  c.extra_dataset = std::move(extra_dataset);
  return c;
}

// "spec.dataset.train: <dir>/train/<file>:<line>: column <k>: <message>", as much as the case
// names.
std::string Expected(const Case& c, const std::string& train, int line) {
  std::string s = "spec.dataset.train: " + train + "/" + c.file;
  if (line > 0) s += ":" + std::to_string(line);
  s += ": ";
  if (c.column > 0) s += "column " + std::to_string(c.column) + ": ";
  return s + c.message;
}

Writer File(const std::string& name, std::string text) {
  return [name, text = std::move(text)](const std::string& train) {
    WriteFile(train + "/" + name, text);
    return 0;
  };
}

std::vector<Case> Cases() {
  const std::string good_libsvm = Join(LibsvmRecords());
  const std::vector<std::string> csv = CsvLines();
  const std::string& header = csv[0];
  const std::string& row = csv[1];  // "<label>,<f0>,<f1>,..."
  const std::string after_label = row.substr(row.find(','));
  const std::string after_f0 = after_label.substr(after_label.find(',', 1));
  const std::string good_csv = Join(csv);
  return {
      // Broken files: not records, so skip does not hide them.
      Broken(
          "TruncatedGzipPart", "libsvm",
          [good_libsvm](const std::string& train) {
            const std::string gz = Gzip(good_libsvm);
            const std::string cut = gz.substr(0, gz.size() / 2);
            WriteFile(train + "/part-0.gz", cut);
            return LinesInflatedFrom(cut) + 1;
          },
          "part-0.gz", 0, "truncated gzip stream"),
      Broken("GzipWithTrailingGarbage", "libsvm", File("part-0.gz", Gzip(good_libsvm) + "junk\n"),
             "part-0.gz", kRows + 1, "trailing garbage after the gzip data"),
      // Two members, as `cat a.gz b.gz` makes, one bit of the second's deflate data flipped:
      // its first block's type (dynamic 2, or fixed 1) becomes reserved (3, or stored 0 with
      // lengths that do not match), so zlib stops before it inflates any of it, whatever the
      // compressor made of the data.
      Broken(
          "CorruptGzipPart", "libsvm",
          [](const std::string& train) {
            const std::vector<std::string> records = LibsvmRecords();
            std::string second = Gzip(Join({records.begin() + 100, records.end()}));
            second[10] = static_cast<char>(second[10] ^ 0x02);  // after the 10-byte header
            WriteFile(train + "/part-0.gz",
                      Gzip(Join({records.begin(), records.begin() + 100})) + second);
            return 0;
          },
          "part-0.gz", 101, "corrupt gzip stream ("),
      Broken("LineOf10MB", "libsvm",
             File("part-0", LibsvmWithBad({{101, "1 1:" + std::string(10 << 20, '1')}})), "part-0",
             101, "a line longer than 1048576 bytes"),
      Broken("NulByteInALine", "libsvm",
             File("part-0", LibsvmWithBad({{101, std::string("1 1:0.5 2:\0 3:1", 15)}})), "part-0",
             101, "a NUL byte (binary data, not text)"),

      // Bad LibSVM records.
      BadRecords("NanValue", "libsvm", File("part-0", LibsvmWithBad({{101, "3 1:0.5 2:nan"}})),
                 "part-0", 101, 3, "'nan' is not a finite number", 1),
      BadRecords("InfValue", "libsvm", File("part-0", LibsvmWithBad({{101, "3 1:inf 2:0.5"}})),
                 "part-0", 101, 2, "'inf' is not a finite number", 1),
      BadRecords("ValueBeyondAFloat", "libsvm", File("part-0", LibsvmWithBad({{101, "3 1:1e39"}})),
                 "part-0", 101, 2, "'1e39' is out of the range of a float", 1),
      BadRecords("IndexBeyondFeatures", "libsvm",
                 File("part-0", LibsvmWithBad({{101, "3 1:0.5 65:1"}})), "part-0", 101, 3,
                 "index 65 is beyond the 64 features (index base 1)", 1),
      BadRecords("IndexZeroWithIndexBase1", "libsvm",
                 File("part-0", LibsvmWithBad({{101, "3 0:1 2:1"}})), "part-0", 101, 2,
                 "index 0 is below the index base 1", 1),
      // Three of them: the first fails the job, skip counts all.
      BadRecords("IndicesNotAscending", "libsvm",
                 File("part-0",
                      LibsvmWithBad({{101, "3 5:1 2:1"}, {150, "3 5:1 5:1"}, {190, "3 9:1 8:1"}})),
                 "part-0", 101, 3, "index 2 after 5: indices must ascend", 3),
      BadRecords("NotANumber", "libsvm", File("part-0", LibsvmWithBad({{101, "3 1:abc"}})),
                 "part-0", 101, 2, "'abc' is not a number", 1),
      BadRecords("NotUtf8InAValue", "libsvm",
                 File("part-0", LibsvmWithBad({{101, "3 1:0.\xff\xfe"}})), "part-0", 101, 2,
                 "'0.?"
                 "?' is not a number",
                 1),
      BadRecords("LabelNotAClass", "libsvm",
                 File("part-0", LibsvmWithBad({{101, "10 1:1"}, {152, "2.5 1:1"}})), "part-0", 101,
                 1, "the label 10 is not a class (0 to 9)", 2),

      // CSV records (the header is line 1).
      BadRecords("CsvTooFewColumns", "csv", File("a.csv", CsvWithBad({{102, "3,0.5,0.5"}})),
                 "a.csv", 102, 4, "missing (3 columns, the header has 65)", 1),
      BadRecords("CsvTooManyColumns", "csv",
                 File("a.csv", CsvWithBad({{102, row + ",7"}, {150, row + ",7,8"}})), "a.csv", 102,
                 66, "more than the header's 65 columns", 2),
      BadRecords("CsvNotUtf8InAValue", "csv",
                 File("a.csv", CsvWithBad({{102, "3,\xc3\x28" + after_f0}})), "a.csv", 102, 2,
                 "'?(' is not a number", 1),
      BadRecords("CsvLabelNotAClass", "csv", File("a.csv", CsvWithBad({{102, "-1" + after_label}})),
                 "a.csv", 102, 1, "the label -1 is not a class (0 to 9)", 1),

      // CSV headers.
      Broken(
          "CsvHeaderWithOtherFeatureCount", "csv",
          [csv](const std::string& train) {
            std::string text;
            for (const std::string& line : csv) text += line.substr(0, line.rfind(',')) + "\n";
            WriteFile(train + "/a.csv", text);  // f63 left out
            return 0;
          },
          "a.csv", 1,
          "the header names 63 feature columns besides the label, spec.dataset.features is 64"),
      WithDataset(Broken("CsvUnknownLabelColumn", "csv", File("a.csv", good_csv), "a.csv", 1,
                         "the header has no label column 'target'"),
                  "    labelColumn: target\n"),
      WithDataset(Broken("CsvLabelColumnNumberBeyondTheHeader", "csv", File("a.csv", good_csv),
                         "a.csv", 1, "label column #66 is not one of the 65 columns"),
                  "    labelColumn: '#66'\n"),

      // Parts without records: fine beside others; no records at all is an error.
      Trains("EmptyPartsBesideAGoodOne", "libsvm",
             [good_libsvm](const std::string& train) {
               WriteFile(train + "/part-0", "");
               WriteFile(train + "/part-1", good_libsvm);
               WriteFile(train + "/part-2.gz", Gzip(""));
               return 0;
             }),
      Trains("CsvPartsOfOnlyAHeaderBesideAGoodOne", "csv",
             [header, good_csv](const std::string& train) {
               WriteFile(train + "/a.csv", header + "\n");
               WriteFile(train + "/b.csv", good_csv);
               WriteFile(train + "/c.csv", header);  // no newline either
               return 0;
             }),
      Broken(
          "EveryPartEmpty", "libsvm",
          [](const std::string& train) {
            WriteFile(train + "/part-0", "");
            WriteFile(train + "/part-1.gz", Gzip("\n\n# only a comment\n"));
            return 0;
          },
          "", 0, "no records in its 2 objects"),
      Broken("CsvOnlyAHeader", "csv", File("a.csv", header + "\n"), "", 0,
             "no records in its 1 objects"),
  };
}

// "CsvTooFewColumns" -> "csv-too-few-columns" (a DNS-1035 job name).
std::string JobName(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (std::isupper(static_cast<unsigned char>(c)) && !out.empty()) out += '-';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out.substr(0, 50);
}

// One epoch over the good rows, every one of them ("worker-0: finished 13 steps, 200 samples").
const std::string kEveryGoodRow = " steps, " + std::to_string(kRows) + " samples";

class BadInputTest : public ::testing::TestWithParam<Case> {
 protected:
  // The case's files (a 10 MB line among them) are kept only when it failed.
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
};

TEST_P(BadInputTest, FailsNamingFileLineAndColumnOrIsSkipped) {
  const Case& c = GetParam();
  dir_ = testing::MakeTempDir("bad-input");
  const std::string& dir = dir_;
  const std::string train = dir + "/train";
  std::filesystem::create_directories(train);
  const int computed = c.write(train);
  const int line = computed > 0 ? computed : c.line;
  const std::string name = JobName(c.name);

  const RunResult r = RunJob(dir, "fail", SmallJob(name, c.format, train + "/", c.extra_dataset));
  ASSERT_TRUE(r.finished) << "ringtrain run still ran after " << kRunTimeout.count()
                          << " s (hung): " << r.log;
  ASSERT_FALSE(r.exit.signaled) << r.exit.ToString() << ": " << r.log;
  if (c.trains) {
    EXPECT_EQ(r.exit.exit_code, 0) << r.log;
    EXPECT_THAT(r.worker_log, HasSubstr(kEveryGoodRow)) << r.worker_log;
    return;
  }
  const std::string expected = Expected(c, train, line);
  EXPECT_EQ(r.exit.exit_code, 2) << "bad input is exit code 2: " << r.log;
  EXPECT_THAT(r.log, HasSubstr(expected));

  const RunResult s =
      RunJob(dir, "skip",
             SmallJob(name, c.format, train + "/", c.extra_dataset + "    onBadRecord: skip\n"));
  ASSERT_TRUE(s.finished) << "with onBadRecord: skip, ringtrain run still ran after "
                          << kRunTimeout.count() << " s (hung): " << s.log;
  ASSERT_FALSE(s.exit.signaled) << s.exit.ToString() << ": " << s.log;
  if (c.skipped < 0) {
    // Not a record: skip changes nothing.
    EXPECT_EQ(s.exit.exit_code, 2) << "with onBadRecord: skip: " << s.log;
    EXPECT_THAT(s.log, HasSubstr(expected));
    return;
  }
  EXPECT_EQ(s.exit.exit_code, 0) << s.log;
  EXPECT_THAT(s.worker_log, HasSubstr("worker-0: skipped " + std::to_string(c.skipped) +
                                      " bad records of spec.dataset.train"));
  // The example after the count: the location and message without the field in front.
  EXPECT_THAT(s.worker_log, HasSubstr("the first: " +
                                      expected.substr(std::string("spec.dataset.train: ").size())));
  EXPECT_THAT(s.worker_log, HasSubstr(kEveryGoodRow)) << s.worker_log;
  // The run's summary counts them too.
  EXPECT_THAT(s.log, HasSubstr("records skipped      " + std::to_string(c.skipped) +
                               " in each epoch (onBadRecord: skip; worker-0 " +
                               std::to_string(c.skipped) + ";"))
      << s.log;
}

// One gzip object and two workers: the second worker's share is empty (gzip is not split); it
// runs no steps, and the job trains on every row.
TEST(BadInputShareTest, AWorkerWhoseShareHoldsNoRecordsRunsNoSteps) {
  const std::string dir = testing::MakeTempDir("empty-share");
  const std::string train = dir + "/train";
  std::filesystem::create_directories(train);
  WriteFile(train + "/part-0.gz", Gzip(Join(LibsvmRecords())));
  const RunResult r =
      RunJob(dir, "run", SmallJob("empty-share", "libsvm", train + "/", "", /*workers=*/2));
  ASSERT_TRUE(r.finished) << r.log;
  EXPECT_EQ(r.exit.exit_code, 0) << r.log;
  EXPECT_THAT(r.worker_log, HasSubstr(kEveryGoodRow)) << r.worker_log;
  EXPECT_THAT(ReadFile(dir + "/logs-run/worker-1.log"),
              HasSubstr("worker-1: its share of spec.dataset.train holds no records"));
}

std::string CaseName(const ::testing::TestParamInfo<Case>& param) { return param.param.name; }

INSTANTIATE_TEST_SUITE_P(Cases, BadInputTest, ::testing::ValuesIn(Cases()), CaseName);

}  // namespace
}  // namespace ringtrain
