// Opening the files users name (job specs, data) without trusting what the name points at.
//
// OpenInputFile opens `path` read-only and never blocks doing so: open(2) on a FIFO without a
// writer would wait forever, so the file is opened non-blocking and then checked. Only a regular
// file is accepted. A FIFO, a terminal or a socket can make a reader wait forever or never end,
// a device can be endless, and a directory is not data; each is refused with what it is.
//
// Errors (every message starts with "<path>: "):
//   NotFound         no such file
//   InvalidArgument  is a directory / a FIFO (named pipe) / a character device / a block device
//                    / a socket, not a regular file
//   FailedPrecondition  cannot open: <strerror> (permissions, too many open files)
//
// Thread-safety: InputFile is a move-only owner of one descriptor; use it from one thread.
#ifndef RINGTRAIN_COMMON_INPUT_FILE_H_
#define RINGTRAIN_COMMON_INPUT_FILE_H_

#include <cstdint>
#include <string>

#include "ringtrain/common/status.h"

namespace ringtrain {

class InputFile {
 public:
  InputFile() = default;
  InputFile(int fd, uint64_t size) : fd_(fd), size_(size) {}
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&& other) noexcept;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();

  // The open descriptor (blocking reads, close-on-exec), or -1 after Release().
  int fd() const { return fd_; }
  // The file's size in bytes when it was opened.
  uint64_t size() const { return size_; }
  // Gives up ownership: the caller closes the returned descriptor.
  int Release();

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

[[nodiscard]] StatusOr<InputFile> OpenInputFile(const std::string& path);

// The whole of `file` (opened from `path`, which errors name), read to its end. A file larger
// than `max_bytes` when opened is InvalidArgument "<path>: <what>, it has N bytes"; one that
// grows beyond it while read, DataLoss; a read error, DataLoss naming it.
[[nodiscard]] StatusOr<std::string> ReadInputFile(InputFile& file, const std::string& path,
                                                  uint64_t max_bytes, const std::string& what);

}  // namespace ringtrain

#endif  // RINGTRAIN_COMMON_INPUT_FILE_H_
