#include "ringtrain/ps/checkpointer.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

namespace ringtrain::ps {

namespace {

using Clock = std::chrono::steady_clock;

// Grows with every accepted push and finished worker: the state changed since it was last seen.
uint64_t Changes(const ServerCore& core) {
  return core.stats().pushes_accepted() + core.stats().workers_done();
}

std::string Megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

LastCheckpoint LastWritten(const ckpt::WriterStats& w) {
  LastCheckpoint c;
  c.step = w.last.step;
  c.unix_ms = w.last_unix_ms;
  c.path = w.last.path;
  c.final = w.last_final;
  return c;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f s", s);
  return buf;
}

}  // namespace

StatusOr<std::unique_ptr<ServerCheckpointer>> ServerCheckpointer::Make(
    CheckpointPolicy policy, std::unique_ptr<ckpt::AsyncWriter> writer) {
  if (writer == nullptr) return InvalidArgument("checkpointer: no writer");
  if (policy.every_steps < 0 || policy.every.count() < 0) {
    return InvalidArgument("checkpointer: negative period");
  }
  if (policy.every_steps == 0 && policy.every.count() == 0) {
    return InvalidArgument("checkpointer: no period (every_steps or every must be set)");
  }
  return std::unique_ptr<ServerCheckpointer>(
      new ServerCheckpointer(std::move(policy), std::move(writer)));
}

ServerCheckpointer::ServerCheckpointer(CheckpointPolicy policy,
                                       std::unique_ptr<ckpt::AsyncWriter> writer)
    : policy_(std::move(policy)), writer_(std::move(writer)) {}

Clock::time_point ServerCheckpointer::Now() const {
  return policy_.now ? policy_.now() : Clock::now();
}

void ServerCheckpointer::Log(const std::string& line) const {
  if (policy_.log) policy_.log(line);
}

bool ServerCheckpointer::Due(const ServerCore& core, Clock::time_point now) const {
  if (Changes(core) == last_changes_) return false;  // nothing new to save
  if (policy_.every_steps > 0 && core.active_step() >= last_step_ + policy_.every_steps) {
    return true;
  }
  return policy_.every.count() > 0 && now - last_time_ >= policy_.every;
}

void ServerCheckpointer::Tick(const ServerCore& core) {
  const Clock::time_point now = Now();
  if (!started_) {
    started_ = true;
    last_step_ = core.active_step();
    last_changes_ = Changes(core);
    last_time_ = now;
    return;
  }
  if (awaiting_write_) ReportFinishedWrites();
  if (!due_) {
    if (!Due(core, now)) return;
    due_ = true;
    if (writer_->busy()) {
      // Taken by the first Tick that finds the writer idle.
      stats_.delayed_busy += 1;
      return;
    }
  } else if (writer_->busy()) {
    return;
  }
  // A push partly in (streamed rounds) cannot go into a file: taken by the first Tick after it
  // completed (a sync round waits for every push, so that comes within the step).
  if (core.mid_push()) return;
  due_ = false;
  if (Status s = TakeSnapshot(core, /*final=*/false); !s.ok()) {
    Log("checkpoint not taken: " + s.message());
  }
}

Status ServerCheckpointer::TakeSnapshot(const ServerCore& core, bool final) {
  const Clock::time_point start = Clock::now();
  // Into the buffers of the last write (or the ones the writer prepared): a memcpy, where fresh
  // memory would fault in every page on the server's thread.
  std::optional<ckpt::ShardState> spare = writer_->TakeSpare();
  if (spare.has_value()) stats_.reused_buffers += 1;
  ckpt::ShardState state = spare.has_value() ? std::move(*spare) : ckpt::ShardState();
  core.SnapshotInto(&state);
  const std::chrono::duration<double> copy = Clock::now() - start;
  stats_.last_copy_seconds = copy.count();
  stats_.longest_copy_seconds = std::max(stats_.longest_copy_seconds, copy.count());
  stats_.total_copy_seconds += copy.count();
  // The period restarts even if the submit fails, so a failing writer is not retried per request.
  last_step_ = core.active_step();
  last_changes_ = Changes(core);
  last_time_ = Now();
  RT_RETURN_IF_ERROR(writer_->Submit(std::move(state), final));
  stats_.snapshots += 1;
  awaiting_write_ = true;
  return Status::Ok();
}

void ServerCheckpointer::ReportFinishedWrites() {
  if (writer_->busy()) return;
  const ckpt::WriterStats w = writer_->stats();
  if (w.written > seen_written_) {
    Log(std::string(w.last_final ? "final checkpoint" : "checkpoint") + " at step " +
        std::to_string(w.last.step) + " written to " + w.last.path + " (" +
        Megabytes(w.last_bytes) + " in " + Seconds(w.last_write_seconds) + "; copy " +
        Seconds(stats_.last_copy_seconds) + ")");
  }
  if (w.written > seen_written_ && policy_.written) policy_.written(LastWritten(w));
  if (w.failed > seen_failed_) {
    Log("checkpoint write failed, earlier checkpoints kept: " + w.last_error.message());
  }
  seen_written_ = w.written;
  seen_failed_ = w.failed;
  awaiting_write_ = false;
}

std::optional<LastCheckpoint> ServerCheckpointer::last_checkpoint() const {
  const ckpt::WriterStats w = writer_->stats();
  if (w.written > 0) return LastWritten(w);
  return policy_.restored;
}

Status ServerCheckpointer::Finish(const ServerCore& core, std::chrono::milliseconds timeout) {
  return WriteAndWait(core, /*final=*/true, timeout);
}

Status ServerCheckpointer::Stop(const ServerCore& core, std::chrono::milliseconds timeout) {
  if (Changes(core) == last_changes_) {
    // The newest checkpoint (or the restored one) already holds this state.
    RT_RETURN_IF_ERROR(writer_->WaitIdle(timeout));
    ReportFinishedWrites();
    return Status::Ok();
  }
  return WriteAndWait(core, /*final=*/false, timeout);
}

Status ServerCheckpointer::WriteAndWait(const ServerCore& core, bool final,
                                        std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  RT_RETURN_IF_ERROR(writer_->WaitIdle(timeout));
  ReportFinishedWrites();
  const uint64_t failed_before = writer_->stats().failed;
  RT_RETURN_IF_ERROR(TakeSnapshot(core, final));
  due_ = false;
  const auto left =
      std::max(std::chrono::milliseconds(0),
               std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  RT_RETURN_IF_ERROR(writer_->WaitIdle(left));
  ReportFinishedWrites();
  const ckpt::WriterStats w = writer_->stats();
  if (w.failed > failed_before) return w.last_error;
  return Status::Ok();
}

}  // namespace ringtrain::ps
