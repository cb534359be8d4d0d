#include "ringtrain/worker/progress_recorder.h"

#include <algorithm>

namespace ringtrain::worker {

ProgressRecorder::ProgressRecorder(transport::EventSink* next, const std::string& job,
                                   int num_workers, int64_t global_batch_size)
    : next_(next), num_workers_(num_workers) {
  reply_.set_job(job);
  reply_.set_global_batch_size(global_batch_size);
}

void ProgressRecorder::Send(const proto::Event& event) { SendAt(event, Clock::now()); }

void ProgressRecorder::SendAt(const proto::Event& event, Clock::time_point now) {
  const bool progress = event.type() == proto::PROGRESS || event.type() == proto::EVAL ||
                        event.type() == proto::FINISHED;
  if (progress) {
    std::lock_guard<std::mutex> lock(mu_);
    const double accuracy = reply_.progress().accuracy();
    const bool had_auc = reply_.progress().has_test_auc();
    const double auc = reply_.progress().test_auc();
    *reply_.mutable_progress() = event;
    // The last evaluation's AUC stays until the next one, as the accuracy does.
    if (!event.has_test_auc() && had_auc) reply_.mutable_progress()->set_test_auc(auc);
    // Only an evaluation says what the accuracy is (-1: no test set); PROGRESS keeps the last.
    if (event.type() != proto::PROGRESS && event.accuracy() >= 0) {
      reply_.set_evaluated(true);
    } else {
      reply_.mutable_progress()->set_accuracy(reply_.evaluated() ? accuracy : 0);
    }
    if (has_sample_ && now > last_time_ && event.samples() >= last_samples_) {
      const double seconds = std::chrono::duration<double>(now - last_time_).count();
      reply_.set_samples_per_second(static_cast<double>(event.samples() - last_samples_) / seconds *
                                    num_workers_);
    }
    has_sample_ = true;
    last_samples_ = event.samples();
    last_time_ = now;
    if (event.type() == proto::FINISHED) reply_.set_finished(true);
  }
  if (next_ != nullptr) next_->Send(event);
}

proto::StatusReply ProgressRecorder::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reply_;
}

job::FinalProgress FinalProgressOf(const proto::StatusReply& reply) {
  const proto::Event& p = reply.progress();
  job::FinalProgress out;
  out.step = static_cast<int64_t>(p.step());
  out.total_steps = static_cast<int64_t>(p.total_steps());
  out.epoch = static_cast<int>(p.epoch());
  out.loss = p.loss();
  if (reply.evaluated()) out.accuracy = p.accuracy();
  if (p.has_test_auc()) out.auc = p.test_auc();
  out.samples_per_second = reply.samples_per_second();
  out.global_batch_size = reply.global_batch_size();
  out.records_skipped = static_cast<int64_t>(
      std::min<uint64_t>(p.records_skipped(), static_cast<uint64_t>(INT64_MAX)));
  return out;
}

}  // namespace ringtrain::worker
