// Retries with exponential backoff and jitter, for calls to a store over the network.
//
// A call is tried up to `attempts` times; after failure k (1-based) it waits
// min(max_backoff, initial_backoff * 2^(k-1)) times a factor drawn from [0.5, 1.0) (jitter, so
// many workers do not retry in lockstep). Only Unavailable and DeadlineExceeded are retried
// (the store may come back); any other error, or success, returns at once. After the last
// attempt the error says how many attempts were made over how long, and the last error.
//
// Thread-safety: Retry may be called from several threads at once.
#ifndef RINGTRAIN_STORAGE_RETRY_H_
#define RINGTRAIN_STORAGE_RETRY_H_

#include <chrono>
#include <functional>

#include "ringtrain/common/status.h"

namespace ringtrain::storage {

struct RetryOptions {
  int attempts = 6;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
  // How a wait is spent (tests pass one that records and returns at once).
  std::function<void(std::chrono::milliseconds)> sleep;  // null: std::this_thread::sleep_for
};

// True for the errors Retry tries again.
inline bool Retryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
}

// Calls `attempt` until it succeeds, fails with a non-retryable error or runs out of attempts.
[[nodiscard]] Status Retry(const RetryOptions& options, const std::function<Status()>& attempt);

}  // namespace ringtrain::storage

#endif  // RINGTRAIN_STORAGE_RETRY_H_
