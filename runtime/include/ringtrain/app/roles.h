// The two process roles of a job, as `ringtrain ps` and `ringtrain worker` run them (in a pod
// or under the local launcher): each is given its pod contract and the job spec, and reports
// to the event sink named by the contract.
#ifndef RINGTRAIN_APP_ROLES_H_
#define RINGTRAIN_APP_ROLES_H_

#include <atomic>

#include "ringtrain/app/checkpointing.h"
#include "ringtrain/app/output.h"
#include "ringtrain/common/status.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::app {

// Runs a parameter server until every worker has finished (OK) or *interrupted becomes
// non-zero (Cancelled: the process exits 128+signal, so it never reads as a success). Reports READY
// with the bound endpoint, then FINISHED with its counters, or FAILED with the error.
// With checkpoints enabled (app/checkpointing.h; off by default), it checkpoints its shard as it
// serves (a CHECKPOINT event for each one written) and, once every worker has finished, writes
// a final checkpoint before FINISHED; a final checkpoint that cannot be written is the server's
// error. With the contract's status_bind it answers status requests there with its last
// checkpoint (app::ServerStatusReply; none without checkpoints).
Status RunParameterServer(const job::PodContract& contract, const job::TrainingJob& job,
                          const std::atomic<int>* interrupted,
                          const CheckpointOptions& checkpoints = {});

struct WorkerOptions {
  // Writes the final model (app/output.h); `ringtrain worker` passes the ONNX exporter. Needed
  // by worker 0 when it has an output directory (OutputDirectoryFor), else unused.
  ModelWriter write_model;
  // How the text formats' data is reached (S3 credentials and endpoint: `ringtrain` reads
  // them from the environment, storage::S3OptionsFromEnvironment).
  storage::StorageOptions storage;
  // Where worker 0 stages its model before it uploads it to an output directory in an object
  // store (app/output.h, WriteModelInto).
  std::string staging_root;
};

// Runs a worker: loads its shard, trains every epoch, reports progress and evaluations.
// Worker 0 with an output directory (OutputDirectoryFor: RINGTRAIN_OUTPUT_DIR or spec.output)
// creates the directory before training, finishes by pulling the final model once every worker
// is done (worker::PsClient::DoneWithFinalModel) and writes it to <directory>/model.onnx with
// options.write_model; a model that cannot be written is the worker's error (FailedPrecondition
// if there is no writer).
Status RunWorker(const job::PodContract& contract, const job::TrainingJob& job,
                 const WorkerOptions& options = {});

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_ROLES_H_
