#include "ringtrain/app/wiring.h"

#include <algorithm>
#include <string>
#include <utility>

#include "ringtrain/model/model.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/direct_peers.h"

namespace ringtrain::app {

namespace {

Status CheckCount(const char* variable, int got, const char* field, int want) {
  if (got == want) return Status::Ok();
  return InvalidArgument(std::string(variable) + ": " + std::to_string(got) + ", but " + field +
                         " is " + std::to_string(want));
}

}  // namespace

Status CheckContract(const job::PodContract& contract, const JobPlan& plan) {
  if (contract.job_name != plan.job_name) {
    return InvalidArgument(std::string(job::kEnvJobName) + ": \"" + contract.job_name +
                           "\", but metadata.name is \"" + plan.job_name + "\"");
  }
  RT_RETURN_IF_ERROR(
      CheckCount(job::kEnvNumPs, contract.num_ps, "spec.parameterServers.replicas", plan.num_ps));
  return CheckCount(job::kEnvNumWorkers, contract.num_workers, "spec.workers.replicas",
                    plan.num_workers);
}

StatusOr<std::vector<float>> InitialParameters(const JobPlan& plan) {
  if (plan.sparse_model.has_value()) {
    // The dense part only; the sparse rows start at their initial values on the servers.
    RT_ASSIGN_OR_RETURN(std::unique_ptr<model::SparseModel> sparse,
                        model::MakeSparseModel(*plan.sparse_model));
    std::vector<float> dense(static_cast<size_t>(sparse->num_dense()));
    sparse->InitializeDense(plan.seed, dense.data());
    return dense;
  }
  RT_ASSIGN_OR_RETURN(std::unique_ptr<model::Model> model, model::MakeModel(plan.model));
  std::vector<float> params(static_cast<size_t>(model->num_params()));
  model->Initialize(plan.seed, params.data());
  return params;
}

StatusOr<ps::ServerCoreConfig> ServerCoreConfigFor(const JobPlan& plan, int server_index) {
  if (server_index < 0 || server_index >= plan.num_ps) {
    return InvalidArgument("server index " + std::to_string(server_index) + " of a job with " +
                           std::to_string(plan.num_ps) + " parameter servers");
  }
  ps::ServerCoreConfig config;
  config.job = plan.job_name;
  config.server_index = server_index;
  config.num_workers = plan.num_workers;
  config.table = plan.table;
  RT_ASSIGN_OR_RETURN(config.optimizer, optim::MakeOptimizer(plan.optimizer));
  config.consistency = plan.consistency;
  config.staleness = plan.staleness;
  config.staleness_aware_lr = plan.staleness_aware_lr;
  config.codec = plan.codec.type;
  config.keeps_data_queue = plan.dynamic_sharding && server_index == plan.queue_server;
  config.block_sums = plan.feature_sharding;
  if (plan.feature_sharding && server_index == plan.margin_server) {
    config.margin_cols = plan.model.num_classes;
  }
  if (plan.sparse_model.has_value()) {
    config.sparse_init = {ps::SparseInit{plan.sparse_init_scale}};
    config.sparse_seed = plan.seed;
    config.sparse_admit_after = plan.sparse_admit_after;
    config.sparse_expire_after = plan.sparse_expire_after;
  }
  return config;
}

StatusOr<std::unique_ptr<ps::ServerCore>> MakeServerCore(const JobPlan& plan, int server_index,
                                                         std::span<const float> initial_params) {
  RT_ASSIGN_OR_RETURN(ps::ServerCoreConfig config, ServerCoreConfigFor(plan, server_index));
  return ps::ServerCore::Make(std::move(config), initial_params);
}

bool OnThisHost(const std::string& endpoint) { return endpoint.starts_with("ipc://"); }

bool DirectLinksApply(const JobPlan& plan) {
  return plan.consistency == ps::Consistency::kSync &&
         plan.codec.type == compress::CodecType::kNone && !plan.sparse_model.has_value() &&
         plan.table->sparse().empty() && !plan.feature_sharding;
}

worker::PsClientOptions ClientOptionsFor(const JobPlan& plan, int rank,
                                         std::vector<std::string> endpoints,
                                         std::shared_ptr<const auth::Credentials> credentials) {
  worker::PsClientOptions options;
  options.job = plan.job_name;
  options.rank = rank;
  options.endpoints = std::move(endpoints);
  options.table = plan.table;
  options.consistency = plan.consistency;
  options.codec = plan.codec;
  options.error_feedback = plan.error_feedback;
  options.topk_warmup_steps = plan.topk_warmup_steps;
  // With replication a lost server's successor holds its shard and may serve it (failover).
  options.detours = plan.replication > 0;
  options.push_chunk_bytes = plan.push_chunk_bytes;
  options.shared_memory =
      !options.endpoints.empty() && std::all_of(options.endpoints.begin(), options.endpoints.end(),
                                                [](const std::string& e) { return OnThisHost(e); });
  if (options.shared_memory && credentials == nullptr && DirectLinksApply(plan)) {
    for (const std::string& e : options.endpoints) {
      options.direct_paths.push_back(ps::DirectPathOf(e));
    }
  }
  options.credentials = std::move(credentials);
  return options;
}

worker::TrainerOptions TrainerOptionsFor(const JobPlan& plan, int rank) {
  worker::TrainerOptions options;
  options.rank = rank;
  options.num_workers = plan.num_workers;
  options.epochs = plan.epochs;
  options.batch_size = plan.batch_size;
  options.seed = plan.seed;
  options.shuffle = plan.shuffle;
  options.steps_per_epoch = plan.steps_per_epoch;
  options.local_momentum = plan.local_momentum;
  options.queue_server = plan.queue_server;
  // sync rounds need every worker's push; ssp's pulls wait for the slowest clock: both need a
  // worker with no task to keep pushing. async does not.
  options.push_while_waiting = plan.consistency != ps::Consistency::kAsync;
  return options;
}

}  // namespace ringtrain::app
