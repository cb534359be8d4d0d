#include "ringtrain/ps/data_queue.h"

#include <algorithm>

namespace ringtrain::ps {
namespace {

bool Same(const DataQueue::Lease& a, const DataQueue::Lease& b) {
  return a.epoch == b.epoch && a.position == b.position;
}

}  // namespace

Status DataQueue::Check(int worker, int64_t tasks, int epochs,
                        const std::optional<Lease>& finished) const {
  if (worker < 0 || worker >= num_workers_) {
    return InvalidArgument("task request from worker " + std::to_string(worker) + " of " +
                           std::to_string(num_workers_));
  }
  if (tasks < 1 || epochs < 1) {
    return InvalidArgument("task request from worker " + std::to_string(worker) + " with " +
                           std::to_string(tasks) + " tasks and " + std::to_string(epochs) +
                           " epochs");
  }
  // More epochs than the queue was started with: a finished job continued for longer (the
  // queue grows). Fewer, or another cut of the data, are refused.
  if (state_.tasks != 0 && (tasks != state_.tasks || epochs < state_.epochs)) {
    return InvalidArgument("worker " + std::to_string(worker) + " cuts the data into " +
                           std::to_string(tasks) + " tasks for " + std::to_string(epochs) +
                           " epochs; the queue holds " + std::to_string(state_.tasks) +
                           " tasks for " + std::to_string(state_.epochs) +
                           " (the workers see different data: was it changed while the job ran?)");
  }
  if (finished.has_value() && (finished->epoch < 0 || finished->epoch >= epochs ||
                               finished->position < 0 || finished->position >= tasks)) {
    return InvalidArgument("worker " + std::to_string(worker) + " finished task " +
                           std::to_string(finished->position) + " of epoch " +
                           std::to_string(finished->epoch) + ", which is no task of the job");
  }
  return Status::Ok();
}

void DataQueue::Finish(int worker, const Lease& finished) {
  auto held = std::find_if(state_.leased.begin(), state_.leased.end(),
                           [&](const Lease& l) { return l.worker == worker && Same(l, finished); });
  if (held != state_.leased.end()) {
    state_.leased.erase(held);
    ++state_.finished;
    return;
  }
  // Given back meanwhile (the worker was thought silent) and not handed out again: done now.
  auto waiting = std::find_if(state_.returned.begin(), state_.returned.end(),
                              [&](const Lease& l) { return Same(l, finished); });
  if (waiting != state_.returned.end()) {
    state_.returned.erase(waiting);
    ++state_.finished;
    return;
  }
  // Another worker holds it now, or finished it: its records were read twice.
  ++state_.finished_again;
}

StatusOr<TaskAnswer> DataQueue::Next(int worker, int64_t tasks, int epochs,
                                     std::optional<Lease> finished) {
  RT_RETURN_IF_ERROR(Check(worker, tasks, epochs, finished));
  if (state_.tasks == 0) state_.tasks = tasks;
  state_.epochs = std::max(state_.epochs, epochs);
  if (finished.has_value()) Finish(worker, *finished);
  auto lease = [](const Lease& l) {
    return TaskAnswer{TaskAnswer::Kind::kLease, l.epoch, l.position};
  };
  // Still holding one (a retried request): the same again.
  for (const Lease& l : state_.leased) {
    if (l.worker == worker) return lease(l);
  }
  Lease next;
  if (!state_.returned.empty()) {
    next = state_.returned.front();
    state_.returned.erase(state_.returned.begin());
  } else if (state_.epoch < state_.epochs) {
    next.epoch = state_.epoch;
    next.position = state_.next;
    if (++state_.next == state_.tasks) {
      ++state_.epoch;
      state_.next = 0;
    }
  } else {
    return TaskAnswer{state_.leased.empty() ? TaskAnswer::Kind::kEnd : TaskAnswer::Kind::kWait, 0,
                      0};
  }
  next.worker = worker;
  state_.leased.push_back(next);
  ++state_.handed_out;
  return lease(next);
}

bool DataQueue::Return(int worker) {
  auto held = std::find_if(state_.leased.begin(), state_.leased.end(),
                           [&](const Lease& l) { return l.worker == worker; });
  if (held == state_.leased.end()) return false;
  Lease back = *held;
  back.worker = -1;
  state_.leased.erase(held);
  state_.returned.push_back(back);
  ++state_.requeued;
  return true;
}

void DataQueue::Restore(ckpt::DataQueueState state) {
  state_ = std::move(state);
  while (!state_.leased.empty()) Return(state_.leased.front().worker);
}

}  // namespace ringtrain::ps
