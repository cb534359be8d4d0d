// Checkpoint benchmark (`make bench`, issue 11): what parameter-server checkpoints cost
// training. Servers and workers run as threads over loopback TCP (tests/support/thread_cluster.h:
// the real ServerCore, ParameterServer, PsClient and Trainer), sync mode, momentum SGD. A run
// "with checkpoints" gives each server the ServerCheckpointer `ringtrain ps` builds
// (app::MakeServerCheckpointer, keep 2) with a checkpoint every --period seconds (10), ticked
// between messages as `ringtrain ps` ticks it; the final checkpoint `ringtrain ps` writes after
// training is not taken (it does not block training). Checkpoints go to a fresh directory
// /tmp/ringtrain-ckpt-bench-XXXXXX, each run's deleted after it, the whole one at exit.
//
// Two models:
//   1. MLP 784-256-10 (203,530 parameters) on Fashion-MNIST, 2 servers, 4 workers, batch 32 per
//      worker (the training-modes benchmark's setup, without evaluation).
//   2. A wide MLP 784-16384-2560-10 (54,832,650 parameters), 2 servers, --wide-workers (1)
//      workers, batch 32, on the first rows of Fashion-MNIST, one step per epoch (a step costs
//      the same on any data of that shape; the point is the size of the servers' state).
// Each run lasts about --seconds (30), so that a 10 s period fits 2-3 checkpoints per server: a
// first run without checkpoints (not counted) times the steps once warm, and every run then
// trains the epochs that take that long. Then --trials (3; --big-trials, 2, for the wide model)
// runs without and with checkpoints, interleaved (none, every 10 s, none, ...) so that load
// elsewhere on the machine hits both alike. Two tables:
//   throughput      steps/s (one worker's steps; in sync all take the same) and samples/s (all
//                   workers), the median of the trials without ("none") and with checkpoints;
//                   ratio: of the medians (issue 11's goal: >= 0.95).
//   per checkpoint  over every run with checkpoints: shard checkpoints written (one server's);
//                   copy mean / max: how long a server's thread was blocked per checkpoint
//                   copying its state (ServerCheckpointer stats: total / snapshots, longest);
//                   tick max: the longest whole Tick() that took a snapshot (copy + hand-over);
//                   lost/ckpt: (median run time with - without) / job checkpoints per run, the
//                   training time lost per checkpoint with the writer's share of the cores
//                   (noise for a small model); MB/ckpt: one checkpoint of the job, the newest
//                   checkpoint's files (MANIFEST, shard.bin) summed over the servers, min-max
//                   over the runs; write s: the writer thread's time for a server's last
//                   checkpoint (serialize, crc32, write, fsync, rename), mean; delayed:
//                   checkpoints that fell due while a write was in flight.
// The full benchmark takes about 6 minutes on the 2-core machine (two calibration runs of
// 4-15 s, 6 MLP runs and 4 wide runs of about 30 s, and the wide runs' setup): 390 s measured
// while parallel builds kept the load at 7.
//   --smoke: one trial of each model on a few rows for one epoch, with a checkpoint every 4
//      steps instead of a period (a run lasts well under a second), and a 1.6M-parameter
//      784-2048-10 MLP as the wide model, so that `make test` proves the benchmark still runs
//      (its numbers mean nothing).
//
// The machine has 2 cores: the writer thread competes with training for them, which is part of
// what is measured. Absolute rates are low and noisy; compare the rows of one invocation.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ringtrain/app/checkpointing.h"
#include "ringtrain/ckpt/store.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/data/idx_reader.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/model/model.h"
#include "ringtrain/ps/checkpointer.h"
#include "thread_cluster.h"

