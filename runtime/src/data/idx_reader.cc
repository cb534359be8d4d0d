#include "ringtrain/data/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "ringtrain/common/input_file.h"

namespace ringtrain::data {
namespace {

constexpr unsigned kGzBufferBytes = 1u << 20;  // zlib's input and output buffers
constexpr size_t kReadChunkBytes = size_t{4} << 20;

std::string Hex32(uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

// An open gzip-or-raw file; closes on destruction. Messages are prefixed with the path.
class IdxFile {
 public:
  IdxFile(const IdxFile&) = delete;
  IdxFile& operator=(const IdxFile&) = delete;
  ~IdxFile() {
    if (f_ != nullptr) gzclose(f_);
  }

  static StatusOr<std::unique_ptr<IdxFile>> Open(const std::string& path) {
    RT_ASSIGN_OR_RETURN(InputFile file, OpenInputFile(path));
    const uint64_t size = file.size();
    gzFile f = gzdopen(file.fd(), "rb");
    if (f == nullptr) {
      return FailedPrecondition(path + ": cannot open: " + std::strerror(errno));
    }
    file.Release();  // gzclose closes it
    gzbuffer(f, kGzBufferBytes);
    return std::unique_ptr<IdxFile>(new IdxFile(path, f, size));
  }

  // Fails unless the file can hold `payload` bytes after a header of `header` bytes: a raw
  // file must have exactly that size, a gzip file at least 1/1032 of it (deflate's largest
  // expansion). Cheap (no data is read): a header announcing terabytes in a 116-byte file is
  // refused before anything is sized from it. REQUIRES: the header has been read.
  Status CheckAnnounced(uint64_t header, uint64_t payload, const std::string& what) {
    const uint64_t announced = header + payload;
    if (gzdirect(f_) == 1) {
      if (announced > file_bytes_) {
        return DataLoss(path_ + ": truncated: the header announces " + what + " = " +
                        std::to_string(payload) + " payload bytes, the file holds " +
                        std::to_string(file_bytes_ - std::min(file_bytes_, header)));
      }
      return Status::Ok();
    }
    constexpr uint64_t kMaxDeflateRatio = 1032;
    if (file_bytes_ < std::numeric_limits<uint64_t>::max() / kMaxDeflateRatio &&
        announced > file_bytes_ * kMaxDeflateRatio) {
      return DataLoss(path_ + ": the header announces " + what + " = " + std::to_string(payload) +
                      " payload bytes, more than a gzip file of " + std::to_string(file_bytes_) +
                      " bytes can hold (deflate expands at most 1032:1)");
    }
    return Status::Ok();
  }

  const std::string& path() const { return path_; }

  // Reads up to n bytes into dst, stopping early only at the end of the data.
  StatusOr<size_t> Read(uint8_t* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      const unsigned want = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
      const int got = gzread(f_, dst + done, want);
      if (got < 0) {
        return DataLoss(path_ + ": " + ZlibError() + " (reading from uncompressed byte " +
                        std::to_string(position_ + done) + ")");
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    position_ += done;
    return done;
  }

  // Reads the payload of `expected` bytes and checks nothing follows it. `what` describes the
  // payload for messages ("3 images of 28x28 pixels").
  StatusOr<std::vector<uint8_t>> ReadPayload(uint64_t expected, const std::string& what) {
    std::vector<uint8_t> data;
    // Grow with the data actually read, so a lying header cannot trigger a huge allocation.
    while (data.size() < expected) {
      const size_t old = data.size();
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(expected - old, kReadChunkBytes));
      data.resize(old + chunk);
      RT_ASSIGN_OR_RETURN(size_t got, Read(data.data() + old, chunk));
      data.resize(old + got);
      if (got < chunk) break;
    }
    if (data.size() < expected) {
      return DataLoss(path_ + ": truncated: the header announces " + what + " = " +
                      std::to_string(expected) + " payload bytes, the file holds " +
                      std::to_string(data.size()) + TruncatedGzipNote());
    }
    uint64_t extra = 0;
    std::array<uint8_t, 64 * 1024> scratch;
    for (;;) {
      RT_ASSIGN_OR_RETURN(size_t got, Read(scratch.data(), scratch.size()));
      if (got == 0) break;
      extra += got;
    }
    if (extra > 0) {
      return DataLoss(path_ + ": " + std::to_string(extra) + " unexpected trailing bytes after " +
                      "the " + std::to_string(expected) + " payload bytes announced by the " +
                      "header (" + what + ")");
    }
    if (GzipTruncated()) {
      return DataLoss(path_ + ": the gzip stream ends prematurely (its end or CRC is missing)");
    }
    return data;
  }

  // Reads the magic number and dimensions; checks the magic is `magic` (described by `kind`).
  StatusOr<std::vector<uint32_t>> ReadHeader(uint32_t magic, const char* kind) {
    const int dims = static_cast<int>(magic & 0xff);
    std::array<uint8_t, 4 * 4> raw{};
    RT_ASSIGN_OR_RETURN(size_t got, Read(raw.data(), 4));
    if (got < 4) {
      return DataLoss(path_ + ": too short for an IDX header (" + std::to_string(got) +
                      " of 4 magic bytes)" + TruncatedGzipNote());
    }
    const uint32_t found = BigEndian(raw.data());
    if (found != magic) {
      std::string hint;
      if (found == kIdxImagesMagic) hint = " (this is an IDX image file)";
      if (found == kIdxLabelsMagic) hint = " (this is an IDX label file)";
      return InvalidArgument(path_ + ": bad magic " + Hex32(found) + ", expected " + Hex32(magic) +
                             " for " + kind + hint);
    }
    RT_ASSIGN_OR_RETURN(got, Read(raw.data(), 4 * dims));
    if (got < static_cast<size_t>(4 * dims)) {
      return DataLoss(path_ + ": truncated header: " + std::to_string(got) + " of " +
                      std::to_string(4 * dims) + " dimension bytes" + TruncatedGzipNote());
    }
    std::vector<uint32_t> out;
    for (int i = 0; i < dims; ++i) out.push_back(BigEndian(raw.data() + 4 * i));
    return out;
  }

 private:
  IdxFile(std::string path, gzFile f, uint64_t file_bytes)
      : path_(std::move(path)), f_(f), file_bytes_(file_bytes) {}

  static uint32_t BigEndian(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  }

  std::string ZlibError() {
    int errnum = 0;
    std::string_view msg = gzerror(f_, &errnum);
    if (errnum == Z_ERRNO) return std::string("read error: ") + std::strerror(errno);
    // zlib prefixes its message with the path, which our message already starts with.
    if (msg.starts_with(path_ + ": ")) msg.remove_prefix(path_.size() + 2);
    return "corrupt gzip stream: " + std::string(msg);
  }

  // zlib reports a gzip stream that ends early as Z_BUF_ERROR rather than as a failed read.
  bool GzipTruncated() {
    int errnum = 0;
    gzerror(f_, &errnum);
    return errnum == Z_BUF_ERROR;
  }
  std::string TruncatedGzipNote() {
    return GzipTruncated() ? " (the gzip stream ends prematurely)" : "";
  }

  std::string path_;
  gzFile f_;
  uint64_t file_bytes_ = 0;  // on disk (compressed or not)
  uint64_t position_ = 0;    // uncompressed bytes read so far
};

constexpr uint64_t kImagesHeaderBytes = 16;  // magic, count, rows, cols
constexpr uint64_t kLabelsHeaderBytes = 8;   // magic, count

std::string ImagesWhat(uint64_t n, uint64_t rows, uint64_t cols) {
  return std::to_string(n) + " images of " + std::to_string(rows) + "x" + std::to_string(cols) +
         " pixels";
}

}  // namespace

StatusOr<IdxImagesShape> ReadIdxImagesShape(const std::string& images_path) {
  RT_ASSIGN_OR_RETURN(std::unique_ptr<IdxFile> images, IdxFile::Open(images_path));
  RT_ASSIGN_OR_RETURN(std::vector<uint32_t> dims,
                      images->ReadHeader(kIdxImagesMagic, "IDX images (uint8, 3-D)"));
  if (dims[0] == 0) return DataLoss(images_path + ": the header announces no images");
  if (dims[1] == 0 || dims[2] == 0) {
    return DataLoss(images_path + ": image size " + std::to_string(dims[1]) + "x" +
                    std::to_string(dims[2]) + " has a zero dimension");
  }
  // n * rows * cols < 2^96 does not fit: the product is checked in two steps.
  const uint64_t d = uint64_t{dims[1]} * dims[2];
  if (d > std::numeric_limits<uint64_t>::max() / dims[0]) {
    return DataLoss(images_path + ": header announces an impossible size");
  }
  RT_RETURN_IF_ERROR(images->CheckAnnounced(kImagesHeaderBytes, dims[0] * d,
                                            ImagesWhat(dims[0], dims[1], dims[2])));
  return IdxImagesShape{dims[0], dims[1], dims[2]};
}

StatusOr<Dataset> LoadIdx(const std::string& images_path, const std::string& labels_path,
                          int num_classes) {
  if (num_classes < 1) {
    return InvalidArgument("num_classes must be >= 1 (got " + std::to_string(num_classes) + ")");
  }
  // Images.
  RT_ASSIGN_OR_RETURN(std::unique_ptr<IdxFile> images, IdxFile::Open(images_path));
  RT_ASSIGN_OR_RETURN(std::vector<uint32_t> idims,
                      images->ReadHeader(kIdxImagesMagic, "IDX images (uint8, 3-D)"));
  const uint64_t n = idims[0], rows = idims[1], cols = idims[2];
  if (rows == 0 || cols == 0) {
    return DataLoss(images_path + ": image size " + std::to_string(rows) + "x" +
                    std::to_string(cols) + " has a zero dimension");
  }
  const uint64_t d = rows * cols;  // < 2^64: both factors are < 2^32
  if (n > 0 && d > std::numeric_limits<uint64_t>::max() / n) {
    return DataLoss(images_path + ": header announces an impossible size");
  }
  const std::string what = ImagesWhat(n, rows, cols);
  RT_RETURN_IF_ERROR(images->CheckAnnounced(kImagesHeaderBytes, n * d, what));
  RT_ASSIGN_OR_RETURN(std::vector<uint8_t> pixels, images->ReadPayload(n * d, what));
  images.reset();

  // Labels.
  RT_ASSIGN_OR_RETURN(std::unique_ptr<IdxFile> labels, IdxFile::Open(labels_path));
  RT_ASSIGN_OR_RETURN(std::vector<uint32_t> ldims,
                      labels->ReadHeader(kIdxLabelsMagic, "IDX labels (uint8, 1-D)"));
  if (ldims[0] != n) {
    return InvalidArgument(labels_path + ": holds " + std::to_string(ldims[0]) + " labels but " +
                           images_path + " holds " + std::to_string(n) + " images");
  }
  RT_RETURN_IF_ERROR(labels->CheckAnnounced(kLabelsHeaderBytes, n, std::to_string(n) + " labels"));
  RT_ASSIGN_OR_RETURN(std::vector<uint8_t> raw_labels,
                      labels->ReadPayload(n, std::to_string(n) + " labels"));

  Dataset out;
  out.num_classes = num_classes;
  out.labels.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    if (raw_labels[i] >= num_classes) {
      return InvalidArgument(labels_path + ": record " + std::to_string(i) + ": label " +
                             std::to_string(raw_labels[i]) + " is out of range [0, " +
                             std::to_string(num_classes) + ")");
    }
    out.labels[i] = raw_labels[i];
  }
  // A table gives exactly pixel / 255.0f (255 -> 1.0f) at the cost of a load per pixel.
  std::array<float, 256> scale;
  for (int v = 0; v < 256; ++v) scale[v] = static_cast<float>(v) / 255.0f;
  out.features.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  float* dst = out.features.data();
  const uint8_t* src = pixels.data();
  for (size_t i = 0, size = pixels.size(); i < size; ++i) dst[i] = scale[src[i]];
  return out;
}

}  // namespace ringtrain::data
