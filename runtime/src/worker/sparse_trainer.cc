#include "ringtrain/worker/sparse_trainer.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/model/binary_metrics.h"
#include "ringtrain/worker/worker_event.h"

namespace ringtrain::worker {

SparseTrainer::SparseTrainer(SparseTrainerOptions options, model::SparseModel* model,
                             PsClient* client, data::SparseSource* batches,
                             const data::SparseBatch* test,
                             const optim::LearningRateSchedule* schedule,
                             transport::EventSink* sink)
    : options_(std::move(options)),
      model_(model),
      client_(client),
      batches_(batches),
      test_(test),
      schedule_(schedule),
      sink_(sink),
      dense_(static_cast<size_t>(model->num_dense()), 0.0f) {
  RT_CHECK(options_.eval_chunk_rows >= 1);
}

void SparseTrainer::Report(proto::EventType type, int epoch, bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_report_ < options_.progress_interval) return;
  last_report_ = now;
  if (loss_count_ > 0) result_.last_loss = loss_sum_ / static_cast<double>(loss_count_);
  proto::Event e = WorkerEvent(type,
                               {options_.rank, epoch, result_.steps, result_.start_step,
                                total_steps_, result_.last_loss, result_.samples, learning_rate_},
                               *client_);
  // A click-through model has no accuracy: its evaluation is the AUC and the log-loss. (-1, as
  // for a job without a test set, so that no status shows an accuracy of 0.)
  e.set_accuracy(-1);
  if (result_.skipped.count > 0) {
    e.set_records_skipped(static_cast<uint64_t>(result_.skipped.count));
  }
  if ((type == proto::EVAL || type == proto::FINISHED) && result_.test_auc >= 0) {
    e.set_test_auc(result_.test_auc);
    e.set_test_loss(result_.test_log_loss);
  }
  sink_->Send(e);
  loss_sum_ = 0;
  loss_count_ = 0;
}

Status SparseTrainer::PullFor(const model::BatchKeys& keys, std::vector<float>* rows,
                              int64_t clock) {
  rows->resize(keys.keys.size() * static_cast<size_t>(model_->row_dim()));
  const SparseRows want[] = {{options_.table, keys.keys, *rows}};
  return client_->PullRows(clock, dense_, keys.keys.empty() ? std::span<const SparseRows>{} : want);
}

StatusOr<SparseEvaluation> SparseTrainer::Evaluate(const data::SparseBatch& set, int64_t clock) {
  SparseEvaluation eval;
  eval.rows = set.rows();
  std::vector<float> scores;
  scores.reserve(static_cast<size_t>(set.rows()));
  data::SparseBatch chunk;
  model::BatchKeys keys;
  std::vector<float> rows;
  std::vector<float> logits;
  std::vector<int64_t> order;
  double loss = 0;
  for (int64_t begin = 0; begin < set.rows(); begin += options_.eval_chunk_rows) {
    const int64_t end = std::min(set.rows(), begin + options_.eval_chunk_rows);
    order.resize(static_cast<size_t>(end - begin));
    std::iota(order.begin(), order.end(), int64_t{0});
    data::GatherSparseRows(set, begin, order, &chunk);
    model::IndexKeys(chunk, &keys);
    RT_RETURN_IF_ERROR(PullFor(keys, &rows, clock).WithContext("pulling the test set's rows"));
    model_->Logits(dense_.data(), rows, chunk, keys, &logits);
    for (int64_t r = 0; r < chunk.rows(); ++r) {
      loss += model::LogLoss(logits[static_cast<size_t>(r)], chunk.labels[static_cast<size_t>(r)]);
      scores.push_back(logits[static_cast<size_t>(r)]);
    }
  }
  eval.auc = model::Auc(scores, set.labels);
  eval.log_loss = set.rows() > 0 ? loss / static_cast<double>(set.rows()) : 0.0;
  return eval;
}