namespace {

namespace fs = std::filesystem;
using ringtrain::Status;
using ringtrain::StatusOr;
using ringtrain::app::CheckpointOptions;
using ringtrain::app::JobPlan;
using ringtrain::job::TrainingJob;
using Clock = std::chrono::steady_clock;

constexpr char kDataDir[] = "/usr/share/datasets/fashion-mnist/";

// The checkpoint directory, removed by Fail too. Set once by main.
fs::path scratch_dir;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "checkpoint_bench: %s\n", what.c_str());
  if (!scratch_dir.empty()) {
    std::error_code ignored;
    fs::remove_all(scratch_dir, ignored);
  }
  std::exit(1);
}

// One model's setting: its job (epochs set by Calibrate) and training rows.
struct Setup {
  std::string name;  // the model
  std::string data;  // what it trains on
  TrainingJob job;
  ringtrain::data::Dataset train;
  int64_t params = 0;
};

TrainingJob Job(const std::string& name, std::vector<int> hidden, int workers,
                double learning_rate) {
  TrainingJob job;
  job.metadata.name = name;
  job.spec.parameter_servers.replicas = 2;
  job.spec.workers.replicas = workers;
  job.spec.model = {ringtrain::job::ModelType::kMlp, std::move(hidden)};
  job.spec.training.sync_mode = ringtrain::job::SyncMode::kSync;
  job.spec.training.optimizer.type = ringtrain::job::OptimizerType::kMomentum;
  job.spec.training.optimizer.learning_rate = learning_rate;
  job.spec.training.optimizer.momentum = 0.9;
  job.spec.training.batch_size = 32;
  job.spec.training.epochs = 1;
  return job;
}

JobPlan Plan(const Setup& s) {
  auto plan = ringtrain::testing::PlanFor(s.job, s.train, 10);
  if (!plan.ok()) Fail(s.name + ": " + plan.status().ToString());
  return std::move(plan).value();
}

// One run's measurements.
struct Run {
  double seconds = 0;
  int64_t steps = 0;  // worker 0's
  uint64_t samples = 0;
  // With checkpoints only, summed or maxed over the servers.
  uint64_t snapshots = 0;
  uint64_t written = 0;
  uint64_t delayed_busy = 0;
  double copy_seconds = 0;
  double longest_copy = 0;
  double longest_tick = 0;
  double write_seconds = 0;  // sum over servers of their last write's
  uint64_t bytes = 0;        // the newest checkpoint's files, summed over servers
  uint64_t min_bytes = 0;    // Summary only: the smallest `bytes` of the runs (largest: bytes)

  double steps_per_second() const { return static_cast<double>(steps) / seconds; }
  double samples_per_second() const { return static_cast<double>(samples) / seconds; }
};

// The checkpointers of one run, one per server. During the run, slot m is touched only by server
// m's thread (BetweenMessages); Collect runs after the cluster has joined its threads.
class Checkpointing {
 public:
  Checkpointing(CheckpointOptions options, const JobPlan& plan)
      : options_(std::move(options)), plan_(plan), slots_(static_cast<size_t>(plan.num_ps)) {}

  void BetweenMessages(int m, const ringtrain::ps::ServerCore& core) {
    Slot& slot = slots_[static_cast<size_t>(m)];
    if (slot.checkpointer == nullptr) {
      if (!slot.made.ok()) return;
      auto made = ringtrain::app::MakeServerCheckpointer(options_, plan_, core, {});
      slot.made = made.status();
      if (!made.ok()) return;
      slot.checkpointer = std::move(made).value();
    }
    const uint64_t before = slot.checkpointer->stats().snapshots;
    const Clock::time_point start = Clock::now();
    slot.checkpointer->Tick(core);
    if (slot.checkpointer->stats().snapshots != before) {
      const double tick = std::chrono::duration<double>(Clock::now() - start).count();
      slot.longest_tick = std::max(slot.longest_tick, tick);
    }
  }

