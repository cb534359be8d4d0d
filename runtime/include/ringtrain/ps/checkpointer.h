// ServerCheckpointer: when a parameter server checkpoints its shard, and how it does so without
// stopping for more than a copy.
//
// The server's thread calls Tick() between requests (ServerOptions::between_messages). When a
// checkpoint is due — the shard's active step (ServerCore::active_step: the smallest clock of
// the unfinished workers) has advanced `every_steps` since the last one, or `every` has passed, and
// something changed since — Tick copies the core's state and hands the copy to the
// ckpt::AsyncWriter, whose thread writes it while the server keeps serving. The copy is the only
// time training waits, so it goes into buffers already allocated and mapped: the writer's spare
// (AsyncWriter::TakeSpare, the state of the previous write, or one the writer prepared),
// overwritten in place by ServerCore::SnapshotInto, one memcpy of the owned floats. The core has no
// lock and needs none: its own thread takes the copy between two requests, so the copy is
// consistent, and the writer thread sees only the copy. The spare comes back only once its write is
// done, so the server's thread never writes into a state the writer thread still reads.
//
// At most one write is in flight. A checkpoint that falls due while the previous write still
// runs is not copied then: it waits, and the first Tick that finds the writer idle takes it
// (counted in stats().delayed_busy). So a slow disk stretches the period instead of piling up
// copies. Nor is one taken while a worker's push is partly in (ServerCore::mid_push, streamed
// rounds): the first Tick after it completed takes it. A Stop() that finds a push partly in
// writes no checkpoint (the error says so); the previous one stays the latest.
//
// Finish() takes the last checkpoint, marked final, and waits for it (bounded); Stop() does the
// same for a server stopped early, unmarked.
//
// The newest checkpoint — the last one written, else the one the shard was restored from — is
// what a job started again would continue from: last_checkpoint() tells it to any thread (the
// server's status socket answers with it), and CheckpointPolicy::written hears of each write.
//
// Ownership: owns the writer. Thread-safety: one thread (the server's) calls Tick, Finish, Stop
// and stats; last_checkpoint may be called from any thread; the writer's thread is internal.
#ifndef RINGTRAIN_PS_CHECKPOINTER_H_
#define RINGTRAIN_PS_CHECKPOINTER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ringtrain/ckpt/async_writer.h"
#include "ringtrain/common/status.h"
#include "ringtrain/ps/server_core.h"

namespace ringtrain::ps {

// One checkpoint of the shard: what a job started again would continue from.
struct LastCheckpoint {
  int64_t step = 0;     // the shard's step (the smallest worker clock) it holds
  int64_t unix_ms = 0;  // when it was written (its manifest's time)
  std::string path;     // its directory
  bool final = false;   // written when training finished

  bool operator==(const LastCheckpoint&) const = default;
};

struct CheckpointPolicy {
  // A checkpoint each time the shard's step has advanced this much (0: not by steps).
  int64_t every_steps = 0;
  // A checkpoint when this much time has passed since the last one (0: not by time). At least
  // one of every_steps and every must be set.
  std::chrono::milliseconds every{0};
  // The clock for `every` (tests inject one); empty: std::chrono::steady_clock::now.
  std::function<std::chrono::steady_clock::time_point()> now;
  // Where to say what happened (a checkpoint written, a write that failed); empty: silent.
  std::function<void(const std::string&)> log;
  // Told of each checkpoint written, on the server's thread, by the first Tick (or Finish, Stop)
  // after the write; empty: nobody.
  std::function<void(const LastCheckpoint&)> written;
  // The checkpoint the shard was restored from, if any: last_checkpoint() until one is written.
  std::optional<LastCheckpoint> restored;
};

struct CheckpointerStats {
  uint64_t snapshots = 0;           // states copied and handed to the writer
  uint64_t delayed_busy = 0;        // checkpoints that fell due while a write was in flight
  uint64_t reused_buffers = 0;      // snapshots copied into the writer's spare, not fresh memory
  double last_copy_seconds = 0;     // time the server's thread spent copying, last snapshot
  double longest_copy_seconds = 0;  // ... the longest
  double total_copy_seconds = 0;
};

class ServerCheckpointer {
 public:
  // InvalidArgument if neither every_steps nor every is set, or one is negative, or no writer.
  static StatusOr<std::unique_ptr<ServerCheckpointer>> Make(
      CheckpointPolicy policy, std::unique_ptr<ckpt::AsyncWriter> writer);

  ServerCheckpointer(const ServerCheckpointer&) = delete;
  ServerCheckpointer& operator=(const ServerCheckpointer&) = delete;

  // Takes a checkpoint if one is due and the writer is idle (see above); logs writes that
  // finished since the last call. Returns quickly otherwise. The first call only notes the
  // starting step and time (a restored shard starts at its checkpoint's step).
  void Tick(const ServerCore& core);

  // Writes a checkpoint of the core's current state marked final and waits for it: for the
  // write in flight, then for this one, within `timeout` overall. Returns the write's error, or
  // DeadlineExceeded (the write goes on in the background).
  Status Finish(const ServerCore& core, std::chrono::milliseconds timeout);

  // For a server stopped before training finished (a signal): writes a checkpoint of the
  // current state, not final, unless nothing changed since the last one (or since the start),
  // and waits for it as Finish does. A job started again continues from it.
  Status Stop(const ServerCore& core, std::chrono::milliseconds timeout);

  // Waits until the write in flight, if any, is done. DeadlineExceeded after `timeout`.
  Status WaitIdle(std::chrono::milliseconds timeout) const { return writer_->WaitIdle(timeout); }

  // The newest checkpoint written, else the one the shard was restored from; std::nullopt if
  // neither. Thread-safe (the writer's stats are read under its lock).
  std::optional<LastCheckpoint> last_checkpoint() const;

  const CheckpointerStats& stats() const { return stats_; }
  ckpt::WriterStats writer_stats() const { return writer_->stats(); }

 private:
  ServerCheckpointer(CheckpointPolicy policy, std::unique_ptr<ckpt::AsyncWriter> writer);
  std::chrono::steady_clock::time_point Now() const;
  bool Due(const ServerCore& core, std::chrono::steady_clock::time_point now) const;
  Status WriteAndWait(const ServerCore& core, bool final, std::chrono::milliseconds timeout);
  // Copies the core's state and submits it; REQUIRES: the writer is idle.
  Status TakeSnapshot(const ServerCore& core, bool final);
  void ReportFinishedWrites();
  void Log(const std::string& line) const;

  CheckpointPolicy policy_;
  std::unique_ptr<ckpt::AsyncWriter> writer_;
  bool started_ = false;
  bool due_ = false;           // a checkpoint fell due and waits for the writer
  int64_t last_step_ = 0;      // the active step of the last snapshot (or the start)
  uint64_t last_changes_ = 0;  // the core's pushes + finished workers at the last snapshot
  std::chrono::steady_clock::time_point last_time_;
  bool awaiting_write_ = false;  // a submitted write whose outcome has not been logged
  uint64_t seen_written_ = 0;
  uint64_t seen_failed_ = 0;
  CheckpointerStats stats_;
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_CHECKPOINTER_H_
