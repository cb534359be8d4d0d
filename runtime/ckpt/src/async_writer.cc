#include "ringtrain/ckpt/async_writer.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "ringtrain/ckpt/shard_file.h"

namespace ringtrain::ckpt {

// Everything the writer thread uses, shared with it so that a detached thread (Close timed
// out) still owns what it touches.
struct AsyncWriter::Shared {
  Shared(std::unique_ptr<Store> s, ShardIdentity id, std::function<void()> hook)
      : store(std::move(s)), identity(std::move(id)), before_write(std::move(hook)) {}

  // Immutable after construction; the store is used by the writer thread only.
  const std::unique_ptr<Store> store;
  const ShardIdentity identity;
  const std::function<void()> before_write;

  mutable std::mutex mu;
  std::condition_variable work_cv;          // pending or stop
  mutable std::condition_variable idle_cv;  // !busy(), !preparing
  std::optional<ShardState> pending;        // GUARDED_BY(mu)
  std::optional<ShardState> spare;          // GUARDED_BY(mu); the writer thread is done with it
  bool preparing = true;                    // GUARDED_BY(mu); until the first spare is made
  bool pending_final = false;               // GUARDED_BY(mu)
  bool writing = false;                     // GUARDED_BY(mu)
  bool stop = false;                        // GUARDED_BY(mu)
  WriterStats stats;                        // GUARDED_BY(mu)
  std::thread thread;   // set once by Start, joined or detached by Close (one caller at a time)
  std::mutex close_mu;  // serialises Close

  bool BusyLocked() const { return pending.has_value() || writing; }

  void Run() {
    PrepareSpare();
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      work_cv.wait(lock, [&] { return stop || pending.has_value(); });
      if (!pending.has_value()) return;  // stop, nothing left to write
      ShardState state = std::move(*pending);
      pending.reset();
      const bool final = pending_final;
      writing = true;
      lock.unlock();

      if (before_write) before_write();
      const auto start = std::chrono::steady_clock::now();
      StatusOr<WrittenCheckpoint> written = store->Write(identity, state, final);
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;

      lock.lock();
      // Done with `state`: it becomes the spare. A spare not taken for this write (the caller
      // snapshotted into fresh memory) is freed below, outside the lock.
      std::optional<ShardState> unused = std::move(spare);
      spare = std::move(state);
      writing = false;
      if (written.ok()) {
        stats.written += 1;
        stats.last = written->ref;
        stats.last_final = final;
        stats.last_unix_ms = written->manifest.created_unix_ms;
        stats.last_bytes = written->bytes;
        stats.last_write_seconds = took.count();
      } else {
        stats.failed += 1;
        stats.last_error = written.status();
      }
      idle_cv.notify_all();
      if (unused.has_value()) {
        lock.unlock();
        unused.reset();
        lock.lock();
      }
    }
  }

  // Allocates the first spare, shaped after the identity, on this thread: the pages are
  // touched here (value-initialised floats), not when the server's thread first copies into
  // them. Accumulators are left empty: only sync rounds in progress need them.
  void PrepareSpare() {
    bool stopped = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      stopped = stop;
    }
    std::optional<ShardState> s;
    if (!stopped) {
      s.emplace();
      s->partitions.resize(identity.partitions.size());
      for (size_t i = 0; i < identity.partitions.size(); ++i) {
        const auto n = static_cast<size_t>(identity.partitions[i].size);
        s->partitions[i].id = identity.partitions[i].id;
        s->partitions[i].params.resize(n);
        s->partitions[i].optimizer_state.resize(n * static_cast<size_t>(identity.state_slots));
      }
      s->workers.resize(static_cast<size_t>(identity.num_workers));
    }
    std::lock_guard<std::mutex> lock(mu);
    spare = std::move(s);  // none yet: TakeSpare waits for this, and no write ran before it
    preparing = false;
    idle_cv.notify_all();
  }
};

StatusOr<std::unique_ptr<AsyncWriter>> AsyncWriter::Start(std::unique_ptr<Store> store,
                                                          ShardIdentity identity,
                                                          std::function<void()> before_write) {
  if (store == nullptr) return InvalidArgument("checkpoint writer: no store");
  RT_RETURN_IF_ERROR(ValidateIdentity(identity));
  auto shared =
      std::make_shared<Shared>(std::move(store), std::move(identity), std::move(before_write));
  try {
    shared->thread = std::thread([s = shared] { s->Run(); });
  } catch (const std::system_error& e) {
    return Internal(std::string("cannot start the checkpoint writer thread: ") + e.what());
  }
  return std::unique_ptr<AsyncWriter>(new AsyncWriter(std::move(shared)));
}

AsyncWriter::AsyncWriter(std::shared_ptr<Shared> shared)
    : shared_(std::move(shared)), identity_(shared_->identity) {}

AsyncWriter::~AsyncWriter() { Close(kCloseTimeout).IgnoreError(); }

bool AsyncWriter::busy() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->BusyLocked();
}

Status AsyncWriter::Submit(ShardState state, bool final) {
  RT_RETURN_IF_ERROR(CheckStateFits(state, identity_));
  std::lock_guard<std::mutex> lock(shared_->mu);
  if (shared_->stop) return FailedPrecondition("checkpoint writer is closed");
  if (shared_->BusyLocked()) {
    shared_->stats.rejected_busy += 1;
    return FailedPrecondition("a checkpoint write is still in flight");
  }
  shared_->pending = std::move(state);
  shared_->pending_final = final;
  shared_->stats.submitted += 1;
  shared_->work_cv.notify_one();
  return Status::Ok();
}

std::optional<ShardState> AsyncWriter::TakeSpare() {
  std::unique_lock<std::mutex> lock(shared_->mu);
  shared_->idle_cv.wait(lock, [&] { return !shared_->preparing; });
  return std::exchange(shared_->spare, std::nullopt);
}

Status AsyncWriter::WaitIdle(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(shared_->mu);
  if (!shared_->idle_cv.wait_for(lock, timeout, [&] { return !shared_->BusyLocked(); })) {
    return DeadlineExceeded("checkpoint write still running after " +
                            std::to_string(timeout.count()) + " ms");
  }
  return Status::Ok();
}

WriterStats AsyncWriter::stats() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->stats;
}

Status AsyncWriter::Close(std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> closing(shared_->close_mu);
  if (!shared_->thread.joinable()) return Status::Ok();
  bool idle = false;
  {
    std::unique_lock<std::mutex> lock(shared_->mu);
    shared_->stop = true;
    shared_->work_cv.notify_all();
    idle = shared_->idle_cv.wait_for(lock, timeout, [&] { return !shared_->BusyLocked(); });
  }
  if (!idle) {
    // The thread holds its own reference to everything it uses.
    shared_->thread.detach();
    return DeadlineExceeded("checkpoint write still running after " +
                            std::to_string(timeout.count()) + " ms; left to finish on its own");
  }
  // Idle and told to stop: the thread returns as soon as it wakes.
  shared_->thread.join();
  return Status::Ok();
}

}  // namespace ringtrain::ckpt
