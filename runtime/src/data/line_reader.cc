#include "ringtrain/data/line_reader.h"

#include <algorithm>
#include <cstring>

namespace ringtrain::data {

LineReader::LineReader(std::unique_ptr<storage::ByteStream> stream, size_t max_line_bytes)
    : stream_(std::move(stream)),
      max_line_bytes_(max_line_bytes),
      buffer_(std::max<size_t>(max_line_bytes + 1, 256 << 10)) {}

// Every line before the failed read has been returned, so the bad bytes are in the next one:
// "<name>:<line>: <message>", the stream's name not repeated when its message starts with it.
Status LineReader::StreamError(const Status& s) const {
  std::string_view message = s.message();
  const std::string own = name() + ": ";
  if (message.starts_with(own)) message.remove_prefix(own.size());
  return Status(s.code(),
                name() + ":" + std::to_string(line_number_ + 1) + ": " + std::string(message));
}

StatusOr<bool> LineReader::Next(std::string_view* line) {
  size_t scanned = begin_;  // no newline in [begin_, scanned)
  while (true) {
    const char* nl =
        static_cast<const char*>(std::memchr(buffer_.data() + scanned, '\n', end_ - scanned));
    if (nl != nullptr || (eof_ && begin_ < end_)) {
      const size_t stop = nl != nullptr ? static_cast<size_t>(nl - buffer_.data()) : end_;
      // Errors name the line by line_number() + 1, as the one below does; the count moves
      // only for a line returned.
      if (stop - begin_ > max_line_bytes_) {
        return DataLoss(name() + ":" + std::to_string(line_number_ + 1) + ": a line longer than " +
                        std::to_string(max_line_bytes_) + " bytes");
      }
      std::string_view text(buffer_.data() + begin_, stop - begin_);
      if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
        return DataLoss(name() + ":" + std::to_string(line_number_ + 1) +
                        ": a NUL byte (binary data, not text)");
      }
      ++line_number_;
      consumed_ += static_cast<int64_t>(stop - begin_) + (nl != nullptr ? 1 : 0);
      begin_ = nl != nullptr ? stop + 1 : stop;
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      *line = text;
      return true;
    }
    if (eof_) return false;
    if (end_ - begin_ > max_line_bytes_) {
      return DataLoss(name() + ":" + std::to_string(line_number_ + 1) + ": a line longer than " +
                      std::to_string(max_line_bytes_) + " bytes");
    }
    // Move the partial line to the front and read more behind it.
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    scanned = end_;
    StatusOr<size_t> read =
        stream_->Read(std::span<char>(buffer_.data() + end_, buffer_.size() - end_));
    if (!read.ok()) return StreamError(read.status());
    const size_t n = *read;
    if (n == 0) eof_ = true;
    end_ += n;
  }
}

}  // namespace ringtrain::data
