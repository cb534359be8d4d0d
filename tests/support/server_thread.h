// ServerThread: one parameter server (ps::ParameterServer over a given ServerCore) serving on
// its own thread and ZeroMQ context, bound to a free loopback port, for tests and benchmarks
// that run a job's processes as threads of one process.
//
// The server serves until every worker has finished (Serve() returns) or it is stopped; the
// destructor stops it if it still serves and joins the thread. The core's counters at the end
// are kept (final_stats(), valid after Join()).
//
// StartSparseServer builds the ServerCore of server `index` of a layout with sparse tables
// (SparseServerSpec says the rest) and starts a ServerThread serving it.
//
// Thread-safety: construct, Join and destroy on one thread.
#ifndef RINGTRAIN_TESTS_SUPPORT_SERVER_THREAD_H_
#define RINGTRAIN_TESTS_SUPPORT_SERVER_THREAD_H_

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ringtrain/optim/optimizer.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/ps/server_core.h"

namespace ringtrain::testing {

class ServerThread {
 public:
  // Binds `core`'s server to tcp://127.0.0.1:0 and starts serving; aborts if it cannot bind.
  explicit ServerThread(std::unique_ptr<ps::ServerCore> core);
  ~ServerThread();
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  // Waits for Serve() to return (every worker done). Idempotent.
  void Join();
  // The core's counters when it stopped serving. REQUIRES: Join() returned.
  const proto::ServerStats& final_stats() const { return final_stats_; }

 private:
  // Set by the thread once bound; a member, so that it outlives the thread's set_value.
  std::promise<std::string> bound_;
  std::thread thread_;
  std::string endpoint_;
  std::atomic<ps::ParameterServer*> server_{nullptr};
  proto::ServerStats final_stats_;
};

// A server of a job with sparse tables, for the sparse tests and benchmarks.
struct SparseServerSpec {
  std::string job;
  int workers = 1;
  optim::OptimizerConfig optimizer{optim::OptimizerKind::kSgd, 0, 0};  // plain SGD
  ps::Consistency consistency = ps::Consistency::kSync;
  float init_scale = 0.0f;  // every sparse table's rows start uniform in [-scale, scale]
  uint64_t init_seed = 0;
};

// Aborts if the core cannot be made (a bad spec is the caller's bug).
std::unique_ptr<ServerThread> StartSparseServer(const SparseServerSpec& spec,
                                                std::shared_ptr<const ring::PartitionTable> table,
                                                int index, const std::vector<float>& dense);

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_SERVER_THREAD_H_
