// The compute floor of an MLP job (issue 15): how long an epoch would take if the machine did
// nothing but the model's arithmetic, measured on this machine in the same run as the
// comparisons that use it (bench/example_bench.py).
//
//   peak:   Eigen's best single-core throughput on one large product (1024 x 1024 x 1024,
//           float32), the build's SIMD level; GFLOP/s.
//   shapes: ringtrain's own MLP (model::MakeModel) computing a step's loss and gradient at the
//           job's batch, single-threaded, on fixed data: what one step of the job's arithmetic
//           takes at the job's own shapes (GEMMs, softmax, ReLU, bias sums, the zeroing).
// The arithmetic of a step: forward 2·B·Σ(in·out) FLOPs, the weight gradients as much again, and
// the input gradient of every layer but the first (2·B·in·out each). An evaluation of T test
// rows: forward only. The floor of an epoch of W workers × S steps plus one evaluation, on C
// cores: (W·S·step + eval) FLOPs / (C · peak). The floor at the job's shapes: W·S·(step time) +
// evaluation at the same rate, over C cores.
//
// Usage: compute_floor --input 784 --hidden 256 [--hidden ...] --classes 10 --batch 64
//        --steps-per-epoch 469 --workers 2 --test-rows 10000 --cores 2 [--seconds 1] [--json]
// Prints one line per figure; --json prints one JSON object instead.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "ringtrain/build_info.h"
#include "ringtrain/data/matrix.h"
#include "ringtrain/model/model.h"

namespace {

using Clock = std::chrono::steady_clock;
using ringtrain::RowMatrixXf;

struct Args {
  int input = 784;
  std::vector<int> hidden;
  int classes = 10;
  int batch = 64;
  long steps_per_epoch = 469;
  int workers = 2;
  long test_rows = 10000;
  int cores = 2;
  double seconds = 1.0;
  bool json = false;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "compute_floor: %s\nusage: compute_floor --input N --hidden N [--hidden N ...] "
               "--classes N --batch N --steps-per-epoch N --workers N --test-rows N --cores N "
               "[--seconds S] [--json]\n",
               why);
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--json") {
      a.json = true;
      continue;
    }
    if (i + 1 >= argc) Usage(("missing the value of " + flag).c_str());
    const char* v = argv[++i];
    if (flag == "--input") {
      a.input = std::atoi(v);
    } else if (flag == "--hidden") {
      a.hidden.push_back(std::atoi(v));
    } else if (flag == "--classes") {
      a.classes = std::atoi(v);
    } else if (flag == "--batch") {
      a.batch = std::atoi(v);
    } else if (flag == "--steps-per-epoch") {
      a.steps_per_epoch = std::atol(v);
    } else if (flag == "--workers") {
      a.workers = std::atoi(v);
    } else if (flag == "--test-rows") {
      a.test_rows = std::atol(v);
    } else if (flag == "--cores") {
      a.cores = std::atoi(v);
    } else if (flag == "--seconds") {
      a.seconds = std::atof(v);
    } else {
      Usage(("unknown flag " + flag).c_str());
    }
  }
  if (a.hidden.empty()) a.hidden.push_back(256);
  if (a.input < 1 || a.classes < 2 || a.batch < 1 || a.steps_per_epoch < 1 || a.workers < 1 ||
      a.test_rows < 0 || a.cores < 1 || a.seconds <= 0)
    Usage("every size must be positive");
  return a;
}

