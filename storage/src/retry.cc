#include "ringtrain/storage/retry.h"

#include <algorithm>
#include <random>
#include <string>
#include <thread>

namespace ringtrain::storage {

Status Retry(const RetryOptions& options, const std::function<Status()>& attempt) {
  const auto start = std::chrono::steady_clock::now();
  // Seeded from the clock (std::random_device may throw where no entropy source is allowed).
  std::minstd_rand jitter(
      static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count() ^
                            static_cast<int64_t>(reinterpret_cast<uintptr_t>(&options))));
  std::uniform_real_distribution<double> factor(0.5, 1.0);
  std::chrono::milliseconds backoff = options.initial_backoff;
  const int attempts = std::max(1, options.attempts);
  Status last;
  for (int k = 1; k <= attempts; ++k) {
    last = attempt();
    if (last.ok() || !Retryable(last)) return last;
    if (k == attempts) break;
    const auto wait = std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(backoff.count()) * factor(jitter)));
    if (options.sleep) {
      options.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
    backoff = std::min(options.max_backoff, backoff * 2);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return Status(last.code(), last.message() + " (gave up after " + std::to_string(attempts) +
                                 " attempts over " + std::to_string(took.count() / 1000) + "." +
                                 std::to_string(took.count() % 1000 / 100) + " s)");
}

}  // namespace ringtrain::storage
