#include "thread_cluster.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <zmq.hpp>

#include "ringtrain/app/wiring.h"
#include "ringtrain/auth/key_set.h"
#include "ringtrain/auth/zap_handler.h"
#include "ringtrain/data/batch_source.h"
#include "ringtrain/data/shard.h"
#include "ringtrain/model/model.h"
#include "ringtrain/optim/schedule.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/transport/event_sink.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::testing {

StatusOr<app::JobPlan> PlanFor(const job::TrainingJob& job, const data::Dataset& train,
                               int num_classes) {
  app::DatasetShape shape;
  shape.train_rows = train.rows();
  shape.input_dim = static_cast<int>(train.cols());
  shape.num_classes = num_classes;
  return app::MakeJobPlan(job, shape);
}

StatusOr<ClusterResult> RunCluster(const app::JobPlan& plan, const data::Dataset& train,
                                   const data::Dataset* test, const ClusterOptions& options) {
  if (train.rows() != plan.train_rows || train.cols() != plan.model.input_dim) {
    return InvalidArgument("thread cluster: the plan is for " + std::to_string(plan.train_rows) +
                           " rows of " + std::to_string(plan.model.input_dim) +
                           " features, the training data has " + std::to_string(train.rows()) +
                           " rows of " + std::to_string(train.cols()));
  }
  RT_ASSIGN_OR_RETURN(const std::vector<float> initial, app::InitialParameters(plan));
  RT_ASSIGN_OR_RETURN(const optim::LearningRateSchedule schedule,
                      optim::LearningRateSchedule::Create(plan.schedule));

  zmq::context_t context(2);
  // One context stands for every process: one ZAP handler admits the job's keys for all.
  std::optional<auth::JobKeys> keys;
  std::unique_ptr<auth::ZapHandler> zap;
  auto credentials = [&](const auth::Identity& id) -> std::shared_ptr<const auth::Credentials> {
    if (!keys) return nullptr;
    return std::make_shared<auth::Credentials>(
        auth::Credentials{id, keys->pairs.at(id), keys->public_keys});
  };
  if (options.curve) {
    RT_ASSIGN_OR_RETURN(keys, auth::NewJobKeys(plan.num_ps, plan.num_workers));
    RT_ASSIGN_OR_RETURN(zap, auth::ZapHandler::Start(context, keys->public_keys, nullptr));
  }
  std::vector<std::unique_ptr<ps::ParameterServer>> servers;
  std::vector<std::string> endpoints;
  // The direct links' sockets, in a directory of this run's (removed at the end).
  std::string direct_dir;
  std::vector<std::string> direct_paths;
  if (options.direct_links) {
    char dir[] = "/tmp/ringtrain-cluster-XXXXXX";
    if (mkdtemp(dir) == nullptr) return Internal("mkdtemp failed");
    direct_dir = dir;
  }
  struct RemoveDir {
    const std::string& dir;
    ~RemoveDir() {
      if (!dir.empty()) std::filesystem::remove_all(dir);
    }
  } remove_dir{direct_dir};
  for (int m = 0; m < plan.num_ps; ++m) {
    RT_ASSIGN_OR_RETURN(std::unique_ptr<ps::ServerCore> core,
                        app::MakeServerCore(plan, m, initial));
    ps::ServerOptions o;
    o.bind_endpoint = "tcp://127.0.0.1:0";
    o.poll_interval = std::chrono::milliseconds(20);
    o.shared_memory = options.shared_memory;
    o.credentials = credentials(auth::Identity::Server(m));
    if (options.direct_links) {
      direct_paths.push_back(direct_dir + "/ps-" + std::to_string(m) + ".direct");
      o.direct_path = direct_paths.back();
    }
    if (options.between_messages || options.close_direct_links) {
      o.between_messages = [&options, &servers, m](const ps::ServerCore& c) {
        if (options.between_messages) options.between_messages(m, c);
        if (options.close_direct_links && options.close_direct_links(m, c)) {
          servers[static_cast<size_t>(m)]->CloseDirectLinks();
        }
      };
    }
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
  result.workers.resize(static_cast<size_t>(plan.num_workers));
  result.worker_params.resize(static_cast<size_t>(plan.num_workers));
  std::vector<Status> worker_status(static_cast<size_t>(plan.num_workers));
  std::mutex mu;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int k = 0; k < plan.num_workers; ++k) {
    workers.emplace_back([&, k] {
      const size_t i = static_cast<size_t>(k);
      worker_status[i] = [&]() -> Status {
        data::Dataset shard =
            data::TakeRows(train, data::RowShard(train.rows(), plan.num_workers, k));
        RT_ASSIGN_OR_RETURN(std::unique_ptr<model::Model> model, model::MakeModel(plan.model));
        worker::PsClientOptions co = app::ClientOptionsFor(plan, k, endpoints);
        co.timeout = options.timeout;
        co.shared_memory = options.shared_memory;
        if (options.push_chunk_bytes.has_value()) co.push_chunk_bytes = *options.push_chunk_bytes;
        co.credentials = credentials(auth::Identity::Worker(k));
        co.direct_paths = direct_paths;
        RT_ASSIGN_OR_RETURN(std::unique_ptr<worker::PsClient> client,
                            worker::PsClient::Connect(context, co));
        transport::NullEventSink sink;
        worker::TrainerOptions to = app::TrainerOptionsFor(plan, k);
        to.progress_interval = std::chrono::hours(1);
        if (options.before_push) {
          to.before_push = [&options, k](int64_t step) { options.before_push(k, step); };
        }
        std::unique_ptr<model::Model> eval_model;
        if (k == 0 && test != nullptr && options.background_evaluation) {
          RT_ASSIGN_OR_RETURN(eval_model, model::MakeModel(plan.model));
          to.eval_model = eval_model.get();
        }
        data::InMemoryBatches batches(&shard, plan.batch_size, plan.seed, plan.shuffle, k);
        worker::Trainer trainer(to, model.get(), client.get(), &batches, k == 0 ? test : nullptr,
                                &schedule, &sink);
        RT_ASSIGN_OR_RETURN(worker::TrainerResult r, trainer.Run());
        std::lock_guard<std::mutex> lock(mu);
        result.workers[i] = r;
        result.bytes_pushed += client->bytes_pushed();
        result.bytes_pushed_dense += client->bytes_pushed_dense();
        result.bytes_pulled += client->bytes_pulled();
        result.bytes_pulled_shared += client->bytes_pulled_shared();
        result.bytes_pushed_shared += client->bytes_pushed_shared();
        result.shared_retries += client->shared_retries();
        result.direct_sent += client->direct_sent();
        result.direct_breaks += client->direct_breaks();
        result.direct_resent += client->direct_resent();
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
  for (int k = 0; k < plan.num_workers; ++k) {
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
  for (const ring::Partition& p : plan.table->partitions()) {
    const auto got = servers[static_cast<size_t>(p.server)]->core().params(p.id);
    std::copy(got.begin(), got.end(), result.server_params.begin() + p.offset);
  }
  return result;
}

}  // namespace ringtrain::testing