// Runs `f` repeatedly for about `seconds` after a warm-up; returns the best of five rounds'
// mean seconds per call (the least disturbed by the rest of the machine).
template <typename F>
double SecondsPerCall(double seconds, F f) {
  for (int i = 0; i < 3; ++i) f();
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    long calls = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
      f();
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds / 5);
    best = std::min(best, elapsed / static_cast<double>(calls));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = Parse(argc, argv);
  Eigen::setNbThreads(1);

  // Peak: one large product.
  const int n = 1024;
  const RowMatrixXf x = RowMatrixXf::Random(n, n);
  const RowMatrixXf y = RowMatrixXf::Random(n, n);
  RowMatrixXf z(n, n);
  const double big = SecondsPerCall(a.seconds, [&] { z.noalias() = x * y; });
  const double peak_gflops = 2.0 * n * n * n / big / 1e9;

  // The job's arithmetic, counted.
  std::vector<int> widths = {a.input};
  widths.insert(widths.end(), a.hidden.begin(), a.hidden.end());
  widths.push_back(a.classes);
  double forward_per_row = 0, input_grads_per_row = 0;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    const double mults = static_cast<double>(widths[l]) * widths[l + 1];
    forward_per_row += 2 * mults;
    if (l > 0) input_grads_per_row += 2 * mults;
  }
  const double step_flops = a.batch * (2 * forward_per_row + input_grads_per_row);
  const double eval_flops = static_cast<double>(a.test_rows) * forward_per_row;
  const double steps = static_cast<double>(a.steps_per_epoch) * a.workers;
  const double epoch_flops = steps * step_flops + eval_flops;
  const double floor_peak = epoch_flops / (a.cores * peak_gflops * 1e9);

  // The job's shapes: ringtrain's model on a fixed batch.
  ringtrain::model::ModelConfig config;
  config.kind = ringtrain::model::ModelKind::kMlp;
  config.hidden_layers = a.hidden;
  config.input_dim = a.input;
  config.num_classes = a.classes;
  auto made = ringtrain::model::MakeModel(config);
  if (!made.ok()) {
    std::fprintf(stderr, "compute_floor: %s\n", made.status().ToString().c_str());
    return 2;
  }
  ringtrain::model::Model& model = **made;
  std::vector<float> params(static_cast<size_t>(model.num_params()));
  std::vector<float> grad(params.size());
  model.Initialize(1, params.data());
  RowMatrixXf batch_x = (RowMatrixXf::Random(a.batch, a.input).array() + 1.0f) * 0.5f;
  std::vector<int32_t> labels(static_cast<size_t>(a.batch));
  std::mt19937 rng(7);
  for (int32_t& label : labels) label = static_cast<int32_t>(rng() % a.classes);
  const ringtrain::BatchView view{Eigen::Map<const RowMatrixXf>(batch_x.data(), a.batch, a.input),
                                  labels.data()};
  const double step =
      SecondsPerCall(a.seconds, [&] { model.LossAndGradient(params.data(), view, grad.data()); });
  const double shapes_gflops = step_flops / step / 1e9;
  const double floor_shapes =
      (steps * step + (eval_flops > 0 ? eval_flops / (shapes_gflops * 1e9) : 0)) / a.cores;

  if (a.json) {
    std::printf(
        "{\"math\": \"%s\", \"peak_gflops\": %.2f, \"step_gflops\": %.2f, \"step_seconds\": "
        "%.3e, \"step_flops\": %.0f, \"epoch_flops\": %.0f, \"cores\": %d, "
        "\"floor_epoch_seconds\": %.4f, \"floor_epoch_seconds_at_job_shapes\": %.4f}\n",
        ringtrain::MathBackend().c_str(), peak_gflops, shapes_gflops, step, step_flops, epoch_flops,
        a.cores, floor_peak, floor_shapes);
  } else {
    std::printf("math                 %s\n", ringtrain::MathBackend().c_str());
    std::printf("peak (1024^3)        %.1f GFLOP/s on one core\n", peak_gflops);
    std::printf("a step (batch %d)    %.1f us, %.1f GFLOP/s (%.1f MFLOP)\n", a.batch, step * 1e6,
                shapes_gflops, step_flops / 1e6);
    std::printf("epoch arithmetic     %.2f GFLOP (%ld steps x %d workers + %ld test rows)\n",
                epoch_flops / 1e9, a.steps_per_epoch, a.workers, a.test_rows);
    std::printf("floor of an epoch    %.3f s at peak, %.3f s at the job's shapes, on %d cores\n",
                floor_peak, floor_shapes, a.cores);
  }
  return 0;
}