StatusOr<SparseTrainerResult> SparseTrainer::Run() {
  const int64_t steps_per_epoch = batches_->steps_per_epoch();
  total_steps_ = steps_per_epoch * options_.epochs;
  StatusOr<JoinResult> joined = client_->Join();
  if (!joined.ok()) return joined.status().WithContext("joining the servers");
  result_.start_step = std::min(joined->clock, total_steps_);
  result_.steps = result_.start_step;
  if (joined->done_everywhere) {
    result_.already_done = true;
    return result_;
  }
  data::SparseBatch batch, next;
  model::BatchKeys keys, next_keys;
  std::vector<float> rows, next_rows, row_grad;
  for (int epoch = static_cast<int>(result_.start_step / std::max<int64_t>(steps_per_epoch, 1));
       epoch < options_.epochs; ++epoch) {
    const int64_t first = result_.steps - epoch * steps_per_epoch;
    const std::string where = "epoch " + std::to_string(epoch + 1);
    RT_RETURN_IF_ERROR(batches_->StartEpoch(epoch, first).WithContext(where));
    if (first < steps_per_epoch) {
      RT_RETURN_IF_ERROR(batches_->Next(&batch).WithContext(where));
      model::IndexKeys(batch, &keys);
      RT_RETURN_IF_ERROR(PullFor(keys, &rows, result_.steps).WithContext(where + ": first pull"));
    }
    for (int64_t s = first; s < steps_per_epoch; ++s) {
      const int64_t clock = result_.steps;
      row_grad.resize(rows.size());
      const std::span<float> dense_grad = dense_grad_.Overwrite(dense_.size());
      const double loss =
          model_->LossAndGradient(dense_.data(), rows, batch, keys, dense_grad.data(), row_grad);
      if (batch.rows() > 0) {
        loss_sum_ += loss;
        ++loss_count_;
      }
      // The next step's keys are pulled with this step's push.
      const bool more = s + 1 < steps_per_epoch;
      if (more) {
        RT_RETURN_IF_ERROR(batches_->Next(&next).WithContext(where));
      } else {
        next.Clear();
      }
      model::IndexKeys(next, &next_keys);
      next_rows.resize(next_keys.keys.size() * static_cast<size_t>(model_->row_dim()));
      learning_rate_ = schedule_->At(clock);
      PushRequest push{dense_grad_, clock, static_cast<uint32_t>(batch.rows()),
                       static_cast<float>(learning_rate_)};
      if (!keys.keys.empty()) push.sparse.push_back({options_.table, keys.keys, row_grad});
      const SparseRows want[] = {{options_.table, next_keys.keys, next_rows}};
      if (Status pushed =
              client_->PushPullRows(push, clock + 1, dense_,
                                    next_keys.keys.empty() ? std::span<const SparseRows>{} : want);
          !pushed.ok()) {
        return pushed.WithContext("step " + std::to_string(clock));
      }
      result_.steps += 1;
      result_.samples += static_cast<uint64_t>(batch.rows());
      std::swap(batch, next);
      std::swap(keys, next_keys);
      std::swap(rows, next_rows);
      Report(proto::PROGRESS, epoch + 1, /*force=*/false);
    }
    result_.skipped = batches_->skipped();
    Report(proto::PROGRESS, epoch + 1, /*force=*/true);
    if (options_.rank == 0 && test_ != nullptr && test_->rows() > 0) {
      StatusOr<SparseEvaluation> eval = Evaluate(*test_, result_.steps);
      if (!eval.ok())
        return eval.status().WithContext("evaluating epoch " + std::to_string(epoch + 1));
      result_.test_auc = eval->auc;
      result_.test_log_loss = eval->log_loss;
      Report(proto::EVAL, epoch + 1, /*force=*/true);
    }
  }
  RT_RETURN_IF_ERROR(client_->Done().WithContext("finishing"));
  Report(proto::FINISHED, options_.epochs, /*force=*/true);
  return result_;
}

}  // namespace ringtrain::worker
