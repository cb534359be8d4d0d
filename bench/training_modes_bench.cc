// Training-modes benchmark (`make bench`): Fashion-MNIST, MLP 784-256-10, 2 parameter servers
// and 4 workers as threads over loopback TCP (tests/support/thread_cluster.h: the real
// ServerCore, ParameterServer, PsClient and Trainer), batch 32 per worker, momentum SGD.
//
//   1. Consistency with one slow worker: before each push, worker 2 sleeps as long as its step
//      took so far (from the end of its previous push to this one: pull, batch, gradient), so
//      each of its steps takes twice as long as it would. (Sleeping for the gradient's time
//      alone would not do: with six threads on two cores a step takes several times that.)
//      samples/s of sync, async and ssp(3), each the median of --trials runs, as ratios against
//      sync; plus the servers' largest clock lead and the mean staleness of the pushes.
//   2. Compressors (sync, no slow worker): gradient bytes on the wire, how many times fewer
//      than dense float32, samples/s and test accuracy against the uncompressed run.
//   Authentication (sync, no slow worker): samples/s with CURVE between every worker and
//      server (a key pair each, ZAP admitting the job's keys: what a cluster runs) against
//      plaintext, --trials alternating runs each, medians; and with fp16 gradients, which
//      halve what is encrypted one way.
//   --smoke: one trial on the first 2048 training and 512 test rows, without DDP, so that
//      `make test` proves the benchmark still runs (its numbers mean nothing).
//   3. With --ddp CMD: CMD (bench/ddp_baseline.py, PyTorch DistributedDataParallel over gloo,
//      same model, data, batch and workers) runs side by side with ringtrain's sync run, and
//      the table shows ringtrain's samples/s as a ratio against it, and what each side's math
//      ran on: Eigen's version and SIMD instruction sets for ringtrain; torch's version,
//      threads and the BLAS library actually loaded (its `ddp_runtime` line) for DDP. The
//      ratio depends on them: DDP on Debian's reference BLAS is several times slower than on
//      OpenBLAS.
//
// The machine has 2 cores, so six busy threads share them: absolute rates are low, and what
// matters is the ratio between rows run back to back on the same machine.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ringtrain/build_info.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/data/idx_reader.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/model/model.h"
#include "thread_cluster.h"

