#include "server_thread.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include <zmq.hpp>

#include "ringtrain/common/check.h"

namespace ringtrain::testing {

ServerThread::ServerThread(std::unique_ptr<ps::ServerCore> core) {
  thread_ = std::thread([this, core = std::move(core)]() mutable {
    zmq::context_t context(1);
    ps::ServerOptions options;
    options.bind_endpoint = "tcp://127.0.0.1:0";
    options.poll_interval = std::chrono::milliseconds(10);
    StatusOr<std::unique_ptr<ps::ParameterServer>> server =
        ps::ParameterServer::Bind(context, options, std::move(core));
    if (!server.ok()) {
      bound_.set_value("");
      return;
    }
    server_ = server->get();
    bound_.set_value((*server)->endpoint());
    if (Status s = (*server)->Serve(); !s.ok()) {
      std::fprintf(stderr, "server thread: %s\n", s.ToString().c_str());
    }
    final_stats_ = (*server)->core().stats();
    server_ = nullptr;
  });
  endpoint_ = bound_.get_future().get();
  RT_CHECK(!endpoint_.empty());
}

ServerThread::~ServerThread() {
  if (ps::ParameterServer* s = server_.load()) s->stop();
  Join();
}

void ServerThread::Join() {
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<ServerThread> StartSparseServer(const SparseServerSpec& spec,
                                                std::shared_ptr<const ring::PartitionTable> table,
                                                int index, const std::vector<float>& dense) {
  ps::ServerCoreConfig c;
  c.job = spec.job;
  c.server_index = index;
  c.num_workers = spec.workers;
  c.table = std::move(table);
  c.optimizer = optim::MakeOptimizer(spec.optimizer).value();
  c.consistency = spec.consistency;
  c.sparse_init = {ps::SparseInit{spec.init_scale}};
  c.sparse_seed = spec.init_seed;
  return std::make_unique<ServerThread>(ps::ServerCore::Make(std::move(c), dense).value());
}

}  // namespace ringtrain::testing
