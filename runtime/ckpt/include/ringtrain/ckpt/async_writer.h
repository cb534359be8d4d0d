// AsyncWriter: writes a server's checkpoints on a background thread, one at a time.
//
// The server's thread copies its state (a ShardState, taken between two messages) and hands
// it over with Submit, which only moves it under a mutex and returns: the server goes on
// serving while the writer thread writes it to the Store (store.h). At most one write is in
// flight and at most one state is held: Submit while a write is running refuses the new state
// (FailedPrecondition; counted in stats().rejected_busy) — callers ask busy() first and take
// the snapshot later, so no copy is made for nothing. Results of the writes (how many, the last
// error, sizes and durations) are read with stats(); a write that fails leaves the previous
// checkpoints as they were, and the next Submit tries again.
//
// Buffers are reused, not allocated per checkpoint: copying a large shard into fresh memory
// costs several times the copy itself (every page faults in on first touch), and the copy is
// the time training waits. So the writer keeps the state of its last finished write (written
// or failed) as a spare, and TakeSpare hands it back for the next snapshot to overwrite in
// place (ps::ServerCore::SnapshotInto). Before the first write, the spare is one the writer
// thread allocates when it starts, shaped after the identity (every partition's parameters and
// optimizer state sized, their pages touched), so even the first snapshot finds its memory
// mapped; accumulators of a sync round get their storage the first time a snapshot catches a
// round in progress, and keep it. Memory: the writer holds one copy of the shard's floats for
// its whole life (the copy a checkpoint needs anyway), two only while a write runs whose state
// was not taken from TakeSpare.
//
// Every wait is bounded: WaitIdle and Close take a timeout. If Close times out (a file system
// that hangs), the thread is detached and finishes on its own: it owns everything it uses.
//
// Ownership: owns the Store and the spare state until TakeSpare moves it out; a submitted state
// belongs to the writer until TakeSpare returns it. Thread-safety: all methods may be called
// from any thread; the Store is used by the writer thread only. The writer thread is done with
// a state before it becomes the spare (the hand-over happens under the writer's mutex, after
// the write) and never touches it again, so the caller of TakeSpare owns it outright.
#ifndef RINGTRAIN_CKPT_ASYNC_WRITER_H_
#define RINGTRAIN_CKPT_ASYNC_WRITER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ringtrain/ckpt/shard_identity.h"
#include "ringtrain/ckpt/shard_state.h"
#include "ringtrain/ckpt/store.h"
#include "ringtrain/common/status.h"

namespace ringtrain::ckpt {

struct WriterStats {
  uint64_t submitted = 0;      // states accepted by Submit
  uint64_t written = 0;        // checkpoints committed
  uint64_t failed = 0;         // writes that failed (last_error says why)
  uint64_t rejected_busy = 0;  // Submit calls refused because a write was in flight
  // The last committed checkpoint.
  CheckpointRef last;
  bool last_final = false;
  int64_t last_unix_ms = 0;  // when it was written (its manifest's created_unix_ms)
  uint64_t last_bytes = 0;
  double last_write_seconds = 0;
  Status last_error;  // of the last failed write; OK if none failed
};

class AsyncWriter {
 public:
  // Starts the writer thread for checkpoints of `identity` into `store`. `before_write`, if set,
  // runs on the writer thread before each write (tests hold a write in flight with it).
  // InvalidArgument for an invalid identity (ValidateIdentity); Internal if the thread cannot
  // start.
  static StatusOr<std::unique_ptr<AsyncWriter>> Start(std::unique_ptr<Store> store,
                                                      ShardIdentity identity,
                                                      std::function<void()> before_write = {});

  // Close(kCloseTimeout): waits for the write in flight, bounded.
  ~AsyncWriter();
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;

  static constexpr std::chrono::milliseconds kCloseTimeout{60000};

  // True while a submitted state has not been written yet.
  bool busy() const;

  // Hands `state` to the writer thread without waiting for the write; once written, it becomes
  // the spare. FailedPrecondition if a write is still in flight (the state is dropped and
  // counted) or the writer is closed; InvalidArgument if the state does not fit the identity
  // (CheckStateFits).
  Status Submit(ShardState state, bool final);

  // Moves out the spare state (see above) for the caller to overwrite and Submit: the state of
  // the last finished write, or before any, the one prepared at start (waiting for the
  // preparation if it still runs: one allocation of the shard's size). nullopt if the spare was
  // taken and the state taken with it has not been written since (not submitted, or its write
  // still in flight), or the writer was closed before it prepared one. Never the state of a
  // write in flight.
  std::optional<ShardState> TakeSpare();

  // Waits until no write is in flight. DeadlineExceeded if one still runs after `timeout`.
  Status WaitIdle(std::chrono::milliseconds timeout) const;

  WriterStats stats() const;

  // Lets the write in flight finish (up to `timeout`) and stops the thread. Later Submits are
  // refused. DeadlineExceeded if the write was still running (the thread is then detached).
  // Idempotent.
  Status Close(std::chrono::milliseconds timeout);

 private:
  struct Shared;
  explicit AsyncWriter(std::shared_ptr<Shared> shared);

  std::shared_ptr<Shared> shared_;
  ShardIdentity identity_;  // for Submit's check, on the caller's thread
};

}  // namespace ringtrain::ckpt

#endif  // RINGTRAIN_CKPT_ASYNC_WRITER_H_