  // Waits for the writes in flight and adds every server's statistics to `run`.
  Status Collect(Run* run) {
    for (size_t m = 0; m < slots_.size(); ++m) {
      const Slot& slot = slots_[m];
      if (!slot.made.ok()) return slot.made.WithContext("server " + std::to_string(m));
      if (slot.checkpointer == nullptr) continue;  // never ticked
      const ringtrain::ps::ServerCheckpointer& c = *slot.checkpointer;
      RT_RETURN_IF_ERROR(c.WaitIdle(std::chrono::minutes(5)));
      const ringtrain::ckpt::WriterStats w = c.writer_stats();
      if (w.failed > 0) return w.last_error.WithContext("server " + std::to_string(m));
      run->snapshots += c.stats().snapshots;
      run->delayed_busy += c.stats().delayed_busy;
      run->copy_seconds += c.stats().total_copy_seconds;
      run->longest_copy = std::max(run->longest_copy, c.stats().longest_copy_seconds);
      run->longest_tick = std::max(run->longest_tick, slot.longest_tick);
      run->written += w.written;
      run->write_seconds += w.last_write_seconds;
      RT_ASSIGN_OR_RETURN(const uint64_t bytes, NewestCheckpointBytes(static_cast<int>(m)));
      run->bytes += bytes;
    }
    return Status::Ok();
  }

 private:
  struct Slot {
    Status made;
    std::unique_ptr<ringtrain::ps::ServerCheckpointer> checkpointer;
    double longest_tick = 0;
  };

  // The size of the files of server m's newest checkpoint, as they are on disk (0 if none).
  StatusOr<uint64_t> NewestCheckpointBytes(int m) const {
    RT_ASSIGN_OR_RETURN(
        std::unique_ptr<ringtrain::ckpt::Store> store,
        ringtrain::ckpt::Store::Open(
            {ringtrain::app::ShardCheckpointDirectory(options_, plan_, m), 1000, nullptr}));
    RT_ASSIGN_OR_RETURN(const std::vector<ringtrain::ckpt::CheckpointRef> refs, store->List());
    uint64_t bytes = 0;
    if (refs.empty()) return bytes;
    for (const fs::directory_entry& e : fs::directory_iterator(refs.front().path)) {
      if (e.is_regular_file()) bytes += e.file_size();
    }
    return bytes;
  }

  const CheckpointOptions options_;
  const JobPlan& plan_;
  std::vector<Slot> slots_;
};

// Trains `s` once; with checkpoints if `checkpoints` is enabled. `before_push`, if set, is called
// by every worker before each push (ClusterOptions::before_push).
Run RunOnce(const Setup& s, const CheckpointOptions& checkpoints,
            std::function<void(int rank, int64_t step)> before_push = {}) {
  const JobPlan plan = Plan(s);
  Checkpointing checkpointing(checkpoints, plan);
  ringtrain::testing::ClusterOptions options;
  options.timeout = std::chrono::minutes(10);  // many threads share two cores
  options.before_push = std::move(before_push);
  if (checkpoints.enabled()) {
    options.between_messages = [&checkpointing](int m, const ringtrain::ps::ServerCore& core) {
      checkpointing.BetweenMessages(m, core);
    };
  }
  auto r = ringtrain::testing::RunCluster(plan, s.train, nullptr, options);
  if (!r.ok()) Fail(s.name + ": " + r.status().ToString());
  Run run;
  run.seconds = r->seconds;
  run.steps = r->workers[0].steps;
  for (const auto& w : r->workers) run.samples += w.samples;
  if (checkpoints.enabled()) {
    if (Status st = checkpointing.Collect(&run); !st.ok()) Fail(s.name + ": " + st.ToString());
  }
  return run;
}

