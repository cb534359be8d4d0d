// The commands of the `ringtrain` binary that work on a trained model, and the ONNX writer its
// workers use: the parts of the CLI that need the exporter (ringtrain::export), which the
// runtime itself may not include.
//   ringtrain export JOB.yaml [--checkpoint DIR] [--output FILE]
//   ringtrain eval JOB.yaml [--checkpoint DIR] [--test-images URI --test-labels URI]
// Both read the model from the job's checkpoints (app/model_checkpoints.h) and print which
// checkpoint of each server they used and which they passed over, and why.
//
// Thread-safety: call from main's thread.
#ifndef RINGTRAIN_CMD_MODEL_COMMANDS_H_
#define RINGTRAIN_CMD_MODEL_COMMANDS_H_

#include <ostream>
#include <string>

#include "ringtrain/app/output.h"
#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::cmd {

// Writes models of `job` as ONNX (exporter::WriteOnnxFile with exporter::OnnxOptionsFor(job)).
app::ModelWriter OnnxModelWriter(const job::TrainingJob& job);

struct ExportOptions {
  std::string checkpoint_root;      // empty: spec.checkpoint.path
  std::string output_file;          // empty: model.onnx in spec.output.path, else in the default
                                    // output directory of `ringtrain run`
  storage::StorageOptions storage;  // how checkpoints in an object store are reached
  std::string staging_root;         // where they are staged (app::UseObjectStorage)
};

// `ringtrain export`: the job's model from its latest usable checkpoints, written as ONNX.
// Errors: InvalidArgument when no checkpoint directory is known; LoadModelFromCheckpoints's;
// the exporter's.
Status ExportFromCheckpoints(const job::TrainingJob& job, const ExportOptions& options,
                             std::ostream& out);

struct EvalOptions {
  std::string checkpoint_root;      // empty: spec.checkpoint.path
  job::DataFiles test;              // empty: spec.dataset.test (idx files, or a text format's uri)
  storage::StorageOptions storage;  // how a text format's test data and checkpoints in an
                                    // object store are reached
  std::string staging_root;         // where such checkpoints are staged
};

// `ringtrain eval`: the job's model from its latest usable checkpoints, evaluated on the test
// set (model::Model::Evaluate, as worker 0 evaluates during training): prints accuracy and loss.
// Errors: InvalidArgument when no checkpoint directory or test set is known;
// LoadModelFromCheckpoints's; the test set's.
Status EvaluateCheckpoints(const job::TrainingJob& job, const EvalOptions& options,
                           std::ostream& out);

}  // namespace ringtrain::cmd

#endif  // RINGTRAIN_CMD_MODEL_COMMANDS_H_
