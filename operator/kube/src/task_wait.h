// Waiting on pplx tasks with a deadline and a stop flag, and turning what cpprestsdk throws
// into Status. Internal to the kube adapter.
//
// pplx terminates the process (SIGTRAP, then std::terminate) when a task that failed is
// destroyed without anyone having looked at its exception, so every task handed to WaitTask
// gets a continuation that observes it, even when the waiter gives up first.
#ifndef RINGTRAIN_OPERATOR_SRC_KUBE_TASK_WAIT_H_
#define RINGTRAIN_OPERATOR_SRC_KUBE_TASK_WAIT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <string>

#include <pplx/pplxtasks.h>

#include "ringtrain/common/status.h"

namespace ringtrain::op::kube {

using Clock = std::chrono::steady_clock;

// How often a waiter looks at its stop flag.
inline constexpr std::chrono::milliseconds kStopPollInterval{50};

enum class WaitOutcome { kDone, kDeadline, kStopped };

// How long a waiter that cancelled a request waits for its task to wind down.
inline constexpr std::chrono::seconds kCancelGrace{5};

// Blocks until `task` completes (in any way), `deadline` passes or `*stop` (may be null) is
// true. On the latter two, cancels `cts` (which closes the request's connection) and waits up
// to kCancelGrace for the task to finish, so that no work of the call outlives it.
template <typename T>
WaitOutcome WaitTask(const pplx::task<T>& task, Clock::time_point deadline,
                     const std::atomic<bool>* stop, pplx::cancellation_token_source& cts) {
  struct Signal {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto signal = std::make_shared<Signal>();
  task.then([signal](pplx::task<T> finished) {
    try {
      finished.get();  // marks a failure as observed
    } catch (...) {
    }
    {
      std::lock_guard<std::mutex> lock(signal->mu);
      signal->done = true;
    }
    signal->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(signal->mu);
  while (!signal->done) {
    const Clock::time_point now = Clock::now();
    const bool stopped = stop != nullptr && stop->load();
    if (stopped || now >= deadline) {
      lock.unlock();  // cancellation callbacks might complete the task on this thread
      cts.cancel();
      lock.lock();
      signal->cv.wait_for(lock, kCancelGrace, [&] { return signal->done; });
      return stopped ? WaitOutcome::kStopped : WaitOutcome::kDeadline;
    }
    // Capped so that a far deadline never overflows and the stop flag is seen promptly.
    const Clock::time_point until =
        deadline - now > kStopPollInterval ? now + kStopPollInterval : deadline;
    signal->cv.wait_until(lock, until);
  }
  return WaitOutcome::kDone;
}

// The Status for an exception thrown by cpprestsdk while doing `what` ("GET /api/v1/..."):
// its timeouts are DeadlineExceeded, cancellation Cancelled, anything else Unavailable.
Status StatusFromException(const std::string& what, std::exception_ptr error);

}  // namespace ringtrain::op::kube

#endif  // RINGTRAIN_OPERATOR_SRC_KUBE_TASK_WAIT_H_
