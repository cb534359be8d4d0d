// LineReader: the lines of a byte stream, one at a time, with their 1-based numbers, for the
// text formats. A line ends at '\n' (a '\r' before it is dropped); the last line needs no
// newline. Lines are views into the reader's buffer, valid until the next Next().
//
// Memory is bounded: a line longer than `max_line_bytes` is DataLoss "<name>:<line>: a line
// longer than N bytes" (the rest of the stream is not read into memory to find its end). A NUL
// byte in a line is DataLoss too (binary data given as text). Such errors name the line as
// line_number() + 1 (the count moves only for lines returned). The stream's own errors (a
// corrupt or truncated gzip stream, a failed read) keep their code and are named the same way,
// "<name>:<line>: <message>", <line> being the first line not yet returned.
//
// Thread-safety: one thread at a time.
#ifndef RINGTRAIN_DATA_LINE_READER_H_
#define RINGTRAIN_DATA_LINE_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringtrain/storage/object_store.h"

namespace ringtrain::data {

class LineReader {
 public:
  explicit LineReader(std::unique_ptr<storage::ByteStream> stream, size_t max_line_bytes = 1 << 20);

  // The next line into *line (true), or false at the end of the stream.
  [[nodiscard]] StatusOr<bool> Next(std::string_view* line);

  // The number of the line Next returned last (0 before the first).
  int64_t line_number() const { return line_number_; }
  // Bytes of the stream consumed up to the end of that line, its newline included.
  int64_t bytes_consumed() const { return consumed_; }
  const std::string& name() const { return stream_->name(); }

 private:
  Status StreamError(const Status& s) const;

  std::unique_ptr<storage::ByteStream> stream_;
  const size_t max_line_bytes_;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // the first byte not yet returned
  size_t end_ = 0;    // the end of the bytes read
  bool eof_ = false;
  int64_t line_number_ = 0;
  int64_t consumed_ = 0;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_LINE_READER_H_
