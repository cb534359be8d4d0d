#include "thread_cluster.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <zmq.hpp>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/data/shard.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/transport/event_sink.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::testing {

StatusOr<ClusterResult> RunCluster(const ClusterJob& job, const data::Dataset& train,
                                   const data::Dataset* test) {
  RT_ASSIGN_OR_RETURN(std::unique_ptr<model::Model> model0, model::MakeModel(job.model));
  RT_ASSIGN_OR_RETURN(auto table, app::MakePartitionTable(*model0, job.num_ps, job.partition_size));
  std::vector<float> initial(static_cast<size_t>(model0->num_params()));
  model0->Initialize(job.seed, initial.data());

  optim::OptimizerConfig server_optimizer = job.optimizer;
  const optim::LocalMomentum local_momentum =
      optim::SplitForMomentumCorrection(&server_optimizer, job.codec.type, job.error_feedback);
  const int64_t rows = train.rows();
  optim::ScheduleConfig schedule_config = job.schedule;
  schedule_config.total_steps =
      data::StepsPerEpoch(rows, job.num_workers, job.batch_size) * job.epochs;
  RT_ASSIGN_OR_RETURN(const optim::LearningRateSchedule schedule,
                      optim::LearningRateSchedule::Create(schedule_config));

  zmq::context_t context(2);
  std::vector<std::unique_ptr<ps::ParameterServer>> servers;
  std::vector<std::string> endpoints;
  for (int m = 0; m < job.num_ps; ++m) {
    ps::ServerCoreConfig c;
    c.job = "cluster";
    c.server_index = m;
    c.num_workers = job.num_workers;
    c.table = table;
    RT_ASSIGN_OR_RETURN(c.optimizer, optim::MakeOptimizer(server_optimizer));
    c.consistency = job.consistency;
    c.staleness = job.staleness;
    c.staleness_aware_lr = job.staleness_aware_lr;
    c.codec = job.codec.type;
    RT_ASSIGN_OR_RETURN(std::unique_ptr<ps::ServerCore> core,
                        ps::ServerCore::Make(std::move(c), initial));
    ps::ServerOptions o;
    o.bind_endpoint = "tcp://127.0.0.1:0";
    o.poll_interval = std::chrono::milliseconds(20);
    RT_ASSIGN_OR_RETURN(std::unique_ptr<ps::ParameterServer> server,
                        ps::ParameterServer::Bind(context, o, std::move(core)));
    endpoints.push_back(server->endpoint());
    servers.push_back(std::move(server));
  }
  std::vector<Status> server_status(servers.size());
  std::vector<std::thread> server_threads;
  for (size_t m = 0; m < servers.size(); ++m) {
    server_threads.emplace_back([&, m] { server_status[m] = servers[m]->Serve(); });
  }

  ClusterResult result;
  result.workers.resize(static_cast<size_t>(job.num_workers));
  result.worker_params.resize(static_cast<size_t>(job.num_workers));
  std::vector<Status> worker_status(static_cast<size_t>(job.num_workers));
  std::mutex mu;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int k = 0; k < job.num_workers; ++k) {
    workers.emplace_back([&, k] {
      const size_t i = static_cast<size_t>(k);
      worker_status[i] = [&]() -> Status {
        data::Dataset shard = data::TakeRows(train, data::RowShard(rows, job.num_workers, k));
        RT_ASSIGN_OR_RETURN(std::unique_ptr<model::Model> model, model::MakeModel(job.model));
        worker::PsClientOptions co;
        co.job = "cluster";
        co.rank = k;
        co.endpoints = endpoints;
        co.table = table;
        co.timeout = job.timeout;
        co.consistency = job.consistency;
        co.codec = job.codec;
        co.error_feedback = job.error_feedback;
        co.topk_warmup_steps = job.topk_warmup_steps;
        RT_ASSIGN_OR_RETURN(std::unique_ptr<worker::PsClient> client,
                            worker::PsClient::Connect(context, co));
        transport::NullEventSink sink;
        worker::TrainerOptions to;
        to.rank = k;
        to.num_workers = job.num_workers;
        to.epochs = job.epochs;
        to.batch_size = job.batch_size;
        to.seed = job.seed;
        to.shuffle = true;
        to.global_rows = rows;
        to.progress_interval = std::chrono::hours(1);
        to.local_momentum = local_momentum;
        if (job.before_push) {
          to.before_push = [&job, k](int64_t step) { job.before_push(k, step); };
        }
        worker::Trainer trainer(to, model.get(), client.get(), &shard, k == 0 ? test : nullptr,
                                &schedule, &sink);
        RT_ASSIGN_OR_RETURN(worker::TrainerResult r, trainer.Run());
        std::lock_guard<std::mutex> lock(mu);
        result.workers[i] = r;
        result.bytes_pushed += client->bytes_pushed();
        result.bytes_pushed_dense += client->bytes_pushed_dense();
        result.worker_params[i] = trainer.params();
        if (k == 0) {
          result.final_params = trainer.params();
          result.test_accuracy = r.test_accuracy;
        }
        return Status::Ok();
      }();
      // A failed worker never says WORKER_DONE: stop the servers so nobody waits for it.
      if (!worker_status[i].ok()) {
        for (auto& s : servers) s->stop();
      }
    });
  }
  for (auto& t : workers) t.join();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& t : server_threads) t.join();
  for (int k = 0; k < job.num_workers; ++k) {
    RT_RETURN_IF_ERROR(
        worker_status[static_cast<size_t>(k)].WithContext("worker " + std::to_string(k)));
  }
  result.servers_finished = true;
  for (size_t m = 0; m < servers.size(); ++m) {
    RT_RETURN_IF_ERROR(server_status[m].WithContext("server " + std::to_string(m)));
    result.servers.push_back(servers[m]->core().stats());
    result.servers_finished = result.servers_finished && servers[m]->core().finished();
  }
  result.server_params.resize(initial.size());
  for (const ring::Partition& p : table->partitions()) {
    const auto got = servers[static_cast<size_t>(p.server)]->core().params(p.id);
    std::copy(got.begin(), got.end(), result.server_params.begin() + p.offset);
  }
  return result;
}

}  // namespace ringtrain::testing