// Sets s->job's epochs so that a run lasts about `seconds`, from a run of `probe_epochs` without
// checkpoints (not counted). The time per step is that of the probe's second half, when the
// run has warmed up (a run's first steps fault in its memory).
void Calibrate(Setup* s, int probe_epochs, double seconds) {
  s->job.spec.training.epochs = probe_epochs;
  std::vector<Clock::time_point> at;  // when worker 0 pushed each step; only its thread writes
  const Run probe = RunOnce(*s, CheckpointOptions{}, [&at](int rank, int64_t) {
    if (rank == 0) at.push_back(Clock::now());
  });
  const size_t half = at.size() / 2;
  if (at.size() < 3) Fail(s->name + ": the calibration run is too short");
  const double per_step = std::chrono::duration<double>(at.back() - at[half]).count() /
                          static_cast<double>(at.size() - 1 - half);
  const double per_epoch = per_step * static_cast<double>(probe.steps) / probe_epochs;
  s->job.spec.training.epochs =
      std::clamp(static_cast<int>(std::lround(seconds / per_epoch)), 1, 100000);
  std::printf("  calibration: %d epoch(s) in %.1f s, %.2f steps/s once warm -> %d epochs per run\n",
              probe_epochs, probe.seconds, 1 / per_step, s->job.spec.training.epochs);
  std::fflush(stdout);
}

template <typename Rate>
double Median(std::vector<Run> runs, Rate rate) {
  std::sort(runs.begin(), runs.end(),
            [&](const Run& a, const Run& b) { return rate(a) < rate(b); });
  return rate(runs[runs.size() / 2]);
}

// One model's result: the medians of its runs without and with checkpoints, and the checkpoint
// statistics over every run with them.
struct Summary {
  std::string model;
  int64_t params = 0;
  int servers = 0;
  int workers = 0;
  int trials = 0;
  double steps_none = 0, steps_ckpt = 0;      // steps/s
  double samples_none = 0, samples_ckpt = 0;  // samples/s
  double seconds_none = 0, seconds_ckpt = 0;  // run time
  Run all;                                    // checkpoint statistics, summed or maxed
};

// Runs `s` `trials` times without and with checkpoints, interleaved.
Summary Compare(const Setup& s, int trials, const CheckpointOptions& with,
                const std::string& period, const fs::path& scratch) {
  const JobPlan plan = Plan(s);
  std::printf(
      "  %lld parameters, %d PS + %d workers, batch %lld per worker, %lld rows x %d "
      "epochs = %lld steps per run\n",
      static_cast<long long>(s.params), plan.num_ps, plan.num_workers,
      static_cast<long long>(plan.batch_size), static_cast<long long>(s.train.rows()), plan.epochs,
      static_cast<long long>(plan.total_steps));
  std::fflush(stdout);
  std::vector<Run> none, ckpt;
  for (int t = 0; t < trials; ++t) {
    none.push_back(RunOnce(s, CheckpointOptions{}));
    CheckpointOptions o = with;
    o.directory = (scratch / ("run-" + std::to_string(t))).string();
    ckpt.push_back(RunOnce(s, o));
    fs::remove_all(o.directory);
    std::printf(
        "  trial %d: none %.1f s (%.2f steps/s); %s %.1f s (%.2f steps/s, %llu shard "
        "checkpoints)\n",
        t + 1, none.back().seconds, none.back().steps_per_second(), period.c_str(),
        ckpt.back().seconds, ckpt.back().steps_per_second(),
        static_cast<unsigned long long>(ckpt.back().written));
    std::fflush(stdout);
  }
  Summary sum;
  sum.model = s.name;
  sum.params = s.params;
  sum.servers = plan.num_ps;
  sum.workers = plan.num_workers;
  sum.trials = trials;
  const auto steps = [](const Run& r) { return r.steps_per_second(); };
  const auto samples = [](const Run& r) { return r.samples_per_second(); };
  const auto seconds = [](const Run& r) { return r.seconds; };
  sum.steps_none = Median(none, steps);
  sum.steps_ckpt = Median(ckpt, steps);
  sum.samples_none = Median(none, samples);
  sum.samples_ckpt = Median(ckpt, samples);
  sum.seconds_none = Median(none, seconds);
  sum.seconds_ckpt = Median(ckpt, seconds);
  for (const Run& r : ckpt) {
    sum.all.snapshots += r.snapshots;
    sum.all.written += r.written;
    sum.all.delayed_busy += r.delayed_busy;
    sum.all.copy_seconds += r.copy_seconds;
    sum.all.longest_copy = std::max(sum.all.longest_copy, r.longest_copy);
    sum.all.longest_tick = std::max(sum.all.longest_tick, r.longest_tick);
    sum.all.write_seconds += r.write_seconds;
    sum.all.bytes = std::max(sum.all.bytes, r.bytes);
    sum.all.min_bytes = sum.all.min_bytes == 0 ? r.bytes : std::min(sum.all.min_bytes, r.bytes);
  }
  return sum;
}

