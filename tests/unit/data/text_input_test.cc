// The text input path below the formats: gzip (transparent, multi-member, truncated, corrupt,
// trailing garbage) and lines (numbers, CRLF, a last line without a newline, a line too long,
// NUL bytes), over in-memory streams.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "ringtrain/data/decompress.h"
#include "ringtrain/data/line_reader.h"

namespace ringtrain::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Bytes from memory, handed out at most `step` at a time (to cross every buffer boundary).
class MemoryStream final : public storage::ByteStream {
 public:
  MemoryStream(std::string bytes, size_t step = 1 << 20) : bytes_(std::move(bytes)), step_(step) {}
  StatusOr<size_t> Read(std::span<char> out) override {
    const size_t n = std::min({out.size(), step_, bytes_.size() - pos_});
    std::memcpy(out.data(), bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }

 private:
  std::string bytes_;
  size_t step_;
  size_t pos_ = 0;
  std::string name_ = "mem://part-0";
};

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

StatusOr<std::string> Inflated(const std::string& bytes, size_t step = 1 << 20) {
  RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> s,
                      MaybeGunzip(std::make_unique<MemoryStream>(bytes, step)));
  return storage::ReadAll(*s, 1 << 30);
}

TEST(DecompressTest, PlainBytesPassThroughAndGzipIsInflatedWhateverTheReadSizes) {
  EXPECT_EQ(*Inflated("1,2,3\n"), "1,2,3\n");
  EXPECT_EQ(*Inflated("x"), "x") << "shorter than the magic";
  EXPECT_EQ(*Inflated(""), "");
  std::string big;
  for (int i = 0; i < 100000; ++i)
    big += std::to_string(i) + " 1:0.5 7:" + std::to_string(i) + "\n";
  EXPECT_EQ(*Inflated(Gzip(big)), big);
  EXPECT_EQ(*Inflated(Gzip(big), 7), big);
  // Two members, as `cat a.gz b.gz` makes: both, as zcat reads them.
  EXPECT_EQ(*Inflated(Gzip("first\n") + Gzip("second\n"), 3), "first\nsecond\n");
}

TEST(DecompressTest, BrokenGzipIsDataLossNamingTheObject) {
  const std::string gz = Gzip(std::string(50000, 'a') + "tail");
  StatusOr<std::string> truncated = Inflated(gz.substr(0, gz.size() / 2));
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(truncated.status().message(), HasSubstr("mem://part-0: truncated gzip stream"));
  std::string corrupt = gz;
  for (size_t i = 20; i < 60; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  StatusOr<std::string> bad = Inflated(corrupt);
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(bad.status().message(), HasSubstr("mem://part-0: corrupt gzip stream ("));
  StatusOr<std::string> garbage = Inflated(gz + "junk");
  EXPECT_EQ(garbage.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(garbage.status().message(), HasSubstr("trailing garbage after the gzip data"));
}

std::vector<std::string> Lines(const std::string& bytes, size_t step, size_t max_line = 1 << 20) {
  LineReader reader(std::make_unique<MemoryStream>(bytes, step), max_line);
  std::vector<std::string> lines;
  std::string_view line;
  while (true) {
    StatusOr<bool> more = reader.Next(&line);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    lines.push_back(std::to_string(reader.line_number()) + ":" + std::string(line));
  }
  EXPECT_EQ(reader.bytes_consumed(), static_cast<int64_t>(bytes.size()));
  return lines;
}

TEST(LineReaderTest, NumberedLinesWithCrlfAndWithoutAFinalNewline) {
  for (const size_t step : {size_t{1}, size_t{3}, size_t{1} << 20}) {
    EXPECT_THAT(Lines("a\r\nbb\n\nccc", step), ElementsAre("1:a", "2:bb", "3:", "4:ccc")) << step;
    EXPECT_THAT(Lines("x\n", step), ElementsAre("1:x")) << step;
    EXPECT_THAT(Lines("", step), ElementsAre()) << step;
  }
}

TEST(LineReaderTest, ALineBeyondTheLimitAndANulAreDataLossNamingTheLine) {
  // Lines of exactly the limit pass, across many refills of the buffer.
  std::string at_limit;
  for (int i = 0; i < 3; ++i) at_limit += std::string(300000, 'a' + static_cast<char>(i)) + "\n";
  EXPECT_EQ(Lines(at_limit, 4096, 300000).size(), 3u);

  LineReader reader(std::make_unique<MemoryStream>("ok\n" + std::string(10 << 20, '7') + "\nok\n"),
                    1 << 20);
  std::string_view line;
  ASSERT_TRUE(*reader.Next(&line));
  StatusOr<bool> too_long = reader.Next(&line);
  EXPECT_EQ(too_long.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(too_long.status().message(),
              HasSubstr("mem://part-0:2: a line longer than 1048576 bytes"));

  LineReader nul(std::make_unique<MemoryStream>(std::string("1 2:3\n4\0 5:6\n", 13)));
  ASSERT_TRUE(*nul.Next(&line));
  StatusOr<bool> binary = nul.Next(&line);
  EXPECT_EQ(binary.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(binary.status().message(), HasSubstr("mem://part-0:2: a NUL byte"));
}

// Regression (issue 13, bad input): a gzip stream that breaks after some lines named no line,
// and the lines inflated in the same read as the damage were dropped. The error now comes
// after every line before it and names the first line not returned.
TEST(LineReaderTest, BrokenGzipNamesTheLineWhereTheDataBreaks) {
  // A stored deflate block ("line1\nline2\n"), then a block of the reserved type 3.
  const std::string text = "line1\nline2\n";
  std::string corrupt("\x1f\x8b\x08\0\0\0\0\0\0\x03", 10);
  corrupt += std::string("\x00\x0c\x00\xf3\xff", 5) + text + "\x07";
  // Complete deflate data without the gzip trailer.
  const std::string gz = Gzip("1 1:1\n2 1:2\n3 1:3\n");
  const std::string truncated = gz.substr(0, gz.size() - 8);
  const std::pair<std::string, std::string> cases[] = {
      {corrupt, "mem://part-0:3: corrupt gzip stream (invalid block type)"},
      {truncated, "mem://part-0:4: truncated gzip stream"},
      {gz + "junk", "mem://part-0:4: trailing garbage after the gzip data"},
  };
  for (const auto& [bytes, message] : cases) {
    for (const size_t step : {size_t{1}, size_t{1} << 20}) {
      StatusOr<std::unique_ptr<storage::ByteStream>> s =
          MaybeGunzip(std::make_unique<MemoryStream>(bytes, step));
      ASSERT_TRUE(s.ok());
      LineReader reader(std::move(*s));
      std::string_view line;
      StatusOr<bool> more = true;
      int lines = 0;
      while (more.ok() && *more) {
        more = reader.Next(&line);
        if (more.ok() && *more) ++lines;
      }
      EXPECT_EQ(lines, 2 + (bytes == corrupt ? 0 : 1)) << message << ", step " << step;
      EXPECT_EQ(more.status().code(), StatusCode::kDataLoss);
      EXPECT_EQ(more.status().message(), message) << "step " << step;
      // And it stays broken.
      EXPECT_EQ(reader.Next(&line).status().code(), StatusCode::kDataLoss);
    }
  }
}

}  // namespace
}  // namespace ringtrain::data
