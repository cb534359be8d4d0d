// BackgroundEvaluator: worker 0's per-epoch evaluations on a thread of their own, so that the
// training loop (and, in sync mode, every other worker waiting on its pushes) does not stop for
// them.
//
// Submit() copies the parameters and returns; the thread evaluates them on the test set with its
// own model instance (models keep scratch buffers), in chunks of kChunkRows rows. At most one
// evaluation runs: a Submit() while the previous one still runs finishes it first (below), so
// results come in epoch order and the copy is reused. Take() hands over the results finished so
// far (without taking the lock when there are none), Finish() finishes the one in progress
// first.
//
// Priority: the thread runs at the lowest (nice 19), so it takes its CPU when the training
// thread beside it waits on the servers, where a thread of equal weight took half the CPU for
// the whole evaluation and slowed every step of that worker, and so of every other one waiting
// on it in sync mode (an evaluation of the `make run` example costs about a twelfth of an
// epoch's compute). Whoever must wait for it (Submit, Finish, the destructor) does not wait on
// a thread that may get little CPU on a busy host: with `helper`, a second model instance that
// caller's thread may use meanwhile (the trainer's own), it evaluates the chunks left itself, at
// its own priority, and waits only for the chunk the thread is on. Each chunk's result is kept
// in its place and the chunks are summed in order, so a result does not depend on which thread
// evaluated what. It equals the model's Evaluate over the whole set up to float rounding: a
// row's logits may differ in their last bits with how many rows are evaluated together (Eigen's
// GEMM blocks by shape), so the loss may differ in its last digits, and a prediction on a
// near-tie could in principle flip.
//
// Thread-safety: Submit, Take, Finish and the destructor are called from one thread (the
// trainer's), which must not use `helper` meanwhile; the evaluation thread touches only its
// model, the copy of the parameters and the test set, which must not change while the
// evaluator lives.
#ifndef RINGTRAIN_WORKER_BACKGROUND_EVALUATOR_H_
#define RINGTRAIN_WORKER_BACKGROUND_EVALUATOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "ringtrain/data/dataset.h"
#include "ringtrain/model/model.h"

namespace ringtrain::worker {

struct EvaluationResult {
  int epoch = 0;  // as given to Submit
  double accuracy = 0;
  double loss = 0;
};

class BackgroundEvaluator {
 public:
  // Rows a chunk of an evaluation holds (the last may hold fewer).
  static constexpr int64_t kChunkRows = 256;

  // REQUIRES: model and test are non-null and outlive the evaluator; test->rows() > 0; helper,
  // if not null, is another instance of the same model (not `model`) and outlives the evaluator.
  BackgroundEvaluator(model::Model* model, const data::Dataset* test,
                      model::Model* helper = nullptr);
  ~BackgroundEvaluator();  // finishes the evaluation in progress
  BackgroundEvaluator(const BackgroundEvaluator&) = delete;
  BackgroundEvaluator& operator=(const BackgroundEvaluator&) = delete;

  // Starts evaluating a copy of `params` for `epoch` (after the previous evaluation finished).
  void Submit(int epoch, std::span<const float> params);
  // The evaluations finished and not taken yet, in the order submitted.
  std::vector<EvaluationResult> Take();
  // Waits for the evaluation in progress, then Take().
  std::vector<EvaluationResult> Finish();

  // Chunks evaluated by the caller's thread with `helper` (while it waited), and by the
  // evaluation thread, over the evaluator's life.
  int64_t chunks_helped() const;
  int64_t chunks_in_background() const;

 private:
  void Loop();
  // Evaluates the next chunk not taken yet with `model`, if there is one; false if none is left.
  // REQUIRES: mu_ held by `lock`, which it releases while evaluating.
  bool EvaluateNextChunk(model::Model* model, std::unique_lock<std::mutex>& lock);
  // Waits until no evaluation is in progress, evaluating chunks with helper_ meanwhile.
  void WaitIdle(std::unique_lock<std::mutex>& lock);

  model::Model* const model_;
  model::Model* const helper_;
  const data::Dataset* const test_;
  const int64_t chunks_;  // of every evaluation
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<float> params_;  // the copy being evaluated (written only while !busy_)
  int epoch_ = 0;
  bool busy_ = false;                     // params_ holds a submitted copy not evaluated yet
  int64_t next_chunk_ = 0;                // the next chunk not taken (== chunks_: all taken)
  int64_t chunks_done_ = 0;               // of the evaluation in progress
  std::vector<model::EvalResult> parts_;  // each chunk's result, in the set's order
  int64_t chunks_helped_ = 0;
  int64_t chunks_in_background_ = 0;
  bool stop_ = false;
  std::vector<EvaluationResult> done_;
  // done_.size(), read by Take() without the lock: the thread, at nice 19, may be descheduled
  // holding it on a busy CPU, and the trainer takes after every step.
  std::atomic<size_t> done_count_{0};
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_WORKER_BACKGROUND_EVALUATOR_H_