// "438.7", or "1.6-2.2" when runs differ (a checkpoint taken mid-round also holds the sync
// round's gradient sums, ServerCore::Snapshot).
std::string Megabytes(uint64_t low, uint64_t high) {
  char buf[48];
  if (low == high) {
    std::snprintf(buf, sizeof(buf), "%.1f", static_cast<double>(high) / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f-%.1f", static_cast<double>(low) / 1e6,
                  static_cast<double>(high) / 1e6);
  }
  return buf;
}

void PrintTables(const std::vector<Summary>& rows, const std::string& period) {
  std::printf(
      "\nthroughput: median of the trials, runs interleaved (none, %s, none, ...); with: a "
      "checkpoint %s\n",
      period.c_str(), period.c_str());
  std::printf("  %-24s %10s %10s %10s %10s %8s %10s %10s\n", "model", "params", "PS+workers",
              "steps/s", "steps/s", "ratio", "samples/s", "samples/s");
  std::printf("  %-24s %10s %10s %10s %10s %8s %10s %10s\n", "", "", "", "none", "with", "", "none",
              "with");
  for (const Summary& r : rows) {
    std::printf("  %-24s %10lld %7d+%-2d %10.2f %10.2f %7.3fx %10.0f %10.0f\n", r.model.c_str(),
                static_cast<long long>(r.params), r.servers, r.workers, r.steps_none, r.steps_ckpt,
                r.steps_ckpt / r.steps_none, r.samples_none, r.samples_ckpt);
  }
  std::printf(
      "\nper checkpoint, over every run with checkpoints (a shard checkpoint: one server's)\n");
  std::printf("  %-24s %7s %10s %10s %10s %10s %11s %8s %7s\n", "model", "shard", "copy mean",
              "copy max", "tick max", "lost/ckpt", "MB/ckpt", "write s", "delayed");
  for (const Summary& r : rows) {
    const Run& a = r.all;
    const double shards = static_cast<double>(a.snapshots);
    // Job checkpoints per run: each server takes one per period.
    const double per_run = shards / static_cast<double>(r.servers * r.trials);
    const double lost = per_run > 0 ? (r.seconds_ckpt - r.seconds_none) / per_run : 0;
    std::printf("  %-24s %7llu %8.1fms %8.1fms %8.1fms %9.2fs %11s %8.2f %7llu\n", r.model.c_str(),
                static_cast<unsigned long long>(a.written),
                shards > 0 ? a.copy_seconds / shards * 1e3 : 0.0, a.longest_copy * 1e3,
                a.longest_tick * 1e3, lost, Megabytes(a.min_bytes, a.bytes).c_str(),
                a.write_seconds / static_cast<double>(r.servers * r.trials),
                static_cast<unsigned long long>(a.delayed_busy));
  }
  std::printf(
      "  shard: shard checkpoints written; copy: a server's thread copying its state (blocked), "
      "mean and longest;\n"
      "  tick max: the longest Tick() that took a snapshot (copy + hand-over to the writer);\n"
      "  lost/ckpt: (median run time with - without) / job checkpoints per run: training time "
      "lost per\n"
      "  checkpoint, copy and the writer's share of the 2 cores together; MB/ckpt: the newest "
      "checkpoint's\n"
      "  files summed over the servers (MB = 1e6 bytes; min-max over the runs: mid-round ones also "
      "hold\n"
      "  the sync round's gradient sums); write s: the writer thread's time for "
      "a server's\n"
      "  last checkpoint, mean; delayed: checkpoints that fell due while a write was in flight\n");
}

