// ServerCore::Snapshot, SnapshotInto and Restore: the core's state to and from a checkpoint's
// ckpt::ShardState.
#include <cmath>
#include <string>
#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/ps/server_core.h"

namespace ringtrain::ps {

ckpt::ShardState ServerCore::Snapshot() const {
  ckpt::ShardState s;
  SnapshotInto(&s);
  return s;
}

// Every field of *s is assigned, so nothing of its previous contents survives; assign() and
// resize() keep the vectors' storage when it is large enough, so a state reused with the same
// shapes is only memcpy'd into (no allocation, no page faults).
void ServerCore::SnapshotInto(ckpt::ShardState* s) const {
  const bool sync = config_.consistency == Consistency::kSync;
  s->partitions.resize(owned_.size());
  for (size_t i = 0; i < owned_.size(); ++i) {
    const PartitionState& p = owned_[i];
    RT_CHECK(!p.has_deferred);  // only while HandlePush runs: its frame is gone after
    ckpt::PartitionSnapshot& out = s->partitions[i];
    out.id = p.id;
    out.version = p.version;
    out.optimizer_steps = p.optimizer_steps;
    const std::span<const float> params = p.params.view();
    out.params.assign(params.begin(), params.end());
    out.optimizer_state.assign(p.optimizer_state.begin(), p.optimizer_state.end());
    if (sync && p.pushes > 0) {
      if (p.accum_clear) {
        out.accum.assign(p.accum.size(), 0.0f);  // pushes without a gradient for it so far
      } else {
        out.accum.assign(p.accum.begin(), p.accum.end());
      }
      out.round_pushes = static_cast<uint32_t>(p.pushes);
      out.round_samples = p.samples;
      out.round_learning_rate = p.learning_rate;
    } else {
      out.accum.clear();  // keeps its storage for the next round in progress
      out.round_pushes = 0;
      out.round_samples = 0;
      out.round_learning_rate = 0;
    }
  }
  s->workers.resize(clocks_.size());
  for (size_t w = 0; w < clocks_.size(); ++w) {
    s->workers[w].clock = clocks_[w];
    s->workers[w].done = worker_done_[w];
    s->workers[w].excluded = worker_excluded_[w];
    std::vector<uint32_t>& partial = s->workers[w].partial;
    partial.clear();
    if (!ChunksPending(w)) continue;
    for (size_t slot = 0; slot < owned_.size(); ++slot) {
      if (partial_[w][slot] != 0) partial.push_back(owned_[slot].id);
    }
  }
  s->queue.reset();
  if (queue_.has_value()) s->queue = queue_->state();
  if (sparse_ == nullptr) {
    s->sparse.reset();
    return;
  }
  if (!s->sparse.has_value()) s->sparse.emplace();
  ckpt::SparseState& out = *s->sparse;
  sparse_->SnapshotInto(&out);
  out.version = sparse_round_.version;
  const bool round = sync && sparse_round_.pushes > 0;
  out.round_pushes = round ? static_cast<uint32_t>(sparse_round_.pushes) : 0;
  out.round_samples = round ? sparse_round_.samples : 0;
  out.round_learning_rate = round ? sparse_round_.learning_rate : 0;
}

bool ServerCore::has_held_pushes() const {
  for (const auto& held : held_push_) {
    if (!held.empty()) return true;
  }
  return false;
}

Status ServerCore::Restore(ckpt::ShardState state) {
  const std::string who = "restoring server " + std::to_string(config_.server_index) + ": ";
  if (!pending_.empty()) {
    return FailedPrecondition(who + std::to_string(pending_.size()) +
                              " pulls are parked; restore before serving");
  }
  if (state.sparse.has_value() != (sparse_ != nullptr)) {
    return FailedPrecondition(who + (sparse_ != nullptr
                                         ? "the state has no sparse tables, the model has"
                                         : "the state has sparse tables, the model none"));
  }
  if (state.partitions.size() != owned_.size()) {
    return FailedPrecondition(who + "the checkpoint has " +
                              std::to_string(state.partitions.size()) +
                              " partitions, this server owns " + std::to_string(owned_.size()));
  }
  if (state.workers.size() != clocks_.size()) {
    return FailedPrecondition(who + "the checkpoint has " + std::to_string(state.workers.size()) +
                              " worker clocks, the job " + std::to_string(clocks_.size()) +
                              " workers");
  }
  const bool sync = config_.consistency == Consistency::kSync;
  const size_t slots = static_cast<size_t>(config_.optimizer->state_slots());
  for (size_t i = 0; i < owned_.size(); ++i) {
    const ckpt::PartitionSnapshot& in = state.partitions[i];
    const PartitionState& p = owned_[i];
    const std::string part = who + "partition " + std::to_string(in.id);
    if (in.id != p.id) {
      return FailedPrecondition(part + " is not the partition this server owns in that place (" +
                                std::to_string(p.id) + ")");
    }
    const size_t n = p.params.size();
    if (in.params.size() != n || in.optimizer_state.size() != slots * n) {
      return FailedPrecondition(part + " has " + std::to_string(in.params.size()) +
                                " parameters and " + std::to_string(in.optimizer_state.size()) +
                                " optimizer floats; expected " + std::to_string(n) + " and " +
                                std::to_string(slots * n));
    }
    if (in.version < 0 || in.optimizer_steps < 0 || in.optimizer_steps > in.version) {
      return FailedPrecondition(part + ": version " + std::to_string(in.version) +
                                " and optimizer steps " + std::to_string(in.optimizer_steps) +
                                " are not 0 <= steps <= version");
    }
    const bool round = !in.accum.empty() || in.round_pushes > 0 || in.round_samples > 0;
    if (round && (!sync || in.accum.size() != n || in.round_pushes == 0 ||
                  in.round_pushes > static_cast<uint32_t>(config_.num_workers))) {
      return FailedPrecondition(part + ": a round in progress that does not fit (" +
                                std::to_string(in.round_pushes) + " pushes, " +
                                std::to_string(in.accum.size()) + " accumulated floats, " +
                                ConsistencyName(config_.consistency) + " mode)");
    }
  }
  for (size_t w = 0; w < state.workers.size(); ++w) {
    const ckpt::WorkerClock& c = state.workers[w];
    if (c.clock < 0) {
      return FailedPrecondition(who + "worker " + std::to_string(w) + " has a negative clock");
    }
    // Chunks of a push in: sync, the worker counting, owned partitions ascending, not all of
    // them (the last would have completed the push), each in a round at the worker's clock.
    if (c.partial.empty()) continue;
    bool fits = sync && !c.done && c.partial.size() < owned_.size();
    for (size_t i = 0; fits && i < c.partial.size(); ++i) {
      const PartitionState* p = Find(c.partial[i]);
      const auto slot = p == nullptr ? 0 : static_cast<size_t>(p - owned_.data());
      fits = p != nullptr && (i == 0 || c.partial[i] > c.partial[i - 1]) &&
             state.partitions[slot].version <= c.clock + 1 &&
             state.partitions[slot].version >= c.clock;
    }
    if (!fits) {
      return FailedPrecondition(who + "worker " + std::to_string(w) + "'s push in chunks (" +
                                std::to_string(c.partial.size()) +
                                " partitions in) does not fit the shard");
    }
  }
  if (state.sparse.has_value()) {
    const ckpt::SparseState& in = *state.sparse;
    bool sums = false;
    for (const ckpt::SparseTableSnapshot& t : in.tables) sums = sums || !t.round_keys.empty();
    const bool round = sums || in.round_pushes > 0 || in.round_samples > 0;
    if (in.version < 0 || !std::isfinite(in.round_learning_rate) || in.round_learning_rate < 0 ||
        (round && (!sync || in.round_pushes == 0 ||
                   in.round_pushes > static_cast<uint32_t>(config_.num_workers)))) {
      return FailedPrecondition(who + "the sparse tables' version " + std::to_string(in.version) +
                                " or round in progress (" + std::to_string(in.round_pushes) +
                                " pushes at rate " + std::to_string(in.round_learning_rate) +
                                ") does not fit " + ConsistencyName(config_.consistency) + " mode");
    }
    // The last check, and atomic: it changes the sparse tables only when it succeeds.
    RT_RETURN_IF_ERROR(sparse_->Restore(&*state.sparse));
  }

  // All checked: nothing below fails.
  for (size_t i = 0; i < owned_.size(); ++i) {
    ckpt::PartitionSnapshot& in = state.partitions[i];
    PartitionState& p = owned_[i];
    const size_t n = p.params.size();
    // A new buffer: pull replies still queued keep reading the old one.
    p.params = transport::SharedBuffer<float>(std::move(in.params));
    p.optimizer_state = std::move(in.optimizer_state);
    p.optimizer_steps = in.optimizer_steps;
    p.version = in.version;
    if (sync) {
      if (in.accum.empty()) {
        p.accum.assign(n, 0.0f);
      } else {
        p.accum = std::move(in.accum);
      }
      p.accum_clear = false;
      p.pushes = static_cast<int>(in.round_pushes);
      p.samples = in.round_samples;
      p.learning_rate = in.round_learning_rate;
    }
  }
  // Held pushes belonged to the state replaced (a replica's copy being synced again).
  for (auto& held : held_push_) held.clear();
  workers_done_ = 0;
  for (size_t w = 0; w < state.workers.size(); ++w) {
    ClearPartial(w);
    for (const uint32_t id : state.workers[w].partial) {
      if (partial_[w].empty()) partial_[w].assign(owned_.size(), 0);
      partial_[w][static_cast<size_t>(slot_of_partition_[id])] = 1;
      ++partial_count_[w];
    }
    clocks_[w] = state.workers[w].clock;
    worker_done_[w] = state.workers[w].done;
    worker_excluded_[w] = state.workers[w].excluded;
    if (state.workers[w].done) ++workers_done_;
  }
  if (queue_.has_value() && state.queue.has_value()) {
    queue_->Restore(std::move(*state.queue));
    CountQueue();
  }
  if (state.sparse.has_value()) {
    sparse_round_.version = state.sparse->version;
    sparse_round_.pushes = static_cast<int>(state.sparse->round_pushes);
    sparse_round_.samples = state.sparse->round_samples;
    sparse_round_.learning_rate = state.sparse->round_learning_rate;
  }
  stats_.set_workers_done(static_cast<uint32_t>(workers_done_));
  if (sparse_ != nullptr) sparse_->CountInto(&stats_);
  ++generation_;
  return Status::Ok();
}

}  // namespace ringtrain::ps
