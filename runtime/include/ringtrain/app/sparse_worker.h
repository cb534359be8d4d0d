// The worker role of a click-through model over sparse keys (model.type logistic, fm and
// deepfm; JobPlan::sparse_model): what app::RunWorker runs for such a job.
//
// Each worker counts the records of its row share of the training data (byte ranges of the
// objects, data/text_shard.h: LibSVM of 64-bit keys, CSV through the feature schema, or Criteo's
// logs), which gives its steps per epoch (ceil(records / batchSize); in sync mode a worker that
// finishes first leaves the rounds to the others), then streams the share each epoch
// (data::SparseStream: bounded memory, a shuffle window) into worker::SparseTrainer. Worker 0
// also reads the test set into memory and reports its AUC and log-loss after every epoch. Progress
// goes through a worker::ProgressRecorder (the status socket, the termination log), as for the
// dense models. The trained model is not written out at the end (its rows are on the servers):
// `ringtrain export` writes it from the job's final checkpoints (export/sparse_onnx.h), and
// worker 0 says so when the job has an output directory.
//
// Thread-safety: runs on the calling thread.
#ifndef RINGTRAIN_APP_SPARSE_WORKER_H_
#define RINGTRAIN_APP_SPARSE_WORKER_H_

#include <memory>

#include <zmq.hpp>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/app/roles.h"
#include "ringtrain/auth/curve.h"
#include "ringtrain/common/status.h"
#include "ringtrain/data/sparse_batch.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/storage/storage.h"
#include "ringtrain/transport/event_sink.h"

namespace ringtrain::app {

// The rows of `uri` as a sparse model reads them, all in memory: LibSVM of keys, CSV through the
// feature schema dataset.fields, or Criteo's logs (data/sparse_data.h's errors, naming file and
// line).
StatusOr<data::SparseBatch> ReadSparseRows(storage::Storage* storage,
                                           const job::DatasetSpec& dataset, const std::string& uri);

// REQUIRES: job.spec.model.type is logistic, fm or deepfm.
Status TrainSparseWorker(const job::PodContract& c, const job::TrainingJob& job,
                         const WorkerOptions& options, zmq::context_t& context,
                         transport::EventSink& sink,
                         std::shared_ptr<const auth::Credentials> credentials);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_SPARSE_WORKER_H_
