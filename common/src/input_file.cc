#include "ringtrain/common/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ringtrain {
namespace {

// What a non-regular file is, for the message.
const char* KindOf(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

InputFile::InputFile(InputFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

InputFile& InputFile::operator=(InputFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
  }
  return *this;
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

int InputFile::Release() { return std::exchange(fd_, -1); }

StatusOr<InputFile> OpenInputFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return NotFound(path + ": no such file");
    struct stat st {};
    if (err == ENXIO && ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      return InvalidArgument(path + ": is " + KindOf(st.st_mode) + ", not a regular file");
    }
    return FailedPrecondition(path + ": cannot open: " + std::strerror(err));
  }
  InputFile file(fd, 0);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return FailedPrecondition(path + ": cannot stat: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    const char* kind = KindOf(st.st_mode);
    if (S_ISDIR(st.st_mode)) return InvalidArgument(path + ": is a directory, not a file");
    return InvalidArgument(path + ": is " + kind +
                           ", not a regular file (it could block or never end; copy it to a "
                           "file)");
  }
  // Reads of a regular file never block; clear the flag so callers see ordinary semantics.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return InputFile(file.Release(), static_cast<uint64_t>(st.st_size));
}

StatusOr<std::string> ReadInputFile(InputFile& file, const std::string& path, uint64_t max_bytes,
                                    const std::string& what) {
  if (file.size() > max_bytes) {
    return InvalidArgument(path + ": " + what + ", it has " + std::to_string(file.size()) +
                           " bytes");
  }
  std::string text(static_cast<size_t>(max_bytes) + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(file.fd(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return DataLoss(path + ": cannot read: " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) return DataLoss(path + ": grew beyond " + what + " while it was read");
  text.resize(got);
  return text;
}

}  // namespace ringtrain
