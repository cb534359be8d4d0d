// BackgroundEvaluator: worker 0's per-epoch evaluations on a thread of their own, so that the
// training loop (and, in sync mode, every other worker waiting on its pushes) does not stop for
// them.
//
// Submit() copies the parameters and returns; the thread evaluates them on the test set with its
// own model instance (models keep scratch buffers, so it is never the trainer's). At most one
// evaluation runs: a Submit() while the previous one still runs waits for it first, so results
// come in epoch order and the copy is reused. Take() hands over the results finished so far,
// Finish() waits for the one in progress first.
//
// Thread-safety: Submit, Take and Finish are called from one thread (the trainer's); the
// evaluation thread touches only its model, its copy of the parameters and the test set, which
// must not change while the evaluator lives.
#ifndef RINGTRAIN_WORKER_BACKGROUND_EVALUATOR_H_
#define RINGTRAIN_WORKER_BACKGROUND_EVALUATOR_H_

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
  // REQUIRES: model and test are non-null and outlive the evaluator; test->rows() > 0.
  BackgroundEvaluator(model::Model* model, const data::Dataset* test);
  ~BackgroundEvaluator();  // finishes the evaluation in progress
  BackgroundEvaluator(const BackgroundEvaluator&) = delete;
  BackgroundEvaluator& operator=(const BackgroundEvaluator&) = delete;

  // Starts evaluating a copy of `params` for `epoch` (after the previous evaluation finished).
  void Submit(int epoch, std::span<const float> params);
  // The evaluations finished and not taken yet, in the order submitted.
  std::vector<EvaluationResult> Take();
  // Waits for the evaluation in progress, then Take().
  std::vector<EvaluationResult> Finish();

 private:
  void Loop();

  model::Model* const model_;
  const data::Dataset* const test_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<float> params_;  // the copy being evaluated (written only while !busy_)
  int epoch_ = 0;
  bool busy_ = false;  // params_ holds a submitted copy not evaluated yet
  bool stop_ = false;
  std::vector<EvaluationResult> done_;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_WORKER_BACKGROUND_EVALUATOR_H_