int64_t ParamCount(const Setup& s) {
  auto model = ringtrain::model::MakeModel(Plan(s).model);
  if (!model.ok()) Fail(s.name + ": " + model.status().ToString());
  return (*model)->num_params();
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 3;
  int big_trials = 2;
  int wide_workers = 1;
  int period = 10;
  double seconds = 30;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--trials" && i + 1 < argc) {
      trials = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--big-trials" && i + 1 < argc) {
      big_trials = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--wide-workers" && i + 1 < argc) {
      wide_workers = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--period" && i + 1 < argc) {
      period = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::max(1.0, std::atof(argv[++i]));
    } else if (a == "--smoke") {
      smoke = true;
    } else {
      std::fprintf(stderr,
                   "usage: checkpoint_bench [--trials N] [--big-trials N] [--wide-workers N] "
                   "[--period SECONDS] [--seconds PER_RUN] [--smoke]\n");
      return 2;
    }
  }
  const auto start = Clock::now();
  auto data = ringtrain::data::LoadIdx(std::string(kDataDir) + "train-images-idx3-ubyte.gz",
                                       std::string(kDataDir) + "train-labels-idx1-ubyte.gz");
  if (!data.ok()) {
    Fail("cannot read Fashion-MNIST under " + std::string(kDataDir) + ": " +
         data.status().ToString());
  }
  char scratch_template[] = "/tmp/ringtrain-ckpt-bench-XXXXXX";
  if (mkdtemp(scratch_template) == nullptr) Fail("cannot create a directory under /tmp");
  const fs::path scratch = scratch_template;
  scratch_dir = scratch;

  CheckpointOptions with;
  with.keep = 2;
  std::string period_name = "every " + std::to_string(period) + " s";
  if (smoke) {
    with.every_steps = 4;
    period_name = "every 4 steps";
    trials = big_trials = 1;
  } else {
    with.every = std::chrono::seconds(period);
  }
  std::printf("checkpoint benchmark: training with a checkpoint %s against none%s\n",
              period_name.c_str(), smoke ? " (smoke: the numbers mean nothing)" : "");
  std::printf(
      "checkpoints: each server's app::MakeServerCheckpointer (keep 2), ticked between "
      "messages, into %s (deleted at exit); no final checkpoint\n",
      scratch.c_str());

  Setup mlp{"MLP 784-256-10", "Fashion-MNIST", Job("ckpt-bench-mlp", {256}, 4, 0.05), {}, 0};
  Setup wide{"MLP 784-16384-2560-10", "the first rows of Fashion-MNIST",
             Job("ckpt-bench-wide", {16384, 2560}, wide_workers, 0.01), ringtrain::data::Dataset(),
             0};
  // One step per epoch: epochs are the wide model's unit of run length.
  int64_t wide_rows = wide_workers * wide.job.spec.training.batch_size;
  if (smoke) {
    wide.name = "MLP 784-2048-10 (smoke)";
    wide.job.spec.model.hidden_layers = {2048};
    wide_rows *= 4;
  }
  wide.train = ringtrain::data::TakeRows(*data, {0, wide_rows});
  mlp.train = smoke ? ringtrain::data::TakeRows(*data, {0, 2048}) : std::move(data).value();
  mlp.params = ParamCount(mlp);
  wide.params = ParamCount(wide);

  std::vector<Summary> rows;
  for (Setup* s : {&mlp, &wide}) {
    std::printf("\n%s on %s\n", s->name.c_str(), s->data.c_str());
    std::fflush(stdout);
    if (!smoke) Calibrate(s, s == &mlp ? 1 : 8, seconds);
    rows.push_back(Compare(*s, s == &mlp ? trials : big_trials, with, period_name, scratch));
  }
  fs::remove_all(scratch);
  PrintTables(rows, period_name);
  std::printf("\ntotal %.0f s\n", std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}
