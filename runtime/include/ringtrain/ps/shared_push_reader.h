// SharedPushReader: a server's side of pushes through shared memory, from workers on its host.
//
// A worker on the servers' host (worker/ps_client.h, sync mode, ipc://) may put a push's dense
// gradient in its own shared memory (transport/shared_segment.h) instead of frames: the PUSH
// lists its partitions as PartitionSlice.shared at their offsets in the segment Header.segment
// names, with the segment's sequence after the worker wrote them. Through a socket, those bytes
// would be copied into the kernel by the worker's ZeroMQ I/O thread and out of it by the
// server's, a wake-up each on the critical path of a synchronous round.
//
// Resolve(msg) turns such a PUSH back into the push every later stage expects (the core's
// validation and round, a backup's forward, a held push): it maps the sender's segment (once per
// worker process: kept per worker index and opened again when the address changes, as for a
// replacement worker), copies each shared partition into a frame of its own (float-aligned),
// then checks the sequence: a worker that wrote meanwhile (which the protocol rules out: a worker
// writes its next gradient only once every server acknowledged this push) may have torn the copy.
// The slices are then plain frames again and the header names no segment. On failure the message
// is left unusable and the caller drops it and answers ERROR with Header.shared_refused (the
// worker sends the push again with frames): Unavailable when the segment cannot be opened
// (another PID namespace; the worker gone), DataLoss when it is not the segment named or the copy
// was torn, InvalidArgument for a sender that is not one of the job's workers.
//
// Who may name a segment: only processes of the server's user can reach its ipc:// socket (the
// run's 0700 directory) and open /proc/<pid>/fd; a segment is mapped read-only and only copied
// from, within the bounds DecodeMessage checked against its size.
//
// Thread-safety: not thread-safe; the server's socket thread owns it.
#ifndef RINGTRAIN_PS_SHARED_PUSH_READER_H_
#define RINGTRAIN_PS_SHARED_PUSH_READER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/transport/message.h"
#include "ringtrain/transport/shared_segment.h"

namespace ringtrain::ps {

class SharedPushReader {
 public:
  explicit SharedPushReader(int num_workers);

  // See above. REQUIRES: msg came from DecodeMessage (a CODEC_NONE PUSH whose shared partitions
  // lie inside its segment) and has a partition in shared memory.
  [[nodiscard]] Status Resolve(transport::Message* msg);

  // Gradient bytes copied from workers' segments, and the segments opened (one per worker
  // process).
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t segments_opened() const { return segments_opened_; }

 private:
  std::vector<std::unique_ptr<transport::SegmentReader>> readers_;  // per worker
  uint64_t bytes_read_ = 0;
  uint64_t segments_opened_ = 0;
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_SHARED_PUSH_READER_H_
