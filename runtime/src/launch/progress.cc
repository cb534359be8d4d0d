#include "ringtrain/launch/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include <google/protobuf/descriptor.h>

#include "ringtrain/common/check.h"

namespace ringtrain::launch {

namespace {

double Seconds(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

constexpr double kRateWindowSeconds = 5.0;

// a + b for non-negative counts, stopping at the largest int64 instead of overflowing.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max() : a + b;
}

}  // namespace

std::string FormatDuration(double seconds) {
  // Also NaN; and at most about 31 years, so that the conversion below cannot overflow.
  if (!(seconds >= 0)) seconds = 0;
  seconds = std::min(seconds, 1e9);
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

std::string FormatCount(double n) {
  char buf[32];
  if (n >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.1fM", n / 1e6);
  } else if (n >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.1fk", n / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f", n);
  }
  return buf;
}

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

ProgressTracker::ProgressTracker(int num_workers, int num_ps, int epochs, SteadyTime start)
    : epochs_(epochs),
      start_(start),
      workers_(static_cast<size_t>(num_workers)),
      ps_stats_(static_cast<size_t>(num_ps)),
      ps_past_(static_cast<size_t>(num_ps)),
      ps_ready_(static_cast<size_t>(num_ps), false),
      ps_checkpoints_(static_cast<size_t>(num_ps)) {}

uint64_t ProgressTracker::SumOverWorkers(uint64_t WorkerState::*counter) const {
  uint64_t n = 0;
  for (const WorkerState& w : workers_) n += w.*counter;
  return n;
}

uint64_t ProgressTracker::total_samples() const {
  return SumOverWorkers(&WorkerState::samples) / static_cast<uint64_t>(workers_per_example_);
}

uint64_t ProgressTracker::bytes_pushed() const {
  return SumOverWorkers(&WorkerState::bytes_pushed);
}

uint64_t ProgressTracker::bytes_pushed_dense() const {
  return SumOverWorkers(&WorkerState::bytes_pushed_dense);
}

uint64_t ProgressTracker::bytes_pulled() const {
  return SumOverWorkers(&WorkerState::bytes_pulled);
}

uint64_t ProgressTracker::bytes_pulled_shared() const {
  return SumOverWorkers(&WorkerState::bytes_pulled_shared);
}

uint64_t ProgressTracker::bytes_pushed_shared() const {
  return SumOverWorkers(&WorkerState::bytes_pushed_shared);
}

uint64_t ProgressTracker::bytes_pushed_chunked() const {
  return SumOverWorkers(&WorkerState::bytes_pushed_chunked);
}

uint64_t ProgressTracker::messages_dropped() const { return server_totals().messages_dropped(); }

void AddServerStats(const proto::ServerStats& from, proto::ServerStats* into) {
  const google::protobuf::Descriptor* d = proto::ServerStats::descriptor();
  const google::protobuf::Reflection* r = proto::ServerStats::GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    const bool maximum = f->name() == "staleness_max" || f->name() == "max_clock_lead";
    // What the server holds now, not what it did: the newest process's, never a sum over
    // its replacements (a killed server's rows are its replacement's, restored).
    const bool state = f->name() == "partitions_owned" || f->name() == "workers_done" ||
                       f->name() == "sparse_rows" || f->name() == "sparse_table_bytes" ||
                       f->name() == "sparse_raw_bytes";
    switch (f->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64: {
        const uint64_t a = r->GetUInt64(*into, f);
        const uint64_t b = r->GetUInt64(from, f);
        r->SetUInt64(into, f, state ? b : maximum ? std::max(a, b) : a + b);
        break;
      }
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT32: {
        const uint32_t a = r->GetUInt32(*into, f);
        const uint32_t b = r->GetUInt32(from, f);
        r->SetUInt32(into, f, state ? b : maximum ? std::max(a, b) : a + b);
        break;
      }
      default:
        RT_CHECK(false && "ServerStats holds unsigned counters only");
    }
  }
}

