// Test and benchmark support: a whole job in one process. Parameter servers and workers run as
// threads and talk over real ZeroMQ TCP sockets on loopback, exactly as separate processes
// would (same ServerCore, ParameterServer, PsClient and Trainer), so distributed logic can be
// tested and measured without a launcher.
//
// Thread-safety: Run() is called from one thread; it starts and joins every thread it uses.
#ifndef RINGTRAIN_TESTS_SUPPORT_THREAD_CLUSTER_H_
#define RINGTRAIN_TESTS_SUPPORT_THREAD_CLUSTER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/compress/codec.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/model/model.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/optim/schedule.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/consistency.h"
#include "ringtrain/worker/trainer.h"

namespace ringtrain::testing {

struct ClusterJob {
  int num_ps = 1;
  int num_workers = 1;
  int64_t partition_size = 65536;
  model::ModelConfig model;
  uint64_t seed = 42;
  optim::OptimizerConfig optimizer;
  optim::ScheduleConfig schedule;  // total_steps is filled in from the data
  int epochs = 1;
  int64_t batch_size = 32;
  ps::Consistency consistency = ps::Consistency::kSync;
  int64_t staleness = 0;
  bool staleness_aware_lr = false;
  compress::CodecOptions codec;
  bool error_feedback = false;
  int64_t topk_warmup_steps = 0;
  // With a codec, momentum runs on the workers as in a real job (app::MakeJobPlan).
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  // Per worker rank: a hook called before each push (TrainerOptions::before_push). May be empty.
  std::function<void(int rank, int64_t step)> before_push;
};

struct ClusterResult {
  std::vector<worker::TrainerResult> workers;     // per rank
  std::vector<proto::ServerStats> servers;        // per server index, after the run
  std::vector<float> final_params;                // worker 0's last pull
  std::vector<std::vector<float>> worker_params;  // per rank: its last pull
  std::vector<float> server_params;               // every partition as its server holds it, flat
  bool servers_finished = false;                  // every server saw every worker finish
  uint64_t bytes_pushed = 0;                      // payload bytes, all workers
  uint64_t bytes_pushed_dense = 0;                // what they take as float32
  double seconds = 0;                             // wall time from the first step to the last
  double test_accuracy = -1;                      // worker 0's last evaluation
};

// Trains `job` on `train` (sharded row-wise over the workers; worker 0 evaluates on `test`,
// which may be null). Returns the first error of any server or worker.
StatusOr<ClusterResult> RunCluster(const ClusterJob& job, const data::Dataset& train,
                                   const data::Dataset* test);

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_THREAD_CLUSTER_H_
