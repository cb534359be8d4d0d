// The worker role of a click-through model over sparse keys (model.type logistic and fm;
// JobPlan::sparse_model): what app::RunWorker runs for such a job.
//
// Each worker reads the training data (LibSVM of 64-bit keys, data::ReadSparseLibsvm) into
// memory and trains on its row shard of it (data::SparseBatches) with worker::SparseTrainer;
// worker 0 also reads the test set and reports its AUC and log-loss after every epoch. Progress
// goes through a worker::ProgressRecorder (the status socket, the termination log), as for the
// dense models. The trained model is not written out (no ONNX export of sparse tables yet):
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
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/transport/event_sink.h"

namespace ringtrain::app {

// REQUIRES: job.spec.model.type is logistic or fm.
Status TrainSparseWorker(const job::PodContract& c, const job::TrainingJob& job,
                         const WorkerOptions& options, zmq::context_t& context,
                         transport::EventSink& sink,
                         std::shared_ptr<const auth::Credentials> credentials);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_SPARSE_WORKER_H_
