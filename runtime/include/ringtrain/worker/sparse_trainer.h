// SparseTrainer: a worker's training loop for a click-through model over sparse keys
// (model/sparse_model.h), whose per-key rows live in a sparse table on the servers.
//
// Loop, per epoch: the epoch's first batch's distinct keys (model::IndexKeys) are pulled with
// the dense parameters (PsClient::PullRows), then every step computes the batch's loss and the
// gradients of the dense parameters and of its rows, and pushes them tagged with this worker's
// clock while pulling the rows of the next batch's keys and the dense parameters for the next
// step (PsClient::PushPullRows: the push of step c reaches each server before the pull of step
// c + 1, so every key pushed was pulled by the pull before it, as servers check). Every worker
// runs the same number of steps per epoch (a worker whose shard is used up pushes 0 samples).
// At each epoch's end worker 0 evaluates the test set: its rows' keys are pulled in chunks of
// `eval_chunk_rows` rows at the current clock, and the test AUC and mean log-loss reported in
// an EVAL event (test_auc, test_loss). Progress goes to the sink at most every
// `progress_interval`.
//
// The trainer starts where the servers say this worker stands (PsClient::Join), as the dense
// Trainer does.
//
// Thread-safety: not thread-safe; the model, client, batches, test set, schedule and sink are
// borrowed and must outlive Run().
#ifndef RINGTRAIN_WORKER_SPARSE_TRAINER_H_
#define RINGTRAIN_WORKER_SPARSE_TRAINER_H_

#include <chrono>
#include <cstdint>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/data/sparse_data.h"
#include "ringtrain/data/sparse_source.h"
#include "ringtrain/model/sparse_model.h"
#include "ringtrain/optim/schedule.h"
#include "ringtrain/transport/event_sink.h"
#include "ringtrain/transport/shared_buffer.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::worker {

struct SparseTrainerOptions {
  int rank = 0;
  int epochs = 1;
  uint32_t table = 0;  // the sparse table of the model's rows
  std::chrono::milliseconds progress_interval{500};
  int64_t eval_chunk_rows = 8192;  // >= 1
};

struct SparseTrainerResult {
  int64_t start_step = 0;
  bool already_done = false;  // the servers said this worker had finished: nothing was run
  int64_t steps = 0;          // the clock reached
  uint64_t samples = 0;
  double last_loss = 0;  // mean training loss over the last progress interval
  double test_auc = -1;  // last evaluation; -1 when none ran
  double test_log_loss = 0;
  data::SkippedRecords skipped;  // bad records passed over in the last epoch read
};

// The AUC and mean log-loss of a model on a set.
struct SparseEvaluation {
  double auc = 0;
  double log_loss = 0;
  int64_t rows = 0;
};

class SparseTrainer {
 public:
  // `test` may be null (no evaluation).
  SparseTrainer(SparseTrainerOptions options, model::SparseModel* model, PsClient* client,
                data::SparseSource* batches, const data::SparseBatch* test,
                const optim::LearningRateSchedule* schedule, transport::EventSink* sink);

  StatusOr<SparseTrainerResult> Run();

  // Evaluates the model as the servers hold it at version >= `clock` on `set`.
  StatusOr<SparseEvaluation> Evaluate(const data::SparseBatch& set, int64_t clock);

 private:
  void Report(proto::EventType type, int epoch, bool force);
  // Pulls the rows of `keys` and the dense parameters at version >= clock.
  Status PullFor(const model::BatchKeys& keys, std::vector<float>* rows, int64_t clock);

  SparseTrainerOptions options_;
  model::SparseModel* model_;
  PsClient* client_;
  data::SparseSource* batches_;
  const data::SparseBatch* test_;
  const optim::LearningRateSchedule* schedule_;
  transport::EventSink* sink_;

  std::vector<float> dense_;
  transport::SharedBuffer<float> dense_grad_;  // sent without a copy
  SparseTrainerResult result_;
  int64_t total_steps_ = 0;
  double loss_sum_ = 0;
  int64_t loss_count_ = 0;
  double learning_rate_ = 0;
  std::chrono::steady_clock::time_point last_report_{};
};

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_WORKER_SPARSE_TRAINER_H_
