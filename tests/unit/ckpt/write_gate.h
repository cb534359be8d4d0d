// A gate that holds a checkpoint writer's first write at its start until opened: a write in
// flight, deterministically. Pass `[&gate] { gate.Wait(); }` as the writer's before-write hook.
#ifndef RINGTRAIN_TESTS_UNIT_CKPT_WRITE_GATE_H_
#define RINGTRAIN_TESTS_UNIT_CKPT_WRITE_GATE_H_

#include <atomic>
#include <future>

namespace ringtrain::ckpt::testing {

class WriteGate {
 public:
  // Only the first write waits; later ones pass once the gate is open.
  void Wait() {
    if (!entered_flag_.exchange(true)) entered_.set_value();
    open_.wait();
  }
  // Returns once the first write is waiting.
  void WaitEntered() { entered_future_.wait(); }
  void Open() { open_promise_.set_value(); }

 private:
  std::atomic<bool> entered_flag_{false};
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> open_promise_;
  std::shared_future<void> open_ = open_promise_.get_future().share();
};

}  // namespace ringtrain::ckpt::testing

#endif  // RINGTRAIN_TESTS_UNIT_CKPT_WRITE_GATE_H_
