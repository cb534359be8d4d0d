#include "ringtrain/operator/progress_poller.h"

#include <algorithm>
#include <utility>

#include "ringtrain/common/check.h"

namespace ringtrain::op {

ProgressPoller::ProgressPoller(ProgressPollerOptions options, std::function<ProgressRound()> round,
                               std::function<void(const std::string& key)> changed)
    : options_(std::move(options)), round_(std::move(round)), changed_(std::move(changed)) {
  RT_CHECK(options_.source != nullptr);
  RT_CHECK(options_.parallel >= 1);
  RT_CHECK(round_ != nullptr && changed_ != nullptr);
}

ProgressPoller::~ProgressPoller() { Stop(); }

void ProgressPoller::Start() {
  RT_CHECK(!thread_.joinable());
  thread_ = std::thread([this] { Loop(); });
}

void ProgressPoller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProgressPoller::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, options_.interval, [this] { return stop_.load(); })) return;
    }
    PollOnce();
  }
}

void ProgressPoller::PollOnce() {
  const ProgressRound round = round_();
  const std::vector<ProgressTarget>& targets = round.targets;
  for (size_t first = 0; first < targets.size() && !stop_; first += options_.parallel) {
    std::vector<std::thread> asks;
    for (size_t i = first; i < std::min(targets.size(), first + options_.parallel); ++i) {
      asks.emplace_back([this, &t = targets[i]] { Ask(t); });
    }
    for (std::thread& a : asks) a.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = round.running.count(it->first) > 0 ? std::next(it) : progress_.erase(it);
  }
  for (auto it = checkpoints_.begin(); it != checkpoints_.end();) {
    it = round.running.count(it->first) > 0 ? std::next(it) : checkpoints_.erase(it);
  }
  for (auto it = waiting_for_.begin(); it != waiting_for_.end();) {
    it = round.running.count(it->first) > 0 ? std::next(it) : waiting_for_.erase(it);
  }
}

void ProgressPoller::AskServer(const ProgressTarget& t) {
  StatusOr<ServerReport> report =
      options_.source->FetchServer(t.endpoint, t.job, options_.timeout, t.auth);
  if (!report.ok()) {
    ++errors_;
    return;
  }
  ++polls_;
  const std::optional<ServerCheckpoint>& checkpoint = report->checkpoint;
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_for_[t.key][t.server] = std::move(report->waiting_for);
    std::map<int, ServerCheckpoint>& servers = checkpoints_[t.key];
    auto it = servers.find(t.server);
    if (checkpoint.has_value()) {
      changed = it == servers.end() || it->second != *checkpoint;
      servers[t.server] = *checkpoint;
    } else {
      changed = it != servers.end();
      if (changed) servers.erase(it);
    }
  }
  if (changed) changed_(t.key);
}

void ProgressPoller::Ask(const ProgressTarget& t) {
  if (t.server >= 0) {
    AskServer(t);
    return;
  }
  StatusOr<Progress> progress = options_.source->Fetch(t.endpoint, t.job, options_.timeout, t.auth);
  if (!progress.ok()) {
    ++errors_;
    return;
  }
  ++polls_;
  progress->update_time = options_.clock();
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = progress_.find(t.key);
    changed = it == progress_.end() || !it->second.SamePoint(*progress);
    progress_[t.key] = *progress;
  }
  if (changed) changed_(t.key);
}

std::map<int, ServerCheckpoint> ProgressPoller::LatestCheckpoints(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = checkpoints_.find(key);
  if (it == checkpoints_.end()) return {};
  return it->second;
}

std::map<int, std::vector<int>> ProgressPoller::LatestWaitingFor(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = waiting_for_.find(key);
  if (it == waiting_for_.end()) return {};
  return it->second;
}

std::optional<Progress> ProgressPoller::Latest(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = progress_.find(key);
  if (it == progress_.end()) return std::nullopt;
  return it->second;
}

}  // namespace ringtrain::op
