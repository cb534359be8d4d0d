// Shared memory between the processes of one host, for payloads that would otherwise cross a
// socket: copied into the kernel by the sender's ZeroMQ I/O thread and out of it by the
// receiver's, each a wake-up on the critical path of a synchronous round.
//
// A SharedSegment is anonymous memory (memfd_create) owned by one process — a parameter server
// publishing its parameters (ps/pull_publisher.h). Another process of the same user on the same
// host maps it read-only by opening /proc/<pid>/fd/<fd> (SegmentReader::Open); nothing is named
// in /dev/shm, so nothing is left behind however the owner exits: the memory goes when the last
// process that maps it unmaps it or exits. A process elsewhere (another host, another PID
// namespace, as between pods) cannot open it and gets Unavailable: the caller falls back to
// sockets.
//
// The first kDataOffset bytes hold a header: a magic number, a random id (a reader that opened
// the fd of another process that reused the pid finds a different id), the size, and a sequence
// counter, a seqlock: the owner makes it odd while it writes (BeginWrite) and even again after
// (EndWrite, which returns the new value). A reader that was told sequence s (in a reply sent
// after EndWrite) copies the bytes, then checks Unchanged(s): false means the owner wrote
// meanwhile and the copy may be torn (to be read again another way). The bytes a reader copies
// may be written concurrently by another process; only the sequence check makes the copy
// trustworthy.
//
// Thread-safety: a SharedSegment is written by one thread at a time (its owner's); a
// SegmentReader's methods are const and may be called from any thread.
#ifndef RINGTRAIN_TRANSPORT_SHARED_SEGMENT_H_
#define RINGTRAIN_TRANSPORT_SHARED_SEGMENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "ringtrain/common/status.h"

namespace ringtrain::transport {

// Where a segment is: what a reply tells a reader (proto::SharedSegment without the sequence).
struct SegmentAddress {
  uint32_t pid = 0;
  int32_t fd = -1;
  uint64_t id = 0;
  uint64_t bytes = 0;  // the whole segment, header included

  bool operator==(const SegmentAddress&) const = default;
};

// Bytes before the first byte of data (the header's page).
inline constexpr uint64_t kSegmentDataOffset = 4096;
// Data placed in a segment starts at multiples of this (a cache line; float-aligned).
inline constexpr uint64_t kSharedAlignment = 64;
// Largest segment a reader maps (bounds what a forged address can make it map).
inline constexpr uint64_t kMaxSegmentBytes = uint64_t{1} << 40;

class SharedSegment {
 public:
  // A segment with `data_bytes` bytes of data (zeroed) after the header. Unavailable when the
  // system refuses the memory.
  static StatusOr<std::unique_ptr<SharedSegment>> Create(const std::string& name,
                                                         uint64_t data_bytes);
  ~SharedSegment();
  SharedSegment(const SharedSegment&) = delete;
  SharedSegment& operator=(const SharedSegment&) = delete;

  const SegmentAddress& address() const { return address_; }
  // The segment's bytes; data starts at kSegmentDataOffset.
  std::byte* base() { return base_; }

  // Brackets a write of the data: readers that copy meanwhile find their sequence changed.
  void BeginWrite();
  uint64_t EndWrite();  // the new (even) sequence
  uint64_t sequence() const;

 private:
  SharedSegment(int fd, std::byte* base, SegmentAddress address);
  int fd_;
  std::byte* base_;
  SegmentAddress address_;
};

class SegmentReader {
 public:
  // Maps the segment at `address` read-only. Unavailable when it cannot be opened or mapped
  // (another host or PID namespace, another user, the owner gone); DataLoss when what the fd
  // holds is not that segment (magic, id or size differ) or the address is out of bounds.
  static StatusOr<std::unique_ptr<SegmentReader>> Open(const SegmentAddress& address);
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  const SegmentAddress& address() const { return address_; }
  // `bytes` bytes at `offset` (from the segment's start; at or past kSegmentDataOffset), or an
  // empty span when they are not all inside the data.
  std::span<const std::byte> Bytes(uint64_t offset, uint64_t bytes) const;
  // After copying bytes read under sequence `seq`: true when the owner has not written since.
  bool Unchanged(uint64_t seq) const;

 private:
  SegmentReader(const std::byte* base, SegmentAddress address);
  const std::byte* base_;
  SegmentAddress address_;
};

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_SHARED_SEGMENT_H_
