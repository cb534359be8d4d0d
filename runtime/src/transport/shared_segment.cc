#include "ringtrain/transport/shared_segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <random>

namespace ringtrain::transport {

namespace {

constexpr uint64_t kMagic = 0x31676573'6e697274;  // "rtinseg1"

// The header at the segment's start. The sequence is an atomic in memory shared between
// processes: lock-free, hence address-free (std::atomic's guarantee for lock-free types).
struct Header {
  uint64_t magic;
  uint64_t id;
  uint64_t bytes;
  std::atomic<uint64_t> seq;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(sizeof(Header) <= kSegmentDataOffset);

Header* HeaderAt(std::byte* base) { return std::launder(reinterpret_cast<Header*>(base)); }
const Header* HeaderAt(const std::byte* base) {
  return std::launder(reinterpret_cast<const Header*>(base));
}

std::string Errno() { return std::strerror(errno); }

// A fence between the sequence and the data. GCC's TSan rejects thread fences; the data they
// order is another process's (or another mapping's) memory, which TSan does not see anyway, so
// there only the compiler is kept from reordering (enough on x86, the only target TSan runs on
// here).
void Fence(std::memory_order order) {
#ifdef __SANITIZE_THREAD__
  std::atomic_signal_fence(order);
#else
  std::atomic_thread_fence(order);
#endif
}

}  // namespace

StatusOr<std::unique_ptr<SharedSegment>> SharedSegment::Create(const std::string& name,
                                                               uint64_t data_bytes) {
  if (data_bytes > kMaxSegmentBytes - kSegmentDataOffset) {
    return InvalidArgument("a shared segment of " + std::to_string(data_bytes) +
                           " bytes is too large");
  }
  const uint64_t bytes = kSegmentDataOffset + data_bytes;
  const int fd = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) return Unavailable("memfd_create: " + Errno());
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    const std::string error = Errno();
    close(fd);
    return Unavailable("sizing shared memory of " + std::to_string(bytes) + " bytes: " + error);
  }
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    const std::string error = Errno();
    close(fd);
    return Unavailable("mapping shared memory of " + std::to_string(bytes) + " bytes: " + error);
  }
  std::random_device random;
  const uint64_t id = (uint64_t{random()} << 32) | random();
  new (base) Header{kMagic, id, bytes, {0}};
  const SegmentAddress address{static_cast<uint32_t>(getpid()), fd, id, bytes};
  return std::unique_ptr<SharedSegment>(
      new SharedSegment(fd, static_cast<std::byte*>(base), address));
}

SharedSegment::SharedSegment(int fd, std::byte* base, SegmentAddress address)
    : fd_(fd), base_(base), address_(address) {}

SharedSegment::~SharedSegment() {
  munmap(base_, address_.bytes);
  close(fd_);
}

void SharedSegment::BeginWrite() {
  Header* h = HeaderAt(base_);
  h->seq.store(h->seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // The odd sequence is visible before any byte written after it.
  Fence(std::memory_order_release);
}

uint64_t SharedSegment::EndWrite() {
  Header* h = HeaderAt(base_);
  const uint64_t seq = h->seq.load(std::memory_order_relaxed) + 1;
  h->seq.store(seq, std::memory_order_release);
  return seq;
}

uint64_t SharedSegment::sequence() const {
  return HeaderAt(base_)->seq.load(std::memory_order_relaxed);
}

StatusOr<std::unique_ptr<SegmentReader>> SegmentReader::Open(const SegmentAddress& address) {
  if (address.bytes <= kSegmentDataOffset || address.bytes > kMaxSegmentBytes || address.fd < 0 ||
      address.pid == 0) {
    return DataLoss("shared segment of " + std::to_string(address.bytes) + " bytes at fd " +
                    std::to_string(address.fd) + " of process " + std::to_string(address.pid) +
                    ": not a possible segment");
  }
  const std::string path =
      "/proc/" + std::to_string(address.pid) + "/fd/" + std::to_string(address.fd);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open " + path + ": " + Errno());
  struct stat st {};
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) != address.bytes) {
    close(fd);
    return DataLoss(path + " is not a shared segment of " + std::to_string(address.bytes) +
                    " bytes");
  }
  void* base = mmap(nullptr, address.bytes, PROT_READ, MAP_SHARED, fd, 0);
  const std::string error = Errno();
  close(fd);  // the mapping keeps the memory
  if (base == MAP_FAILED) return Unavailable("cannot map " + path + ": " + error);
  const Header* h = HeaderAt(static_cast<const std::byte*>(base));
  if (h->magic != kMagic || h->id != address.id || h->bytes != address.bytes) {
    munmap(base, address.bytes);
    return DataLoss(path + " is not the shared segment " + std::to_string(address.id) +
                    " (another process's memory under a reused pid?)");
  }
  return std::unique_ptr<SegmentReader>(
      new SegmentReader(static_cast<const std::byte*>(base), address));
}

SegmentReader::SegmentReader(const std::byte* base, SegmentAddress address)
    : base_(base), address_(address) {}

SegmentReader::~SegmentReader() { munmap(const_cast<std::byte*>(base_), address_.bytes); }

std::span<const std::byte> SegmentReader::Bytes(uint64_t offset, uint64_t bytes) const {
  if (offset < kSegmentDataOffset || offset > address_.bytes || bytes > address_.bytes - offset) {
    return {};
  }
  return {base_ + offset, bytes};
}

bool SegmentReader::Unchanged(uint64_t seq) const {
  // The copy's reads happen before the sequence is read again.
  Fence(std::memory_order_acquire);
  return HeaderAt(base_)->seq.load(std::memory_order_relaxed) == seq;
}

}  // namespace ringtrain::transport
