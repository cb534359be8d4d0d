#include "ringtrain/worker/background_evaluator.h"

#include <algorithm>
#include <utility>

#include "ringtrain/common/check.h"

namespace ringtrain::worker {

BackgroundEvaluator::BackgroundEvaluator(model::Model* model, const data::Dataset* test)
    : model_(model), test_(test), thread_([this] { Loop(); }) {
  RT_CHECK(model != nullptr && test != nullptr && test->rows() > 0);
}

BackgroundEvaluator::~BackgroundEvaluator() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !busy_; });
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BackgroundEvaluator::Submit(int epoch, std::span<const float> params) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !busy_; });
    params_.assign(params.begin(), params.end());
    epoch_ = epoch;
    busy_ = true;
  }
  cv_.notify_all();
}

std::vector<EvaluationResult> BackgroundEvaluator::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(done_, {});
}

std::vector<EvaluationResult> BackgroundEvaluator::Finish() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !busy_; });
  return std::exchange(done_, {});
}

void BackgroundEvaluator::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return busy_ || stop_; });
    if (!busy_) return;  // stop_, nothing pending
    // params_ and epoch_ are not written while busy_: evaluate without the lock.
    lock.unlock();
    const model::EvalResult r =
        model_->Evaluate(params_.data(), data::View(*test_, {0, test_->rows()}));
    EvaluationResult result;
    result.epoch = epoch_;
    result.accuracy =
        static_cast<double>(r.correct) / static_cast<double>(std::max<int64_t>(r.count, 1));
    result.loss = r.loss_sum / static_cast<double>(std::max<int64_t>(r.count, 1));
    lock.lock();
    done_.push_back(result);
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace ringtrain::worker
