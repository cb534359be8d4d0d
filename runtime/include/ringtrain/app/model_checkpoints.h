// The model a job's checkpoints hold: every parameter server's shard loaded from its newest
// usable checkpoint and put back together into the flat parameter vector, for `ringtrain
// export` and `ringtrain eval` (and anything else that wants the model without a running job).
//
// Server i's checkpoints are in <root>/<job>/ps-<i> (app/checkpointing.h). Each is read with
// ckpt::Store::LoadLatest against the identity that server gives its checkpoints
// (ShardIdentityFor(plan, i)), so a checkpoint of another job, model, placement or optimizer is
// refused, and a damaged one (a truncated shard, a bad manifest) is passed over for the one
// before it, which is reported. The directories are only read (ckpt::Store::OpenReadOnly): a
// job may be running and writing checkpoints beside the reader.
//
// Servers checkpoint on their own, so shards may come from different steps (each shard says
// which); the final checkpoints, written once every worker has finished, are of one step.
//
// Thread-safety: pure functions of their arguments and the files.
#ifndef RINGTRAIN_APP_MODEL_CHECKPOINTS_H_
#define RINGTRAIN_APP_MODEL_CHECKPOINTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ringtrain/app/checkpointing.h"
#include "ringtrain/app/job_plan.h"
#include "ringtrain/ckpt/store.h"
#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::app {

// Where one shard of the model came from.
struct ShardSource {
  int server = 0;
  std::string directory;  // <root>/<job>/ps-<server>
  ckpt::CheckpointRef checkpoint;
  int64_t step = 0;    // the checkpoint's step (the slowest worker's clock on this shard)
  bool final = false;  // written when training finished
  // Newer checkpoints of the shard passed over, newest first ("<path>: <problem>").
  std::vector<std::string> skipped;
};

struct CheckpointedModel {
  JobPlan plan;
  std::vector<float> params;        // plan.table->total_size() floats: the layout of plan.model
                                    // (a sparse model's: its dense parameters)
  std::vector<ShardSource> shards;  // one per server, by index
  // A sparse model (plan.sparse_model): every key of its table that has a row on some server,
  // ascending, and each one's value (the table's dim floats; no optimizer state).
  std::vector<uint64_t> sparse_keys;
  std::vector<float> sparse_rows;

  // Every shard's checkpoint is final: the model as training ended.
  bool final() const;
  // The smallest and largest step of the shards (equal for a consistent model).
  int64_t min_step() const;
  int64_t max_step() const;
};

// Loads and assembles the model of `plan` from the checkpoints under `root` (a plain
// directory, spec.checkpoint.path without "file://"). Errors, each naming the server and its
// directory: NotFound when a server's directory is missing or holds no checkpoint;
// FailedPrecondition when none of its checkpoints is usable (each one's problem listed: another
// job, "a checkpoint of another model", damaged files); Unavailable when the file system fails.
StatusOr<CheckpointedModel> LoadModelFromCheckpoints(JobPlan plan, const std::string& root);
// The same from checkpoints `where` says (in an object store: app/checkpointing.h,
// UseObjectStorage).
StatusOr<CheckpointedModel> LoadModelFromCheckpoints(JobPlan plan, const CheckpointOptions& where);

// The same for `job`, whose plan is made from its training set's header (ReadDatasetShape's
// errors, too).
StatusOr<CheckpointedModel> LoadModelFromCheckpoints(const job::TrainingJob& job,
                                                     const std::string& root);
StatusOr<CheckpointedModel> LoadModelFromCheckpoints(const job::TrainingJob& job,
                                                     const CheckpointOptions& where);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_MODEL_CHECKPOINTS_H_
