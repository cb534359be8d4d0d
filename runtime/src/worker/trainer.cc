#include "ringtrain/worker/trainer.h"

#include "ringtrain/worker/worker_event.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace ringtrain::worker {

Trainer::Trainer(TrainerOptions options, model::Model* model, PsClient* client,
                 data::BatchSource* batches, const data::Dataset* test,
                 const optim::LearningRateSchedule* schedule, transport::EventSink* sink)
    : options_(std::move(options)),
      model_(model),
      client_(client),
      batches_(batches),
      test_(test),
      schedule_(schedule),
      sink_(sink),
      params_(static_cast<size_t>(model->num_params()), 0.0f) {}

void Trainer::Report(proto::EventType type, int epoch, bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_report_ < options_.progress_interval) return;
  last_report_ = now;
  if (loss_count_ > 0) result_.last_loss = loss_sum_ / static_cast<double>(loss_count_);
  proto::Event e = WorkerEvent(type,
                               {options_.rank, epoch, result_.steps, result_.start_step,
                                total_steps_, result_.last_loss, result_.samples, learning_rate_},
                               *client_);
  e.set_samples_replayed(result_.samples_replayed);
  if (result_.skipped.count > 0)
    e.set_records_skipped(static_cast<uint64_t>(result_.skipped.count));
  if (type == proto::EVAL || type == proto::FINISHED) {
    e.set_accuracy(result_.test_accuracy);
    e.set_test_loss(result_.test_loss);
  }
  if (type == proto::FINISHED) e.set_train_seconds(result_.train_seconds);
  sink_->Send(e);
  loss_sum_ = 0;
  loss_count_ = 0;
}

Status Trainer::Evaluate(int epoch) {
  if (test_ == nullptr || test_->rows() == 0) return Status::Ok();
  // The loop's time does not count what evaluating stops it for (train_seconds).
  const auto started = std::chrono::steady_clock::now();
  if (options_.block_gradient != nullptr) {
    // The trainer holds only its block of the model: the whole of it, at this step's version.
    RT_RETURN_IF_ERROR(client_->Pull(result_.steps, params_, nullptr, /*whole=*/true)
                           .WithContext("pulling the whole model to evaluate it"));
  }
  if (evaluator_ != nullptr) {
    evaluator_->Submit(epoch, params_);  // waits only if the previous one still runs
    evaluating_ += std::chrono::steady_clock::now() - started;
    return Status::Ok();
  }
  const model::EvalResult r =
      model_->Evaluate(params_.data(), data::View(*test_, {0, test_->rows()}));
  evaluating_ += std::chrono::steady_clock::now() - started;
  result_.test_accuracy = static_cast<double>(r.correct) / static_cast<double>(r.count);
  result_.test_loss = r.loss_sum / static_cast<double>(r.count);
  Report(proto::EVAL, epoch, /*force=*/true);
  return Status::Ok();
}

void Trainer::ReportEvaluations(bool finish) {
  if (evaluator_ == nullptr) return;
  for (const EvaluationResult& r : finish ? evaluator_->Finish() : evaluator_->Take()) {
    result_.test_accuracy = r.accuracy;
    result_.test_loss = r.loss;
    Report(proto::EVAL, r.epoch, /*force=*/true);
  }
}

StatusOr<TrainerResult> Trainer::Run() {
  const int64_t steps_per_epoch = options_.steps_per_epoch;
  total_steps_ = steps_per_epoch * options_.epochs;
  // Where this worker stands: 0 in a new job; the smallest clock the servers hold for it when
  // the job was restored from checkpoints or this worker replaces one that died. The data
  // position follows from the step (the epoch's order is a function of the seed, epoch and
  // rank), so the epoch continues where the servers last heard from this worker; the steps
  // some servers already have are replayed (and counted), none skipped.
  StatusOr<JoinResult> joined = client_->Join();
  if (!joined.ok()) return joined.status().WithContext("joining the servers");
  // Row-wise, the steps are known; with tasks, total_steps_ is an estimate.
  result_.start_step =
      options_.tasks != nullptr ? joined->clock : std::min(joined->clock, total_steps_);
  result_.steps = result_.start_step;
  const int64_t replay_until = joined->furthest;
  if (joined->done_everywhere) {
    result_.already_done = true;
    return result_;
  }
  int64_t version = 0;
  RT_RETURN_IF_ERROR(client_->Pull(result_.steps, params_, &version).WithContext("initial pull"));
  if (options_.eval_model != nullptr && options_.block_gradient == nullptr && test_ != nullptr &&
      test_->rows() > 0) {
    evaluator_ = std::make_unique<BackgroundEvaluator>(options_.eval_model, test_);
  }

  const auto loop_start = std::chrono::steady_clock::now();
  if (options_.tasks != nullptr) {
    RT_RETURN_IF_ERROR(RunTasks(replay_until, &version));
  } else {
    data::Batch batch;
    for (int epoch = static_cast<int>(result_.start_step / std::max<int64_t>(steps_per_epoch, 1));
         epoch < options_.epochs; ++epoch) {
      const int64_t first = result_.steps - epoch * steps_per_epoch;
      RT_RETURN_IF_ERROR(
          batches_->StartEpoch(epoch, first).WithContext("epoch " + std::to_string(epoch + 1)));
      for (int64_t s = first; s < steps_per_epoch; ++s) {
        RT_RETURN_IF_ERROR(batches_->Next(&batch));
        RT_RETURN_IF_ERROR(Step(batch, replay_until, &version));
        ReportEvaluations(/*finish=*/false);
        Report(proto::PROGRESS, epoch + 1, /*force=*/false);
      }
      RT_RETURN_IF_ERROR(EndEpoch(epoch, batches_->skipped()));
    }
  }
  result_.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - loop_start - evaluating_)
          .count();
  ReportEvaluations(/*finish=*/true);
  RT_RETURN_IF_ERROR(
      (options_.pull_final_model ? client_->DoneWithFinalModel(params_) : client_->Done())
          .WithContext("finishing"));
  Report(proto::FINISHED, options_.epochs, /*force=*/true);
  return result_;
}

