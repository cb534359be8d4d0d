#include "ringtrain/worker/background_evaluator.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "ringtrain/common/check.h"

namespace ringtrain::worker {

namespace {

int64_t ChunksOf(const model::Model* model, const data::Dataset* test, const model::Model* helper) {
  RT_CHECK(model != nullptr && test != nullptr && test->rows() > 0 && helper != model);
  return (test->rows() + BackgroundEvaluator::kChunkRows - 1) / BackgroundEvaluator::kChunkRows;
}

}  // namespace

BackgroundEvaluator::BackgroundEvaluator(model::Model* model, const data::Dataset* test,
                                         model::Model* helper)
    : model_(model),
      helper_(helper),
      test_(test),
      chunks_(ChunksOf(model, test, helper)),
      parts_(static_cast<size_t>(chunks_)),
      thread_([this] { Loop(); }) {}

BackgroundEvaluator::~BackgroundEvaluator() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    WaitIdle(lock);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BackgroundEvaluator::Submit(int epoch, std::span<const float> params) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    WaitIdle(lock);
    params_.assign(params.begin(), params.end());
    epoch_ = epoch;
    next_chunk_ = 0;
    chunks_done_ = 0;
    busy_ = true;
  }
  cv_.notify_all();
}

std::vector<EvaluationResult> BackgroundEvaluator::Take() {
  if (done_count_.load(std::memory_order_acquire) == 0) return {};
  std::lock_guard<std::mutex> lock(mu_);
  done_count_.store(0, std::memory_order_relaxed);
  return std::exchange(done_, {});
}

std::vector<EvaluationResult> BackgroundEvaluator::Finish() {
  std::unique_lock<std::mutex> lock(mu_);
  WaitIdle(lock);
  done_count_.store(0, std::memory_order_relaxed);
  return std::exchange(done_, {});
}

int64_t BackgroundEvaluator::chunks_helped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return chunks_helped_;
}

int64_t BackgroundEvaluator::chunks_in_background() const {
  std::lock_guard<std::mutex> lock(mu_);
  return chunks_in_background_;
}

void BackgroundEvaluator::WaitIdle(std::unique_lock<std::mutex>& lock) {
  while (busy_) {
    if (helper_ != nullptr && EvaluateNextChunk(helper_, lock)) {
      ++chunks_helped_;
      continue;
    }
    // Every chunk is taken: only the one the thread is on is left.
    cv_.wait(lock, [this] { return !busy_; });
  }
}

bool BackgroundEvaluator::EvaluateNextChunk(model::Model* model,
                                            std::unique_lock<std::mutex>& lock) {
  if (!busy_ || next_chunk_ >= chunks_) return false;
  const int64_t chunk = next_chunk_++;
  // params_ is not written while busy_, which stays set until every chunk is in.
  lock.unlock();
  const int64_t begin = chunk * kChunkRows;
  const int64_t end = std::min(begin + kChunkRows, test_->rows());
  const model::EvalResult part = model->Evaluate(params_.data(), data::View(*test_, {begin, end}));
  lock.lock();
  parts_[static_cast<size_t>(chunk)] = part;
  if (++chunks_done_ < chunks_) return true;
  model::EvalResult total;  // summed in the set's order, whoever evaluated which chunk
  for (const model::EvalResult& p : parts_) {
    total.loss_sum += p.loss_sum;
    total.correct += p.correct;
    total.count += p.count;
  }
  const double count = static_cast<double>(std::max<int64_t>(total.count, 1));
  done_.push_back({epoch_, static_cast<double>(total.correct) / count, total.loss_sum / count});
  done_count_.store(done_.size(), std::memory_order_release);
  busy_ = false;
  cv_.notify_all();
  return true;
}

void BackgroundEvaluator::Loop() {
  // The lowest priority (see the header): nice is per thread on Linux, and raising it is always
  // allowed. Should it fail, the evaluation runs at the training's priority, as it did before.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return (busy_ && next_chunk_ < chunks_) || stop_; });
    if (EvaluateNextChunk(model_, lock)) {
      ++chunks_in_background_;
      continue;
    }
    if (stop_) return;  // the destructor waited for every evaluation
  }
}

}  // namespace ringtrain::worker
