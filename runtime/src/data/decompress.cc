#include "ringtrain/data/decompress.h"

#include <zlib.h>

#include <cstring>
#include <string>
#include <vector>

namespace ringtrain::data {
namespace {

using storage::ByteStream;

constexpr size_t kInputBytes = 256 << 10;

// The source with a few bytes already read put back in front.
class Prefixed final : public ByteStream {
 public:
  Prefixed(std::string head, std::unique_ptr<ByteStream> rest)
      : head_(std::move(head)), rest_(std::move(rest)) {}
  StatusOr<size_t> Read(std::span<char> out) override {
    if (used_ < head_.size()) {
      const size_t n = std::min(out.size(), head_.size() - used_);
      std::memcpy(out.data(), head_.data() + used_, n);
      used_ += n;
      return n;
    }
    return rest_->Read(out);
  }
  const std::string& name() const override { return rest_->name(); }

 private:
  std::string head_;
  size_t used_ = 0;
  std::unique_ptr<ByteStream> rest_;
};

class Gunzip final : public ByteStream {
 public:
  explicit Gunzip(std::unique_ptr<ByteStream> source)
      : source_(std::move(source)), input_(kInputBytes) {
    std::memset(&z_, 0, sizeof z_);
    // 16 + MAX_WBITS: a gzip wrapper, not zlib's.
    ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK;
  }
  ~Gunzip() override { inflateEnd(&z_); }

  StatusOr<size_t> Read(std::span<char> out) override {
    if (!ok_) return Internal(name() + ": zlib could not start");
    if (!error_.ok()) return error_;
    if (out.empty() || done_) return size_t{0};
    Status s = Inflate(out);
    const size_t n = static_cast<size_t>(reinterpret_cast<char*>(z_.next_out) - out.data());
    if (!s.ok()) {
      if (n == 0) return s;
      // The bytes inflated before the damage first, so a reader's line count reaches it; the
      // error on the next call (and on every one after).
      error_ = std::move(s);
    }
    return n;
  }

  const std::string& name() const override { return source_->name(); }

 private:
  // Inflates into `out` until some bytes are there or the stream ends (done_).
  Status Inflate(std::span<char> out) {
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), 1u << 30));
    while (z_.avail_out == static_cast<uInt>(std::min<size_t>(out.size(), 1u << 30))) {
      if (z_.avail_in == 0) {
        RT_ASSIGN_OR_RETURN(const size_t n, source_->Read(std::span<char>(input_)));
        if (n == 0) {
          if (member_started_) return DataLoss(name() + ": truncated gzip stream");
          done_ = true;
          break;
        }
        z_.next_in = reinterpret_cast<Bytef*>(input_.data());
        z_.avail_in = static_cast<uInt>(n);
      }
      if (!member_started_) {
        // A new member must start with the magic; anything else after the first is garbage.
        if (z_.next_in[0] != 0x1f) {
          return DataLoss(name() + ": trailing garbage after the gzip data");
        }
        member_started_ = true;
      }
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        member_started_ = false;
        inflateReset(&z_);
        continue;
      }
      if (rc == Z_BUF_ERROR && z_.avail_in == 0) continue;  // needs more input
      if (rc != Z_OK) {
        return DataLoss(
            name() + ": corrupt gzip stream (" +
            (z_.msg != nullptr ? std::string(z_.msg) : "zlib error " + std::to_string(rc)) + ")");
      }
    }
    return Status::Ok();
  }

  std::unique_ptr<ByteStream> source_;
  std::vector<char> input_;
  z_stream z_;
  bool ok_ = false;
  bool member_started_ = false;
  bool done_ = false;
  Status error_;  // sticky: a stream once broken stays broken
};

}  // namespace

StatusOr<std::unique_ptr<ByteStream>> MaybeGunzip(std::unique_ptr<ByteStream> source) {
  std::string head;
  char buf[2];
  while (head.size() < 2) {
    RT_ASSIGN_OR_RETURN(const size_t n, source->Read(std::span<char>(buf, 2 - head.size())));
    if (n == 0) break;
    head.append(buf, n);
  }
  const bool gzip = head.size() == 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
                    static_cast<unsigned char>(head[1]) == 0x8b;
  std::unique_ptr<ByteStream> whole =
      std::make_unique<Prefixed>(std::move(head), std::move(source));
  if (!gzip) return whole;
  return std::unique_ptr<ByteStream>(std::make_unique<Gunzip>(std::move(whole)));
}

}  // namespace ringtrain::data
