#include "ringtrain/ps/margin_rounds.h"

#include <cmath>
#include <string>
#include <utility>

#include "ringtrain/common/check.h"

namespace ringtrain::ps {

namespace {
constexpr uint64_t kMaxFloats = uint64_t{1} << 24;
}  // namespace

MarginRounds::MarginRounds(int num_workers, int cols)
    : num_workers_(num_workers), cols_(cols), in_(static_cast<size_t>(num_workers), false) {
  RT_CHECK(num_workers >= 1 && cols >= 1);
}

const MarginRounds::Done* MarginRounds::Find(int64_t step) const {
  for (const Done& d : kept_) {
    if (d.step == step) return &d;
  }
  return nullptr;
}

std::span<const float> MarginRounds::Kept(int64_t step) const {
  const Done* d = Find(step);
  return d == nullptr ? std::span<const float>() : std::span<const float>(d->sum);
}

std::span<const float> MarginRounds::sum() const {
  return kept_.empty() ? std::span<const float>() : std::span<const float>(kept_.back().sum);
}

std::vector<int> MarginRounds::Missing(const std::vector<bool>& done) const {
  std::vector<int> missing;
  if (!open_) return missing;
  for (int w = 0; w < num_workers_; ++w) {
    if (!done[static_cast<size_t>(w)] && !in_[static_cast<size_t>(w)]) missing.push_back(w);
  }
  return missing;
}

StatusOr<MarginRounds::Answer> MarginRounds::Add(int worker, int64_t step, uint32_t rows,
                                                 std::span<const float> margins,
                                                 const std::vector<bool>& done) {
  const auto from = [&] {
    return "MARGINS of step " + std::to_string(step) + " from worker " + std::to_string(worker);
  };
  if (worker < 0 || worker >= num_workers_) {
    return InvalidArgument("MARGINS from worker " + std::to_string(worker) + " of " +
                           std::to_string(num_workers_));
  }
  if (done[static_cast<size_t>(worker)]) return InvalidArgument(from() + " after it finished");
  if (step < 0) return InvalidArgument(from() + ": negative step");
  if (rows == 0 || uint64_t{rows} * static_cast<uint64_t>(cols_) > kMaxFloats) {
    return InvalidArgument(from() + ": " + std::to_string(rows) + " rows of " +
                           std::to_string(cols_) + " margins");
  }
  if (margins.size() != static_cast<size_t>(rows) * static_cast<size_t>(cols_)) {
    return InvalidArgument(from() + ": " + std::to_string(margins.size()) + " values for " +
                           std::to_string(rows) + " rows of " + std::to_string(cols_));
  }
  if (const Done* d = Find(step); d != nullptr) {
    if (d->rows != rows) {
      return InvalidArgument(from() + ": " + std::to_string(rows) + " rows, the step had " +
                             std::to_string(d->rows));
    }
    return Answer::kRepeat;
  }
  if (open_ && step != step_) {
    return InvalidArgument(from() + " while step " + std::to_string(step_) + " is being summed");
  }
  if (!open_ && !kept_.empty() && step < kept_.back().step) {
    return InvalidArgument(from() + ": the sums of steps before " +
                           std::to_string(kept_.front().step) + " are no longer kept");
  }
  for (float v : margins) {
    if (!std::isfinite(v)) return InvalidArgument(from() + ": a value is not finite");
  }
  if (open_ && rows != rows_) {
    return InvalidArgument(from() + ": " + std::to_string(rows) + " rows, the others sent " +
                           std::to_string(rows_));
  }
  if (!open_) {
    open_ = true;
    step_ = step;
    rows_ = rows;
    sum_.assign(margins.size(), 0.0f);
    in_.assign(in_.size(), false);
  }
  if (!in_[static_cast<size_t>(worker)]) {
    in_[static_cast<size_t>(worker)] = true;
    for (size_t i = 0; i < margins.size(); ++i) sum_[i] += margins[i];
  }
  return Complete(done) ? Answer::kComplete : Answer::kWait;
}

bool MarginRounds::Complete(const std::vector<bool>& done) {
  if (!open_ || !Missing(done).empty()) return false;
  // Of the workers that added to it, at least one is unfinished (Add refuses finished ones):
  // a round that only finished workers fed is kept all the same.
  open_ = false;
  if (kept_.size() == kKeptRounds) {
    Done oldest = std::move(kept_.front());
    kept_.pop_front();
    oldest.step = step_;
    oldest.rows = rows_;
    oldest.sum.swap(sum_);  // reuses the oldest buffer for the next round
    kept_.push_back(std::move(oldest));
  } else {
    kept_.push_back(Done{step_, rows_, std::move(sum_)});
    sum_.clear();
  }
  return true;
}

}  // namespace ringtrain::ps
