// Test and benchmark support: a whole job in one process. Parameter servers and workers run as
// threads and talk over real ZeroMQ TCP sockets on loopback, exactly as separate processes
// would (same ServerCore, ParameterServer, PsClient and Trainer), so distributed logic can be
// tested and measured without a launcher. The job is an app::JobPlan, built from a TrainingJob
// as `ringtrain ps` and `ringtrain worker` build theirs.
//
// Thread-safety: RunCluster() is called from one thread; it starts and joins every thread it uses.
#ifndef RINGTRAIN_TESTS_SUPPORT_THREAD_CLUSTER_H_
#define RINGTRAIN_TESTS_SUPPORT_THREAD_CLUSTER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/common/status.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/worker/trainer.h"

namespace ringtrain::testing {

// What a test adds to a job's plan: knobs a real job does not have.
struct ClusterOptions {
  // How long a worker's client waits for every server's reply (PsClientOptions::timeout).
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  // Per worker rank: a hook called before each push (TrainerOptions::before_push), e.g. to
  // slow a worker down or watch its clock. May be empty.
  std::function<void(int rank, int64_t step)> before_push;
  // Per server index: called on that server's thread between messages
  // (ServerOptions::between_messages), e.g. to take checkpoints. May be empty.
  std::function<void(int server, const ps::ServerCore& core)> between_messages;
  // CURVE between every worker and server, with a key pair each (as pods in a cluster), the
  // servers admitting only the job's keys; false: plaintext.
  bool curve = false;
  // Worker 0 evaluates on a thread of its own (TrainerOptions::eval_model), as `ringtrain
  // worker` does; false: evaluations stop its loop.
  bool background_evaluation = true;
  // Servers answer pulls from shared memory (ServerOptions::shared_memory,
  // PsClientOptions::shared_memory), as over ipc:// on one host; false: frames only.
  bool shared_memory = false;
  // PsClientOptions::push_chunk_bytes (streamed rounds); the client's default unless set.
  std::optional<uint64_t> push_chunk_bytes;
  // Workers also reach the servers over direct links (ServerOptions::direct_path,
  // PsClientOptions::direct_paths, in a directory of the run's own), as over ipc:// on one host.
  // Only pushes through shared memory take them: with shared_memory.
  bool direct_links = false;
  // Per server index, on its thread between messages: true closes that server's direct links
  // there (ParameterServer::CloseDirectLinks), a fault. May be empty.
  std::function<bool(int server, const ps::ServerCore& core)> close_direct_links;
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
  uint64_t bytes_pulled = 0;                      // payload bytes pulled, all workers
  uint64_t bytes_pulled_shared = 0;               // the part read from shared memory
  uint64_t bytes_pushed_shared = 0;               // the part of bytes_pushed servers read there
  uint64_t shared_retries = 0;                    // pulls asked again after a torn copy
  uint64_t direct_sent = 0;                       // requests sent over direct links
  uint64_t direct_breaks = 0;                     // direct links that closed under a worker
  uint64_t direct_resent = 0;                     // requests in flight on them, sent again
  double seconds = 0;                             // wall time from the first step to the last
  double test_accuracy = -1;                      // worker 0's last evaluation
};

// The plan of `job` for training on `train` with `num_classes` classes: app::MakeJobPlan over
// the data's shape, as the pods derive it from the files' headers. (The spec's dataset files
// are not read; the partition size is not range-checked, so tests may use small ones.)
StatusOr<app::JobPlan> PlanFor(const job::TrainingJob& job, const data::Dataset& train,
                               int num_classes);

// Runs `plan` on `train` (sharded row-wise over the workers; worker 0 evaluates on `test`,
// which may be null) with servers and workers built by app/wiring.h, as the pods build them.
// InvalidArgument when `train` does not have the plan's rows and input size; otherwise the first
// error of any server or worker.
StatusOr<ClusterResult> RunCluster(const app::JobPlan& plan, const data::Dataset& train,
                                   const data::Dataset* test, const ClusterOptions& options);

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_THREAD_CLUSTER_H_