namespace {

using ringtrain::job::CompressionType;
using ringtrain::job::SyncMode;
using ringtrain::job::TrainingJob;
using ringtrain::testing::ClusterOptions;
using ringtrain::testing::ClusterResult;

constexpr char kDataDir[] = "/usr/share/datasets/fashion-mnist/";
constexpr int kWorkers = 4;
constexpr int kSlowRank = 2;
constexpr int64_t kBatch = 32;

ringtrain::model::ModelConfig Model() {
  return {ringtrain::model::ModelKind::kMlp, {256}, 784, 10};
}

TrainingJob BaseJob(int epochs, int64_t warmup_steps) {
  TrainingJob job;
  job.metadata.name = "bench";
  job.spec.parameter_servers.replicas = 2;
  job.spec.workers.replicas = kWorkers;
  job.spec.parameter_servers.partition_size = 65536;
  job.spec.model = {ringtrain::job::ModelType::kMlp, {256}};
  job.spec.training.optimizer.type = ringtrain::job::OptimizerType::kMomentum;
  job.spec.training.optimizer.momentum = 0.9;
  job.spec.training.optimizer.learning_rate = 0.05;
  job.spec.training.schedule.type = ringtrain::job::ScheduleType::kCosine;
  job.spec.training.schedule.warmup_steps = warmup_steps;
  job.spec.training.epochs = epochs;
  job.spec.training.batch_size = kBatch;
  return job;
}

// Median time of one batch's loss and gradient, alone on the machine.
std::chrono::microseconds StepComputeTime(const ringtrain::data::Dataset& train) {
  auto model = ringtrain::model::MakeModel(Model()).value();
  std::vector<float> params(static_cast<size_t>(model->num_params()));
  std::vector<float> grad(params.size());
  model->Initialize(1, params.data());
  std::vector<int64_t> rows(kBatch);
  ringtrain::data::Batch batch;
  std::vector<double> times;
  for (int rep = 0; rep < 60; ++rep) {
    for (int64_t i = 0; i < kBatch; ++i)
      rows[static_cast<size_t>(i)] = (rep * kBatch + i) % train.rows();
    ringtrain::data::GatherRows(train, rows, &batch);
    const auto t0 = std::chrono::steady_clock::now();
    model->LossAndGradient(params.data(), batch.view(), grad.data());
    times.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(times.begin(), times.begin() + 30, times.end());
  return std::chrono::microseconds(static_cast<int64_t>(times[30]));
}

struct Row {
  double samples_per_second = 0;
  double accuracy = -1;
  uint64_t max_lead = 0;
  double mean_staleness = 0;
  uint64_t bytes = 0;
  uint64_t dense_bytes = 0;
};

Row Summarize(const ClusterResult& r) {
  Row row;
  uint64_t samples = 0;
  for (const auto& w : r.workers) samples += w.samples;
  row.samples_per_second = static_cast<double>(samples) / r.seconds;
  row.accuracy = r.test_accuracy;
  uint64_t sum = 0, count = 0;
  for (const auto& s : r.servers) {
    row.max_lead = std::max<uint64_t>(row.max_lead, s.max_clock_lead());
    sum += s.staleness_sum();
    count += s.staleness_count();
  }
  row.mean_staleness = count > 0 ? static_cast<double>(sum) / static_cast<double>(count) : 0;
  row.bytes = r.bytes_pushed;
  row.dense_bytes = r.bytes_pushed_dense;
  return row;
}

Row RunOnce(const TrainingJob& job, const ClusterOptions& options,
            const ringtrain::data::Dataset& train, const ringtrain::data::Dataset& test) {
  auto plan = ringtrain::testing::PlanFor(job, train, 10);
  auto r = plan.ok() ? ringtrain::testing::RunCluster(*plan, train, &test, options)
                     : ringtrain::StatusOr<ClusterResult>(plan.status());
  if (!r.ok()) {
    std::fprintf(stderr, "training_modes_bench: %s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  return Summarize(*r);
}

// The benchmark's clients wait longer than the tests': six threads share two cores.
ClusterOptions Options() {
  ClusterOptions options;
  options.timeout = std::chrono::minutes(10);
  return options;
}

Row Median(std::vector<Row> rows) {
  std::sort(rows.begin(), rows.end(),
            [](const Row& a, const Row& b) { return a.samples_per_second < b.samples_per_second; });
  return rows[rows.size() / 2];
}

std::string Bytes(uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(b) / (1024.0 * 1024.0));
  return buf;
}

// Runs the DDP baseline command and returns its key=value result line as a map; its
// `ddp_runtime ...` line (what it ran on), if any, under the key "runtime", as printed.
std::map<std::string, std::string> RunDdp(const std::string& command) {
  std::map<std::string, std::string> out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char line[4096];
  std::string runtime;
  while (std::fgets(line, sizeof(line), p) != nullptr) {
    if (std::strncmp(line, "ddp_runtime ", 12) == 0) {
      runtime = std::string(line + 12);
      while (!runtime.empty() && runtime.back() == '\n') runtime.pop_back();
      continue;
    }
    if (std::strncmp(line, "ddp ", 4) != 0) continue;
    char* save = nullptr;
    for (char* tok = strtok_r(line, " \n", &save); tok != nullptr;
         tok = strtok_r(nullptr, " \n", &save)) {
      if (char* eq = std::strchr(tok, '=')) {
        *eq = '\0';
        out[tok] = eq + 1;
      }
    }
  }
  if (pclose(p) != 0) out.clear();
  if (!out.empty()) out["runtime"] = runtime.empty() ? "(not reported)" : runtime;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 3;
  int epochs = 1;
  bool smoke = false;
  std::string ddp;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--trials" && i + 1 < argc) {
      trials = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--epochs" && i + 1 < argc) {
      epochs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--ddp" && i + 1 < argc) {
      ddp = argv[++i];
    } else if (a == "--smoke") {
      smoke = true;
    } else {
      std::fprintf(stderr,
                   "usage: training_modes_bench [--trials N] [--epochs N] [--ddp CMD] [--smoke]\n");
      return 2;
    }
  }
  auto train = ringtrain::data::LoadIdx(std::string(kDataDir) + "train-images-idx3-ubyte.gz",
                                        std::string(kDataDir) + "train-labels-idx1-ubyte.gz");
  auto test = ringtrain::data::LoadIdx(std::string(kDataDir) + "t10k-images-idx3-ubyte.gz",
                                       std::string(kDataDir) + "t10k-labels-idx1-ubyte.gz");
  if (!train.ok() || !test.ok()) {
    std::fprintf(stderr, "training_modes_bench: cannot read Fashion-MNIST under %s: %s\n", kDataDir,
                 (!train.ok() ? train.status() : test.status()).ToString().c_str());
    return 1;
  }
  if (smoke) {
    *train = ringtrain::data::TakeRows(*train, {0, std::min<int64_t>(2048, train->rows())});
    *test = ringtrain::data::TakeRows(*test, {0, std::min<int64_t>(512, test->rows())});
    trials = 1;
    ddp.clear();
  }
  const int64_t warmup = smoke ? 0 : 200;  // the smoke run has fewer steps than that
  const auto compute = StepComputeTime(*train);
  std::printf(
      "Fashion-MNIST, MLP 784-256-10, 2 PS + %d workers (threads, loopback TCP), batch %lld, "
      "%d epoch(s)\n",
      kWorkers, static_cast<long long>(kBatch), epochs);
  std::printf("ringtrain's math: %s\n", ringtrain::MathBackend().c_str());
  std::printf("one step's gradient alone: %.2f ms\n\n",
              static_cast<double>(compute.count()) / 1000.0);

  // 1. Consistency models with one slow worker.
  struct Mode {
    const char* name;
    SyncMode mode;
    int staleness;
    bool slow;
  };
  const Mode modes[] = {{"sync", SyncMode::kSync, 0, true},
                        {"async", SyncMode::kAsync, 0, true},
                        {"ssp(s=3)", SyncMode::kSsp, 3, true},
                        {"sync, no slow worker", SyncMode::kSync, 0, false}};
  std::vector<std::vector<Row>> runs(std::size(modes));
  for (int t = 0; t < trials; ++t) {  // alternate modes so load elsewhere hits all alike
    for (size_t m = 0; m < std::size(modes); ++m) {
      TrainingJob job = BaseJob(epochs, warmup);
      job.spec.training.sync_mode = modes[m].mode;
      job.spec.training.staleness = modes[m].staleness;
      ClusterOptions options = Options();
      if (modes[m].slow) {
        // Only the slow rank's thread touches `last`.
        auto last = std::make_shared<std::chrono::steady_clock::time_point>();
        options.before_push = [last](int rank, int64_t step) {
          if (rank != kSlowRank) return;
          const auto now = std::chrono::steady_clock::now();
          if (step > 0) std::this_thread::sleep_for(now - *last);
          *last = std::chrono::steady_clock::now();
        };
      }
      runs[m].push_back(RunOnce(job, options, *train, *test));
    }
  }
  std::printf("consistency, worker %d slowed 2x (median of %d)\n", kSlowRank, trials);
  std::printf("  %-22s %12s %9s %9s %9s %10s\n", "mode", "samples/s", "vs sync", "accuracy",
              "max lead", "staleness");
  const Row sync = Median(runs[0]);
  for (size_t m = 0; m < std::size(modes); ++m) {
    const Row r = Median(runs[m]);
    std::printf("  %-22s %12.0f %8.2fx %9.4f %9llu %10.2f\n", modes[m].name, r.samples_per_second,
                r.samples_per_second / sync.samples_per_second, r.accuracy,
                static_cast<unsigned long long>(r.max_lead), r.mean_staleness);
  }

  // Authentication: CURVE against plaintext, alternating.
  {
    std::printf(
        "\nauthentication (sync, %d epoch(s), medians of %d alternating runs; the "
        "transport is loopback TCP)\n",
        epochs, trials);
    std::printf("  %-28s %12s %9s %9s\n", "", "samples/s", "vs plain", "accuracy");
    struct Auth {
      const char* name;
      bool curve;
      CompressionType codec;
    };
    const Auth auths[] = {{"plaintext", false, CompressionType::kNone},
                          {"CURVE", true, CompressionType::kNone},
                          {"plaintext, fp16 gradients", false, CompressionType::kFp16},
                          {"CURVE, fp16 gradients", true, CompressionType::kFp16}};
    std::vector<std::vector<Row>> rows(std::size(auths));
    for (int t = 0; t < trials; ++t) {
      for (size_t a = 0; a < std::size(auths); ++a) {
        TrainingJob job = BaseJob(epochs, warmup);
        job.spec.training.compression.type = auths[a].codec;
        ClusterOptions options = Options();
        options.curve = auths[a].curve;
        rows[a].push_back(RunOnce(job, options, *train, *test));
      }
    }
    const double plain = Median(rows[0]).samples_per_second;
    for (size_t a = 0; a < std::size(auths); ++a) {
      const Row r = Median(rows[a]);
      std::printf("  %-28s %12.0f %8.2fx %9.4f\n", auths[a].name, r.samples_per_second,
                  r.samples_per_second / plain, r.accuracy);
    }
  }

  // 2. Compressors.
  struct Codec {
    const char* name;
    CompressionType type;
    double ratio;
    bool feedback;
  };
  const Codec codecs[] = {{"none", CompressionType::kNone, 0.01, false},
                          {"fp16", CompressionType::kFp16, 0.01, false},
                          {"int8", CompressionType::kInt8, 0.01, false},
                          {"onebit (EF)", CompressionType::kOneBit, 0.01, true},
                          {"topk 1% (EF)", CompressionType::kTopK, 0.01, true}};
  std::printf("\ncompressors (sync, %d epoch(s), one run each; none: the median above)\n", epochs);
  std::printf("  %-14s %14s %10s %12s %9s %9s\n", "codec", "gradient bytes", "fewer", "samples/s",
              "accuracy", "vs none");
  // Uncompressed is the consistency table's "sync, no slow worker" job: not run again.
  const Row none = Median(runs[3]);
  for (const Codec& c : codecs) {
    TrainingJob job = BaseJob(epochs, warmup);
    job.spec.training.compression.type = c.type;
    job.spec.training.compression.ratio = c.ratio;  // topk only
    job.spec.training.compression.block = 256;      // int8 and onebit only: the spec's default
    job.spec.training.compression.error_feedback = c.feedback;
    const Row r = c.type == CompressionType::kNone ? none : RunOnce(job, Options(), *train, *test);
    std::printf("  %-14s %14s %9.1fx %12.0f %9.4f %+9.4f\n", c.name, Bytes(r.bytes).c_str(),
                static_cast<double>(r.dense_bytes) / static_cast<double>(r.bytes),
                r.samples_per_second, r.accuracy, r.accuracy - none.accuracy);
  }

  // 3. PyTorch DDP, side by side with a sync run.
  if (!ddp.empty()) {
    std::vector<double> ours, theirs;
    std::string accuracy = "?";
    std::string ddp_runtime;
    for (int t = 0; t < trials; ++t) {
      ours.push_back(RunOnce(BaseJob(epochs, warmup), Options(), *train, *test).samples_per_second);
      auto d = RunDdp(ddp);
      if (d.empty() || d.count("samples_per_second") == 0) {
        std::fprintf(stderr, "training_modes_bench: the DDP baseline failed: %s\n", ddp.c_str());
        return 1;
      }
      theirs.push_back(std::stod(d["samples_per_second"]));
      accuracy = d["test_accuracy"];
      ddp_runtime = d["runtime"];
    }
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    const double a = ours[ours.size() / 2];
    const double b = theirs[theirs.size() / 2];
    std::printf("\nagainst PyTorch DDP (gloo all-reduce, %d processes; median of %d)\n", kWorkers,
                trials);
    std::printf("  ringtrain sync, 2 PS   %10.0f samples/s\n", a);
    std::printf("  PyTorch DDP            %10.0f samples/s (test accuracy %s)\n", b,
                accuracy.c_str());
    std::printf("  ratio                  %10.2fx\n", a / b);
    std::printf("  ringtrain ran on       %s\n", ringtrain::MathBackend().c_str());
    std::printf("  PyTorch DDP ran on     %s\n", ddp_runtime.c_str());
  }
  return 0;
}
