#include "ranged_stream.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace ringtrain::storage {

StatusOr<std::string> ReadAll(ByteStream& stream, size_t max_bytes) {
  std::string out;
  char buf[64 * 1024];
  while (true) {
    RT_ASSIGN_OR_RETURN(const size_t n, stream.Read(buf));
    if (n == 0) return out;
    if (out.size() + n > max_bytes) {
      return DataLoss(stream.name() + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, n);
  }
}

namespace internal {
namespace {

class RangedStream final : public ByteStream {
 public:
  RangedStream(std::string name, int64_t begin, int64_t end, int64_t chunk, RangeFetch fetch)
      : name_(std::move(name)),
        next_(begin),
        end_(end),
        chunk_(std::max<int64_t>(1, chunk)),
        fetch_(std::move(fetch)) {}

  StatusOr<size_t> Read(std::span<char> out) override {
    if (used_ == buffer_.size()) {
      if (next_ >= end_ || out.empty()) return size_t{0};
      const int64_t length = std::min(chunk_, end_ - next_);
      buffer_.clear();
      used_ = 0;
      RT_RETURN_IF_ERROR(fetch_(next_, length, &buffer_));
      if (static_cast<int64_t>(buffer_.size()) != length) {
        return DataLoss(name_ + ": asked for bytes " + std::to_string(next_) + "-" +
                        std::to_string(next_ + length - 1) + ", got " +
                        std::to_string(buffer_.size()) +
                        " bytes (the object changed or is shorter than listed)");
      }
      next_ += length;
    }
    const size_t n = std::min(out.size(), buffer_.size() - used_);
    std::memcpy(out.data(), buffer_.data() + used_, n);
    used_ += n;
    return n;
  }

  const std::string& name() const override { return name_; }

 private:
  const std::string name_;
  int64_t next_;  // the next byte to fetch
  const int64_t end_;
  const int64_t chunk_;
  const RangeFetch fetch_;
  std::string buffer_;
  size_t used_ = 0;
};

}  // namespace

std::unique_ptr<ByteStream> MakeRangedStream(std::string name, int64_t begin, int64_t end,
                                             int64_t chunk, RangeFetch fetch) {
  return std::make_unique<RangedStream>(std::move(name), begin, end, chunk, std::move(fetch));
}

}  // namespace internal
}  // namespace ringtrain::storage
