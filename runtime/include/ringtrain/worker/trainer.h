// Trainer: a worker's training loop over its shard of the data.
//
// Loop: join the servers (PsClient::Join: where this worker stands; a restored job or a
// replacement worker continues from there, in the middle of an epoch if need be), pull the
// initial parameters, then for each step take the step's batch from the worker's batch source
// (data/batch_source.h: its shard in memory, or streamed; a per-epoch deterministic order),
// compute the mean loss gradient with the model, push it tagged
// with this worker's clock (the step) and pull the parameters for the next step. When that pull
// is answered is the servers' consistency model: sync once every worker's gradient of this
// step is applied, ssp once the slowest worker is within the staleness bound, async at once. Every
// worker runs the same number of steps per epoch; a worker whose shard is exhausted pushes an empty
// gradient (0 samples) so no round waits for it. Worker 0 evaluates on the test set at the end of
// each epoch, on a thread of its own when given a second model (TrainerOptions::eval_model).
// Progress goes to the event sink at most every `progress_interval`.
//
// Thread-safety: not thread-safe; Run() uses the client, model and sink it was given, which
// must outlive the Trainer.
#ifndef RINGTRAIN_WORKER_TRAINER_H_
#define RINGTRAIN_WORKER_TRAINER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/data/batch_source.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/model/model.h"
#include "ringtrain/optim/momentum_correction.h"
#include "ringtrain/optim/schedule.h"
#include "ringtrain/transport/event_sink.h"
#include "ringtrain/transport/shared_buffer.h"
#include "ringtrain/worker/background_evaluator.h"
#include "ringtrain/worker/block_gradient.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::worker {

// Dynamic sharding (spec.dataset.sharding: dynamic): reads the tasks the data queue hands out
// (ps/data_queue.h); each task's batches then come from the trainer's batch source.
class TaskReader {
 public:
  virtual ~TaskReader() = default;
  // The tasks of an epoch: how this worker cut the data (every worker must cut it alike).
  virtual int64_t tasks() const = 0;
  // Starts reading task `position` of epoch `epoch` (0-based) from its beginning.
  [[nodiscard]] virtual Status Start(int64_t epoch, int64_t position) = 0;
};

struct TrainerOptions {
  int rank = 0;
  int num_workers = 1;
  int epochs = 1;
  int64_t batch_size = 32;
  uint64_t seed = 42;
  bool shuffle = true;
  int64_t steps_per_epoch = 0;  // every epoch's steps (app::JobPlan::steps_per_epoch)
  std::chrono::milliseconds progress_interval{500};
  // Called in each step with its 0-based index once the gradient is computed, just before it
  // is pushed (tests and benchmarks instrument or slow down a worker here). May be empty.
  std::function<void(int64_t step)> before_push;
  // Momentum correction with a gradient codec (optim/momentum_correction.h); off by default.
  optim::LocalMomentum local_momentum;
  // Dynamic sharding: tasks from the data queue on server `queue_server`, read by `tasks` (not
  // owned; null: the batch source's epochs, row-wise). The worker asks for a task, trains on its
  // batches, and reports it finished with its next request; an epoch ends for the worker when
  // its next task is of a later epoch (worker 0 evaluates then), the training when the queue
  // says every task of every epoch is finished. While the others read the last tasks, a worker
  // with `push_while_waiting` (sync: every round needs it; ssp: the others' pulls wait for its
  // clock) pushes empty steps. steps_per_epoch is then an estimate (for the schedule and the
  // progress's total).
  TaskReader* tasks = nullptr;
  int queue_server = 0;
  bool push_while_waiting = true;
  // Finish with PsClient::DoneWithFinalModel instead of Done, so params() ends as the final
  // model, after every worker's updates (the worker that writes the model out).
  bool pull_final_model = false;
  // Feature-wise sharding: the gradient of this worker's column block (worker/block_gradient.h;
  // not owned; null: the model's own). The batches then hold the block's columns only, and the
  // client's scope is the block; worker 0 pulls the whole model before it evaluates.
  BlockGradient* block_gradient = nullptr;
  // Worker 0's evaluations in the background (worker/background_evaluator.h) with this second
  // instance of the model (not owned; null: evaluations stop the loop, as with block_gradient,
  // whose evaluation must pull the whole model first). Each evaluation's result is reported
  // with the first progress after it finishes; the last one before the training's FINISHED.
  model::Model* eval_model = nullptr;
};

struct TrainerResult {
  int64_t start_step = 0;         // where this run started (the join's clock; 0 in a new job)
  bool already_done = false;      // the servers said this worker had finished: nothing was run
  int64_t steps = 0;              // the clock reached: start_step + the steps run
  uint64_t samples_replayed = 0;  // samples of steps some server already had (JoinResult)
  uint64_t samples = 0;
  data::SkippedRecords skipped;  // bad records passed over in the last epoch read
  double last_loss = 0;          // mean training loss over the last progress interval
  double test_accuracy = -1;     // last evaluation; -1 when none ran
  double test_loss = 0;
  double train_seconds = 0;  // the loop: first step to the end of the last, less evaluations
};

class Trainer {
 public:
  // `test` may be null (no evaluation). REQUIRES: batches and test outlive the trainer.
  Trainer(TrainerOptions options, model::Model* model, PsClient* client, data::BatchSource* batches,
          const data::Dataset* test, const optim::LearningRateSchedule* schedule,
          transport::EventSink* sink);

  // Runs every epoch, then tells the servers this worker is done (and with pull_final_model,
  // waits for every other worker and pulls the final model).
  StatusOr<TrainerResult> Run();

  // The parameters after the last pull (with pull_final_model, the final model).
  const std::vector<float>& params() const { return params_; }

 private:
  void Report(proto::EventType type, int epoch, bool force);
  // One training step on `batch`: the gradient, pushed with this worker's clock, and the pull.
  Status Step(const data::Batch& batch, int64_t replay_until, int64_t* version);
  // The epoch's last report (with the bad records skipped in it), and worker 0's evaluation.
  Status EndEpoch(int epoch, const data::SkippedRecords& skipped);
  Status RunTasks(int64_t replay_until, int64_t* version);  // dynamic sharding
  Status Evaluate(int epoch);
  // Reports the background evaluations finished so far (all of them, waiting, with `finish`).
  void ReportEvaluations(bool finish);

  TrainerOptions options_;
  model::Model* model_;
  PsClient* client_;
  data::BatchSource* batches_;
  const data::Dataset* test_;
  const optim::LearningRateSchedule* schedule_;
  transport::EventSink* sink_;

  std::unique_ptr<BackgroundEvaluator> evaluator_;  // with options_.eval_model
  std::vector<float> params_;
  transport::SharedBuffer<float> gradient_;  // sent without a copy; see shared_buffer.h
  std::vector<float> velocity_;              // local momentum (momentum correction)
  TrainerResult result_;
  int64_t total_steps_ = 0;
  double loss_sum_ = 0;
  int64_t loss_count_ = 0;
  double learning_rate_ = 0;
  std::chrono::steady_clock::time_point last_report_{};
  std::chrono::steady_clock::duration evaluating_{};  // evaluations that stopped the loop
};

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_WORKER_TRAINER_H_
