// File I/O of checkpoints (internal to the ckpt library): files written with a running CRC-32
// and made durable (fsync), and files read through a reader that knows how many bytes the file
// really holds, so a size read from inside a file is checked before anything is allocated or
// read for it.
//
// Every error is a Status naming the path and the system's reason (strerror). Reads of a file
// that is shorter than its manifest says are DataLoss ("truncated").
//
// Thread-safety: each object is used by one thread at a time; distinct objects are independent.
#ifndef RINGTRAIN_CKPT_SRC_FILE_IO_H_
#define RINGTRAIN_CKPT_SRC_FILE_IO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/ckpt/manifest.h"
#include "ringtrain/common/status.h"

namespace ringtrain::ckpt::internal {

// Writes a new file sequentially through a buffer, computing its CRC-32 as it goes.
class ChecksummedWriter {
 public:
  // Creates `path`, which must not exist (O_EXCL).
  static StatusOr<std::unique_ptr<ChecksummedWriter>> Create(const std::string& path);
  ~ChecksummedWriter();  // closes the file if Finish was not reached
  ChecksummedWriter(const ChecksummedWriter&) = delete;
  ChecksummedWriter& operator=(const ChecksummedWriter&) = delete;

  Status Append(const void* data, size_t n);
  // Writes what is buffered, fsyncs and closes. Returns the file's entry (its base name, size,
  // CRC-32). REQUIRES: called once, last.
  StatusOr<FileEntry> Finish(const std::string& name);

 private:
  ChecksummedWriter(std::string path, int fd);
  Status Flush();
  Status WriteRaw(const void* data, size_t n);

  std::string path_;
  int fd_;
  std::vector<char> buffer_;
  uint64_t bytes_ = 0;
  uint32_t crc_ = 0;
};

// Reads a file whose size must be exactly what its manifest says.
class BoundedReader {
 public:
  // Opens `path` and checks its size: DataLoss "<path>: <n> bytes, the manifest says <m>
  // (truncated)" or "(trailing bytes)"; NotFound if it is missing.
  static StatusOr<std::unique_ptr<BoundedReader>> Open(const std::string& path,
                                                       uint64_t expected_bytes);
  ~BoundedReader();
  BoundedReader(const BoundedReader&) = delete;
  BoundedReader& operator=(const BoundedReader&) = delete;

  uint64_t remaining() const { return remaining_; }
  uint32_t crc() const { return crc_; }
  const std::string& path() const { return path_; }

  // Reads exactly n bytes into out. DataLoss if n > remaining() (then nothing is read) or the
  // file ends early (it changed while read).
  Status Read(void* out, size_t n);
  // Reads the rest of the file through the CRC in bounded chunks (to tell a damaged file from
  // one that is only inconsistent), discarding it.
  Status Drain();

 private:
  BoundedReader(std::string path, int fd, uint64_t size);

  std::string path_;
  int fd_;
  uint64_t remaining_;
  uint32_t crc_ = 0;
};

// Writes `bytes` to a new file `path` and fsyncs it.
Status WriteDurableFile(const std::string& path, const std::string& bytes);

// Reads a whole file of at most max_bytes (checked with fstat before reading). NotFound if it
// does not exist, DataLoss if it is larger.
StatusOr<std::string> ReadSmallFile(const std::string& path, int64_t max_bytes);

// fsyncs a directory, so the entries created or renamed in it are durable.
Status FsyncDirectory(const std::string& path);

// "<strerror(err)>"
std::string ErrnoText(int err);

}  // namespace ringtrain::ckpt::internal

#endif  // RINGTRAIN_CKPT_SRC_FILE_IO_H_
