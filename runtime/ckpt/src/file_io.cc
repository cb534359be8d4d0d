#include "file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <zlib.h>

namespace ringtrain::ckpt::internal {

namespace {

constexpr size_t kWriteBuffer = size_t{1} << 20;
// One read() or write() at a time moves at most this much (Linux moves at most ~2 GiB anyway).
constexpr size_t kMaxIo = size_t{1} << 30;

uint32_t CrcUpdate(uint32_t crc, const void* data, size_t n) {
  return static_cast<uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), n));
}

void CloseQuietly(int fd) {
  if (fd >= 0) ::close(fd);
}

// An open regular file and its size.
struct OpenFile {
  int fd;
  uint64_t size;
};

// Opens `path` for reading: NotFound if it does not exist, DataLoss if it is not a regular file.
StatusOr<OpenFile> OpenRegularFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound(path + ": missing");
    return Unavailable("cannot open " + path + ": " + ErrnoText(err));
  }
  struct stat st = {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    CloseQuietly(fd);
    return Unavailable("cannot stat " + path + ": " + ErrnoText(err));
  }
  if (!S_ISREG(st.st_mode)) {
    CloseQuietly(fd);
    return DataLoss(path + ": not a regular file");
  }
  return OpenFile{fd, static_cast<uint64_t>(st.st_size)};
}

}  // namespace

std::string ErrnoText(int err) { return std::strerror(err); }

StatusOr<std::unique_ptr<ChecksummedWriter>> ChecksummedWriter::Create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    return Unavailable("cannot create " + path + ": " + ErrnoText(err));
  }
  return std::unique_ptr<ChecksummedWriter>(new ChecksummedWriter(path, fd));
}

ChecksummedWriter::ChecksummedWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
  buffer_.reserve(kWriteBuffer);
}

ChecksummedWriter::~ChecksummedWriter() { CloseQuietly(fd_); }

Status ChecksummedWriter::WriteRaw(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, std::min(n, kMaxIo));
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return Unavailable("writing " + path_ + ": " + ErrnoText(err));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status ChecksummedWriter::Flush() {
  if (buffer_.empty()) return Status::Ok();
  RT_RETURN_IF_ERROR(WriteRaw(buffer_.data(), buffer_.size()));
  buffer_.clear();
  return Status::Ok();
}

Status ChecksummedWriter::Append(const void* data, size_t n) {
  crc_ = CrcUpdate(crc_, data, n);
  bytes_ += n;
  if (buffer_.size() + n <= kWriteBuffer) {
    const char* p = static_cast<const char*>(data);
    buffer_.insert(buffer_.end(), p, p + n);
    return Status::Ok();
  }
  // Large arrays go straight to the file.
  RT_RETURN_IF_ERROR(Flush());
  return WriteRaw(data, n);
}

StatusOr<FileEntry> ChecksummedWriter::Finish(const std::string& name) {
  RT_RETURN_IF_ERROR(Flush());
  if (::fsync(fd_) != 0) {
    const int err = errno;
    return Unavailable("fsync " + path_ + ": " + ErrnoText(err));
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    return Unavailable("closing " + path_ + ": " + ErrnoText(err));
  }
  return FileEntry{name, bytes_, crc_};
}

StatusOr<std::unique_ptr<BoundedReader>> BoundedReader::Open(const std::string& path,
                                                             uint64_t expected_bytes) {
  RT_ASSIGN_OR_RETURN(OpenFile file, OpenRegularFile(path));
  const int fd = file.fd;
  const uint64_t size = file.size;
  if (size != expected_bytes) {
    CloseQuietly(fd);
    return DataLoss(path + ": " + std::to_string(size) + " bytes, the manifest says " +
                    std::to_string(expected_bytes) +
                    (size < expected_bytes ? " (truncated)" : " (trailing bytes)"));
  }
  return std::unique_ptr<BoundedReader>(new BoundedReader(path, fd, size));
}

BoundedReader::BoundedReader(std::string path, int fd, uint64_t size)
    : path_(std::move(path)), fd_(fd), remaining_(size) {}

BoundedReader::~BoundedReader() { CloseQuietly(fd_); }

Status BoundedReader::Read(void* out, size_t n) {
  if (n > remaining_) {
    return DataLoss(path_ + ": needs " + std::to_string(n) + " more bytes, only " +
                    std::to_string(remaining_) + " left");
  }
  char* p = static_cast<char*>(out);
  size_t left = n;
  while (left > 0) {
    const ssize_t r = ::read(fd_, p, std::min(left, kMaxIo));
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return Unavailable("reading " + path_ + ": " + ErrnoText(err));
    }
    if (r == 0) return DataLoss(path_ + ": ended early (the file changed while it was read)");
    p += r;
    left -= static_cast<size_t>(r);
  }
  crc_ = CrcUpdate(crc_, out, n);
  remaining_ -= n;
  return Status::Ok();
}

Status BoundedReader::Drain() {
  std::vector<char> chunk(std::min<uint64_t>(remaining_, kWriteBuffer));
  while (remaining_ > 0) {
    RT_RETURN_IF_ERROR(
        Read(chunk.data(), static_cast<size_t>(std::min<uint64_t>(remaining_, chunk.size()))));
  }
  return Status::Ok();
}

Status WriteDurableFile(const std::string& path, const std::string& bytes) {
  RT_ASSIGN_OR_RETURN(std::unique_ptr<ChecksummedWriter> w, ChecksummedWriter::Create(path));
  RT_RETURN_IF_ERROR(w->Append(bytes.data(), bytes.size()));
  return w->Finish(path).status();
}

StatusOr<std::string> ReadSmallFile(const std::string& path, int64_t max_bytes) {
  RT_ASSIGN_OR_RETURN(OpenFile file, OpenRegularFile(path));
  const int fd = file.fd;
  if (file.size > static_cast<uint64_t>(max_bytes)) {
    CloseQuietly(fd);
    return DataLoss(path + ": " + std::to_string(file.size) + " bytes, more than the " +
                    std::to_string(max_bytes) + " allowed");
  }
  std::string bytes(static_cast<size_t>(file.size), '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      CloseQuietly(fd);
      return Unavailable("reading " + path + ": " + ErrnoText(err));
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  CloseQuietly(fd);
  bytes.resize(got);
  return bytes;
}

Status FsyncDirectory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Unavailable("cannot open directory " + path + ": " + ErrnoText(err));
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  CloseQuietly(fd);
  if (rc != 0) return Unavailable("fsync directory " + path + ": " + ErrnoText(err));
  return Status::Ok();
}

}  // namespace ringtrain::ckpt::internal
