#include "atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

namespace ringtrain::exporter {
namespace {

Status ErrnoStatus(int err, const std::string& what) {
  std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFound(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDenied(std::move(message));
    default:
      return FailedPrecondition(std::move(message));
  }
}

// Closes the descriptor and removes the temporary file unless released.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Closes the descriptor; the file stays until Release().
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void Release() { path_.clear(); }

 private:
  int fd_;
  std::string path_;
};

Status WriteAll(int fd, std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, what);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Creates "<path>.tmp-<pid>-<n>" exclusively, with mode 0666 less the umask (as any file we
// write; mkstemp would make it 0600, and reading the umask means changing it, process-wide).
StatusOr<int> CreateTemp(const std::string& path, std::string* tmp_path) {
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0;; ++attempt) {
    *tmp_path = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    const int fd = ::open(tmp_path->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    // A leftover of a crashed process with our pid: take the next name.
    if (errno != EEXIST || attempt == 100) {
      return ErrnoStatus(errno, path + ": cannot create a temporary file beside it");
    }
  }
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  std::string tmp_path;
  RT_ASSIGN_OR_RETURN(const int fd, CreateTemp(path, &tmp_path));
  TempFile tmp(fd, tmp_path);
  RT_RETURN_IF_ERROR(WriteAll(tmp.fd(), bytes, tmp.path() + ": write"));
  if (::fsync(tmp.fd()) != 0) return ErrnoStatus(errno, tmp.path() + ": fsync");
  if (tmp.Close() != 0) return ErrnoStatus(errno, tmp.path() + ": close");
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) {
    return ErrnoStatus(errno, path + ": cannot rename " + tmp.path() + " over it");
  }
  tmp.Release();
  // The rename is durable once the directory is synced.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return ErrnoStatus(errno, dir + ": open directory to sync it");
  const int rc = ::fsync(dir_fd);
  const int err = errno;
  ::close(dir_fd);
  if (rc != 0) return ErrnoStatus(err, dir + ": fsync");
  return Status::Ok();
}

}  // namespace ringtrain::exporter
