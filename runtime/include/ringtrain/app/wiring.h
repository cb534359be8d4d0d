// Wiring: the one path from a JobPlan to the objects a job's processes run — a parameter
// server's ServerCore, a worker's PsClient and Trainer. `ringtrain ps` and `ringtrain worker`
// (app/roles.h) and the test cluster of threads (tests/support/thread_cluster.h) all build
// their options here, so tests run what pods run.
//
// What differs between a pod and a test (where a server binds, how long a client waits, how
// often a worker reports progress, hooks) is not in the plan: callers set those fields on the
// options these functions return.
//
// Thread-safety: pure functions of their arguments; safe to call concurrently.
#ifndef RINGTRAIN_APP_WIRING_H_
#define RINGTRAIN_APP_WIRING_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/auth/curve.h"
#include "ringtrain/common/status.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/worker/ps_client.h"
#include "ringtrain/worker/trainer.h"

namespace ringtrain::app {

// OK when `contract` describes a process of the planned job: the same job name and replica
// counts as the spec the plan came from. Otherwise InvalidArgument naming the variable, e.g.
// "RINGTRAIN_NUM_WORKERS: 3, but spec.workers.replicas is 2".
[[nodiscard]] Status CheckContract(const job::PodContract& contract, const JobPlan& plan);

// The model's initial parameters (model::Model::Initialize with the job's seed): every server
// starts from them and keeps its own partitions.
StatusOr<std::vector<float>> InitialParameters(const JobPlan& plan);

// The configuration of server `server_index`'s ServerCore, with a fresh optimizer of the
// plan's kind. InvalidArgument for an index outside [0, plan.num_ps) or a bad optimizer.
StatusOr<ps::ServerCoreConfig> ServerCoreConfigFor(const JobPlan& plan, int server_index);

// Server `server_index`'s state machine over its partitions of `initial_params`
// (InitialParameters(plan)). Errors as ServerCoreConfigFor and ps::ServerCore::Make.
StatusOr<std::unique_ptr<ps::ServerCore>> MakeServerCore(const JobPlan& plan, int server_index,
                                                         std::span<const float> initial_params);

// True for an endpoint only processes of this host can reach (ipc://), where the servers
// answer pulls from shared memory (ps/pull_publisher.h).
bool OnThisHost(const std::string& endpoint);

// Whether the job's workers push through direct links when they share the servers' host
// (ps/direct_peers.h, worker/ps_client.h's Direct link): sync rounds of a dense model over every
// worker's whole scope, without a codec, which push through shared memory. Servers listen for
// links only then, so that other jobs keep the ZeroMQ socket's own wait (ps/server.h).
bool DirectLinksApply(const JobPlan& plan);

// The options of worker `rank`'s client, talking to the servers at `endpoints` (server i's at
// index i), with `credentials` (null: plaintext). The timeout keeps PsClientOptions' default.
// With every endpoint OnThisHost, pulls ask for shared memory, and without credentials the
// client makes direct links to the servers when DirectLinksApply (ps::DirectPathOf).
// REQUIRES: 0 <= rank < plan.num_workers (PsClient::Connect checks the endpoints).
worker::PsClientOptions ClientOptionsFor(
    const JobPlan& plan, int rank, std::vector<std::string> endpoints,
    std::shared_ptr<const auth::Credentials> credentials = nullptr);

// The options of worker `rank`'s training loop. progress_interval and before_push keep
// TrainerOptions' defaults.
// REQUIRES: 0 <= rank < plan.num_workers.
worker::TrainerOptions TrainerOptionsFor(const JobPlan& plan, int rank);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_WIRING_H_
