// PullPublisher: a server's pull replies through shared memory, for workers on its host.
//
// Through a socket, each reply's parameters are copied into the kernel by the server's ZeroMQ
// I/O thread and out of it by the worker's, once per worker, on the critical path of every
// synchronous round. A worker on the same host that says so (Header.shared_ok on its PULL, or
// on a PUSH marked pull_back) can read them from the server's memory instead
// (transport/shared_segment.h), copying them once, into its parameter vector.
//
// The segment holds one slot per partition the server owns (table.partitions_of(server)),
// aligned to transport::kSharedAlignment, created on the first Publish. Publish(reply) takes a
// PULL_REPLY the core made (ps/server_core.h, whose header echoes the pull's shared_ok) and,
// when the pull was marked shared_ok, copies each partition that has a slot from its frame into
// the slot — unless the slot already holds it at that version and core generation
// (ServerCore::generation), so a sync round's replies to N workers cost one copy — drops the
// frame, marks the slice shared at the slot's offset, and names the segment in the header with
// its sequence after the last write. Partitions without a slot (a predecessor's shard served
// from a copy during failover) keep their frames. A slot is rewritten only for a newer version
// (or generation): a worker still copying the older one then finds the sequence changed and
// pulls again through the socket (worker/ps_client.h). In sync mode that cannot happen: the
// next version needs every worker's next push, sent after its copy.
//
// If the memory cannot be created, Publish says why once (through `log`) and leaves every reply
// as it is: the workers read frames.
//
// Thread-safety: not thread-safe; the server's socket thread owns it.
#ifndef RINGTRAIN_PS_PULL_PUBLISHER_H_
#define RINGTRAIN_PS_PULL_PUBLISHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/ps/server_core.h"
#include "ringtrain/ring/partition_table.h"
#include "ringtrain/transport/shared_segment.h"

namespace ringtrain::ps {

class PullPublisher {
 public:
  PullPublisher(std::shared_ptr<const ring::PartitionTable> table, int server,
                std::function<void(const std::string&)> log);

  // See above. `generation` is the core's (ServerCore::generation) that made the reply.
  // Clears Header.shared_ok (what the core echoed is for this layer only).
  void Publish(uint64_t generation, Reply* reply);

  // Partition bytes written into the segment, and those replies carried in it instead of frames.
  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t bytes_shared() const { return bytes_shared_; }
  // The segment, or null before the first Publish (or when it could not be created).
  const transport::SharedSegment* segment() const { return segment_.get(); }

 private:
  struct Slot {
    uint64_t offset = 0;  // from the segment's start
    uint64_t elements = 0;
    bool written = false;
    uint64_t generation = 0;
    int64_t version = 0;
  };
  // Creates the segment on first use; false if it cannot be.
  bool Ready();

  std::shared_ptr<const ring::PartitionTable> table_;
  int server_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<transport::SharedSegment> segment_;
  bool failed_ = false;
  std::vector<int> slot_of_;  // partition id -> index in slots_, or -1
  std::vector<Slot> slots_;
  std::vector<int> slot_for_;  // Publish's scratch: each slice's slot, or -1
  uint64_t bytes_written_ = 0;
  uint64_t bytes_shared_ = 0;
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_PULL_PUBLISHER_H_
