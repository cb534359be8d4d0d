// libFuzzer target: an event on the launcher's control socket, which any local process can send
// to: parsed, checked against the job (launch::CheckEvent), and, when it passes, folded into the
// progress tracker and its status line, as `ringtrain run` does.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "ringtrain/launch/event_check.h"
#include "ringtrain/launch/progress.h"
#include "ringtrain/proto/ringtrain.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto start = std::chrono::steady_clock::now();
  ringtrain::proto::Event event;
  if (!event.ParseFromArray(data, static_cast<int>(size))) return 0;
  ringtrain::launch::EventBounds bounds;
  bounds.num_ps = 2;
  bounds.num_workers = 2;
  bounds.epochs = 5;
  bounds.total_steps = 4690;
  if (!ringtrain::launch::CheckEvent(event, bounds).ok()) return 0;
  ringtrain::launch::ProgressTracker tracker(bounds.num_workers, bounds.num_ps, bounds.epochs,
                                             start);
  (void)tracker.OnEvent(event, start + std::chrono::seconds(1));
  (void)tracker.StatusLine(start + std::chrono::seconds(2));
  return 0;
}