std::vector<proto::ServerStats> ProgressTracker::server_stats() const {
  std::vector<proto::ServerStats> all = ps_past_;
  for (size_t i = 0; i < all.size(); ++i) AddServerStats(ps_stats_[i], &all[i]);
  return all;
}

proto::ServerStats ProgressTracker::server_totals() const {
  proto::ServerStats t;
  for (const proto::ServerStats& s : server_stats()) AddServerStats(s, &t);
  return t;
}

std::optional<std::string> ProgressTracker::OnEvent(const proto::Event& e, SteadyTime now) {
  if (e.role() == "ps") {
    if (e.index() < ps_stats_.size() && e.type() == proto::READY) {
      if (ps_ready_[e.index()]) {  // a replacement: the previous process's account is closed
        AddServerStats(ps_stats_[e.index()], &ps_past_[e.index()]);
        ps_stats_[e.index()].Clear();
      }
      ps_ready_[e.index()] = true;
    }
    if (e.index() < ps_stats_.size() && e.has_server_stats()) {
      ps_stats_[e.index()] = e.server_stats();
    }
    if (e.index() < ps_checkpoints_.size() && e.type() == proto::CHECKPOINT) {
      ps_checkpoints_[e.index()] = e.checkpoint();
    }
    if (e.index() < ps_checkpoints_.size() && e.type() == proto::READY &&
        !e.restored_from().empty() && !e.restored_from_copy()) {
      // A server (or its replacement) restored its shard: that is its newest checkpoint now.
      proto::CheckpointInfo restored;
      restored.set_step(e.restored_step());
      restored.set_location(e.restored_from());
      ps_checkpoints_[e.index()] = restored;
    }
    return std::nullopt;
  }
  if (e.role() != "worker" || e.index() >= workers_.size()) return std::nullopt;
  WorkerState& w = workers_[e.index()];
  if (e.type() == proto::PROGRESS || e.type() == proto::FINISHED || e.type() == proto::EVAL) {
    w.step = std::max(w.step, e.step());
    if (e.total_steps() > 0) w.total_steps = e.total_steps();
    w.epoch = std::max(w.epoch, e.epoch());
    w.samples = std::max(w.samples, e.samples());
    w.bytes_pushed = std::max(w.bytes_pushed, e.bytes_pushed());
    w.bytes_pushed_dense = std::max(w.bytes_pushed_dense, e.bytes_pushed_dense());
    w.bytes_pulled = std::max(w.bytes_pulled, e.bytes_pulled());
    w.bytes_pulled_shared = std::max(w.bytes_pulled_shared, e.bytes_pulled_shared());
    w.bytes_pushed_shared = std::max(w.bytes_pushed_shared, e.bytes_pushed_shared());
    w.bytes_pushed_chunked = std::max(w.bytes_pushed_chunked, e.bytes_pushed_chunked());
  }
  if (e.type() == proto::FINISHED) w.train_seconds = e.train_seconds();
  if (e.type() == proto::PROGRESS) {
    w.loss = e.loss();
    w.learning_rate = e.learning_rate();
    rate_window_.emplace_back(now, total_samples());
    while (rate_window_.size() > 2 &&
           Seconds(rate_window_.front().first, now) > kRateWindowSeconds) {
      rate_window_.pop_front();
    }
  }
  if (e.type() == proto::EVAL) {
    EvalRecord r{e.epoch(), e.accuracy(), e.test_loss(), e.has_test_auc() ? e.test_auc() : -1.0};
    r.seconds = Seconds(start_, now);
    evals_.push_back(r);
    char buf[160];
    if (r.auc >= 0) {
      std::snprintf(buf, sizeof(buf), "epoch %d/%d  test AUC %.4f  test log-loss %.4f  [%s]",
                    r.epoch, epochs_, r.auc, r.loss, FormatDuration(r.seconds).c_str());
    } else {
      std::snprintf(buf, sizeof(buf), "epoch %d/%d  test accuracy %.4f  test loss %.4f  [%s]",
                    r.epoch, epochs_, r.accuracy, r.loss, FormatDuration(r.seconds).c_str());
    }
    return std::string(buf);
  }
  return std::nullopt;
}

