// status.checkpoint: the checkpoint a TrainingJob can continue from, computed from what its
// parameter servers report over their status sockets (each its newest checkpoint).
//
// Every server restores its own shard from its own newest checkpoint, so the job as a whole
// can continue from the smallest of their steps, and only once every server has one. The time
// is that of the newest checkpoint (when the servers last wrote one); the location is where
// the job's checkpoints are, <spec.checkpoint.path>/<job> (each server's are in ps-<i>/ there).
//
// Pure functions; thread-safe.
#ifndef RINGTRAIN_OPERATOR_CHECKPOINT_STATUS_H_
#define RINGTRAIN_OPERATOR_CHECKPOINT_STATUS_H_

#include <map>
#include <optional>
#include <string>

#include "ringtrain/job/spec.h"
#include "ringtrain/operator/job_state.h"

namespace ringtrain::op {

// The job's checkpoint from `reported` (by server index): step the smallest, time the newest
// (to the second, as the status keeps it), location `location`. std::nullopt unless each of servers
// 0..num_servers-1 reported one (reports of other indexes are ignored), or num_servers < 1.
std::optional<CheckpointStatus> JobCheckpointStatus(const std::map<int, ServerCheckpoint>& reported,
                                                    int num_servers, const std::string& location);

// <spec.checkpoint.path>/<job> as the spec writes the path (a trailing '/' dropped); "" for a
// job without spec.checkpoint.
std::string JobCheckpointLocation(const job::TrainingJob& job);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_CHECKPOINT_STATUS_H_