Status Trainer::Step(const data::Batch& batch, int64_t replay_until, int64_t* version) {
  // The previous push's buffer, unless libzmq still holds frames of it.
  const std::span<float> gradient = gradient_.Overwrite(params_.size());
  const int64_t clock = result_.steps;
  double loss = 0;
  if (options_.block_gradient != nullptr) {
    StatusOr<double> block_loss =
        options_.block_gradient->Compute(params_.data(), batch, clock, gradient.data());
    if (!block_loss.ok()) {
      return block_loss.status().WithContext("summing the margins of step " +
                                             std::to_string(clock));
    }
    loss = *block_loss;
  } else {
    loss = model_->LossAndGradient(params_.data(), batch.view(), gradient.data());
  }
  if (batch.rows > 0) {
    loss_sum_ += loss;
    ++loss_count_;
    if (options_.local_momentum.enabled()) {
      if (velocity_.empty()) velocity_.assign(params_.size(), 0.0f);
      options_.local_momentum.Apply(gradient, params_, velocity_);
    }
  }
  if (options_.before_push) options_.before_push(clock);
  learning_rate_ = schedule_->At(clock);
  PushRequest push{gradient_, clock, static_cast<uint32_t>(batch.rows),
                   static_cast<float>(learning_rate_)};
  if (Status s = client_->PushPull(push, clock + 1, params_, version); !s.ok()) {
    return s.WithContext("step " + std::to_string(clock));
  }
  if (options_.local_momentum.mask_sent && !velocity_.empty() &&
      client_->residual().size() == velocity_.size()) {
    optim::LocalMomentum::MaskSent(client_->residual(), velocity_);
  }
  if (clock < replay_until) result_.samples_replayed += static_cast<uint64_t>(batch.rows);
  result_.steps += 1;
  result_.samples += static_cast<uint64_t>(batch.rows);
  return Status::Ok();
}

Status Trainer::EndEpoch(int epoch, const data::SkippedRecords& skipped) {
  result_.skipped = skipped;
  Report(proto::PROGRESS, epoch + 1, /*force=*/true);
  if (options_.rank == 0) return Evaluate(epoch + 1);
  return Status::Ok();
}

Status Trainer::RunTasks(int64_t replay_until, int64_t* version) {
  proto::TaskInfo ask;
  ask.set_tasks(options_.tasks->tasks());
  ask.set_epochs(options_.epochs);
  int epoch = -1;                // the latest epoch of a task read (0-based)
  data::SkippedRecords skipped;  // in this worker's tasks of that epoch
  bool reading = false;
  data::Batch batch;
  while (true) {
    if (!reading) {
      StatusOr<proto::TaskInfo> asked = client_->NextTask(options_.queue_server, ask);
      if (!asked.ok()) return asked.status().WithContext("asking the data queue for a task");
      const proto::TaskInfo& answer = *asked;
      ask.set_finished(false);
      if (answer.answer() == proto::TASK_END) break;
      if (answer.answer() == proto::TASK_LEASE) {
        if (answer.epoch() >= options_.epochs || answer.position() >= ask.tasks()) {
          return DataLoss("the data queue handed out task " + std::to_string(answer.position()) +
                          " of epoch " + std::to_string(answer.epoch()) + ", beyond the job's " +
                          std::to_string(ask.tasks()) + " tasks and " +
                          std::to_string(options_.epochs) + " epochs");
        }
        // This worker's first task of a later epoch: its part of the last one is done. (A task
        // given back by another worker may be of an earlier epoch: the epoch stays.)
        if (answer.epoch() > epoch) {
          if (epoch >= 0) RT_RETURN_IF_ERROR(EndEpoch(epoch, skipped));
          skipped = {};
          epoch = static_cast<int>(answer.epoch());
        }
        RT_RETURN_IF_ERROR(options_.tasks->Start(answer.epoch(), answer.position()));
        ask.set_finished_epoch(answer.epoch());
        ask.set_finished_position(answer.position());
        reading = true;
      } else {
        // TASK_WAIT: the other workers hold the last tasks. In sync mode every round needs this
        // worker's push, and in ssp the others' pulls wait for its clock, so it pushes nothing
        // (0 samples) until they finish; in async it only asks again a little later.
        batch.rows = 0;
        if (options_.push_while_waiting) {
          RT_RETURN_IF_ERROR(Step(batch, replay_until, version));
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        Report(proto::PROGRESS, std::max(epoch, 0) + 1, /*force=*/false);
        continue;
      }
    }
    RT_RETURN_IF_ERROR(batches_->Next(&batch));
    if (batch.rows == 0) {  // the task is read: say so with the next request
      reading = false;
      ask.set_finished(true);
      const data::SkippedRecords task = batches_->skipped();  // this task's
      if (skipped.count == 0) skipped.first = task.first;
      skipped.count += task.count;
      continue;
    }
    RT_RETURN_IF_ERROR(Step(batch, replay_until, version));
    ReportEvaluations(/*finish=*/false);
    Report(proto::PROGRESS, epoch + 1, /*force=*/false);
  }
  if (epoch >= 0) RT_RETURN_IF_ERROR(EndEpoch(epoch, skipped));
  return Status::Ok();
}

}  // namespace ringtrain::worker
