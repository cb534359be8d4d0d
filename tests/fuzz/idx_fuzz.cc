// libFuzzer target: IDX image and label files, raw or gzip (data::ReadIdxImagesShape and
// data::LoadIdx). Input: [images file length, 2 bytes][images file][labels file]; each is
// handed to the reader as a file (a memfd, through /proc/self/fd).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "ringtrain/data/idx_reader.h"

namespace {

// A memory-backed file holding `size` bytes at `data`; closed by the caller.
int MemFile(const uint8_t* data, size_t size) {
  const int fd = ::memfd_create("idx", MFD_CLOEXEC);
  if (fd < 0) __builtin_trap();
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) __builtin_trap();
    done += static_cast<size_t>(n);
  }
  return fd;
}

std::string PathOf(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t images_size = (size_t{data[0]} << 8) | data[1];
  data += 2;
  size -= 2;
  if (images_size > size) images_size = size;
  const int images = MemFile(data, images_size);
  const int labels = MemFile(data + images_size, size - images_size);
  (void)ringtrain::data::ReadIdxImagesShape(PathOf(images));
  (void)ringtrain::data::LoadIdx(PathOf(images), PathOf(labels), 10);
  ::close(images);
  ::close(labels);
  return 0;
}