double ProgressTracker::train_seconds() const {
  double slowest = 0;
  for (const WorkerState& w : workers_) slowest = std::max(slowest, w.train_seconds);
  return slowest;
}

std::optional<JobCheckpoint> ProgressTracker::last_checkpoint() const {
  if (ps_checkpoints_.empty()) return std::nullopt;
  JobCheckpoint job;
  job.step = std::numeric_limits<int64_t>::max();
  job.final = true;
  for (const std::optional<proto::CheckpointInfo>& c : ps_checkpoints_) {
    if (!c.has_value()) return std::nullopt;
    job.step = std::min(job.step, c->step());
    job.final = job.final && c->final();
  }
  return job;
}

double ProgressTracker::SamplesPerSecond(SteadyTime now) const {
  if (rate_window_.size() < 2) return MeanSamplesPerSecond(now);
  const double dt = Seconds(rate_window_.front().first, rate_window_.back().first);
  if (dt <= 0) return MeanSamplesPerSecond(now);
  return static_cast<double>(rate_window_.back().second - rate_window_.front().second) / dt;
}

double ProgressTracker::MeanSamplesPerSecond(SteadyTime now) const {
  const double dt = Seconds(start_, now);
  return dt > 0 ? static_cast<double>(total_samples()) / dt : 0.0;
}

std::string ProgressTracker::StatusLine(SteadyTime now) const {
  int64_t steps = 0;
  int64_t total = 0;
  int epoch = 0;
  double loss = 0;
  double lr = 0;
  int reporting = 0;
  // Events are input (see event_check.h): whatever they said, a worker counts at most its
  // total, the bar at most full, the epoch at most the job's.
  for (const auto& w : workers_) {
    const int64_t worker_total = std::max<int64_t>(w.total_steps, 0);
    const int64_t worker_step = std::clamp<int64_t>(w.step, 0, worker_total);
    steps = SaturatingAdd(steps, worker_step);
    total = SaturatingAdd(total, worker_total);
    epoch = std::max(epoch, w.epoch);
    if (w.step > 0) {
      loss += w.loss;
      lr = w.learning_rate;
      ++reporting;
    }
  }
  if (reporting > 0) loss /= reporting;
  epoch = std::clamp(epoch, 1, std::max(epochs_, 1));
  const double frac =
      total > 0 ? std::clamp(static_cast<double>(steps) / static_cast<double>(total), 0.0, 1.0)
                : 0.0;
  constexpr int kBar = 24;
  const int filled = std::clamp(static_cast<int>(frac * kBar), 0, kBar);
  std::string bar(static_cast<size_t>(kBar), ' ');
  for (int i = 0; i < filled; ++i) bar[static_cast<size_t>(i)] = '=';
  if (filled < kBar && frac > 0) bar[static_cast<size_t>(filled)] = '>';
  const double elapsed = Seconds(start_, now);
  const std::string eta = frac > 0.001 ? FormatDuration(elapsed * (1 - frac) / frac) : "?";
  const int64_t per_worker_total =
      workers_.empty() ? 0 : total / static_cast<int64_t>(workers_.size());
  const int64_t per_worker_step =
      workers_.empty() ? 0 : steps / static_cast<int64_t>(workers_.size());
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "epoch %d/%d [%s] %3.0f%% step %lld/%lld loss %.4f lr %.4g batch %lld %s samples/s "
                "ETA %s",
                epoch, epochs_, bar.c_str(), frac * 100, static_cast<long long>(per_worker_step),
                static_cast<long long>(per_worker_total), loss, lr,
                static_cast<long long>(global_batch_), FormatCount(SamplesPerSecond(now)).c_str(),
                eta.c_str());
  return buf;
}

}  // namespace ringtrain::launch
