// Checkpoints of a parameter server process: the options `ringtrain ps` takes, what identifies
// its checkpoints, and the checkpointer they make.
//
// Checkpoints are off unless a directory is given: spec.checkpoint fills the options
// (CheckpointOptionsFor). A server's
// checkpoints live in <directory>/<job>/ps-<index>, one ckpt::Store per server, so servers
// sharing a volume never touch each other's files. The directory may be a location in an object
// store (s3://bucket/prefix): the checkpoints are then objects (ckpt/store.h, in an object
// store), reached through `storage` (UseObjectStorage) and staged in `staging`.
//
// Thread-safety: pure functions; the checkpointer is used by the server's thread (and its
// last_checkpoint by the status socket's: ServerStatusReply).
#ifndef RINGTRAIN_APP_CHECKPOINTING_H_
#define RINGTRAIN_APP_CHECKPOINTING_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/ckpt/shard_identity.h"
#include "ringtrain/ckpt/store.h"
#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/checkpointer.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ps/shard_checkpoint.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::app {

struct CheckpointOptions {
  std::string directory;          // empty: no checkpoints (the default)
  int64_t every_steps = 0;        // a checkpoint each this many steps of the shard (0: off)
  std::chrono::seconds every{0};  // and/or each this many seconds (0: off); one must be set
  int keep = 3;                   // checkpoints kept per server
  // How long a server that finished waits for its final checkpoint to be written.
  std::chrono::milliseconds final_timeout{std::chrono::minutes(5)};
  // How long a server stopped by a signal waits for its checkpoint of the current state: within
  // the grace its supervisor gives it (`ringtrain run` 5 s before SIGKILL; a pod's
  // terminationGracePeriodSeconds, 30 s by default). A write cut short leaves the previous
  // checkpoint in place (writes are atomic).
  std::chrono::milliseconds stop_timeout{std::chrono::seconds(4)};
  // A directory in an object store (IsObjectLocation): how it is reached, and the local
  // directory its checkpoints are staged in (<staging>/ps-<index>). Unused otherwise.
  std::shared_ptr<storage::Storage> storage;
  std::string staging;

  bool enabled() const { return !directory.empty(); }
};

// The options spec.checkpoint asks for ("file://" dropped from the path); disabled when the
// spec has none.
CheckpointOptions CheckpointOptionsFor(const job::TrainingJob& job);

// When options->directory is in an object store: reaches it with spec.dataset.storage's endpoint,
// region and addressing style over `from_environment` (credentials; StorageOptionsFor), and
// stages its checkpoints in <staging_root>/<job>. Nothing otherwise.
void UseObjectStorage(CheckpointOptions* options, const job::TrainingJob& job,
                      const storage::StorageOptions& from_environment,
                      const std::string& staging_root);

// Opens the store of server `server_index`'s checkpoints of job `job`: ckpt::Store::Open (or
// OpenReadOnly, which creates nothing), locally or in the object store. FailedPrecondition when
// the directory is in an object store and `options.storage` is null.
StatusOr<std::unique_ptr<ckpt::Store>> OpenShardStore(const CheckpointOptions& options,
                                                      const std::string& job, int server_index,
                                                      bool read_only);

// InvalidArgument naming the option for keep < 1, a negative period, or neither period set
// (only when enabled()).
[[nodiscard]] Status ValidateCheckpointOptions(const CheckpointOptions& options);

// A fingerprint of what shapes the plan's model: its kind, input size, classes and hidden
// layers. Placement (servers, partition size) does not enter it: the layout fingerprint covers
// that. A checkpoint of another model is refused by it.
uint64_t ModelFingerprint(const JobPlan& plan);

// The identity of `core`'s shard checkpoints (ps::ShardIdentityOf with the plan's model
// fingerprint and optimizer).
ckpt::ShardIdentity ShardIdentityFor(const JobPlan& plan, const ps::ServerCore& core);

// The identity server `server_index` of the plan gives its checkpoints, without a server: what
// a reader of the checkpoints expects (app/model_checkpoints.h). InvalidArgument for an index
// outside [0, plan.num_ps).
StatusOr<ckpt::ShardIdentity> ShardIdentityFor(const JobPlan& plan, int server_index);

// <directory>/<job>/ps-<index>.
std::string ShardCheckpointDirectory(const CheckpointOptions& options, const JobPlan& plan,
                                     int server_index);

// What a server's checkpointer reports to, and starts from (ps::CheckpointPolicy's fields).
struct CheckpointerHooks {
  std::function<void(const std::string&)> log;             // its messages; empty: silent
  std::function<void(const ps::LastCheckpoint&)> written;  // each checkpoint written
  std::optional<ps::LastCheckpoint> restored;              // the checkpoint restored, if any
};

// Opens server `core`'s store and starts its checkpointer with `hooks`.
// REQUIRES: options.enabled(). Errors: ValidateCheckpointOptions's; Unavailable if the directory
// cannot be created.
StatusOr<std::unique_ptr<ps::ServerCheckpointer>> MakeServerCheckpointer(
    const CheckpointOptions& options, const JobPlan& plan, const ps::ServerCore& core,
    CheckpointerHooks hooks);

// The checkpoint a shard was restored from, as the checkpointer reports it.
ps::LastCheckpoint LastCheckpointOf(const ps::RestoredCheckpoint& restored);

// The wire form of a checkpoint (CHECKPOINT events and status replies carry it).
proto::CheckpointInfo CheckpointInfoOf(const ps::LastCheckpoint& checkpoint);

// What a parameter server's status socket answers (transport::StatusServer): its newest
// checkpoint (ps::ServerCheckpointer::last_checkpoint), unset while it has none or when
// `checkpointer` is null (a job without checkpoints). The job is the status server's to set.
// Thread-safe: the status server's thread calls it while the server trains.
proto::StatusReply ServerStatusReply(const ps::ServerCheckpointer* checkpointer);

// Restores server `core`'s shard from its newest usable checkpoint, if it has any: a job
// started again continues where its checkpoints left it (a fresh start removes them first:
// RemoveJobCheckpoints). std::nullopt when the directory holds no checkpoint. A final
// checkpoint is restored like any other: its workers are all done, so the server has nothing
// to serve and ends at once (a server pod replaced after the job finished succeeds; a whole
// job started again is stopped earlier, by FindFinishedJob). Errors: FailedPrecondition when
// checkpoints exist but none is usable — of another job or model, damaged — naming each one's
// problem (training from scratch over them would silently discard them). REQUIRES:
// options.enabled(); the core has not served yet.
StatusOr<std::optional<ps::RestoredCheckpoint>> RestoreShard(const CheckpointOptions& options,
                                                             const JobPlan& plan,
                                                             ps::ServerCore* core);

struct FinishedJob {
  int64_t step = 0;       // the final checkpoints' step (the largest over the servers)
  std::string directory;  // JobCheckpointDirectory
};

// Whether the job has already finished: every server's newest checkpoint is a final one of
// this job and model (manifests only are read). std::nullopt when any server has none, or its
// newest is not final. Errors: Unavailable if the file system fails.
StatusOr<std::optional<FinishedJob>> FindFinishedJob(const CheckpointOptions& options,
                                                     const JobPlan& plan);

// FailedPrecondition saying that `job` has already finished, where its final checkpoints are
// and how to train it again.
[[nodiscard]] Status FinishedJobError(const FinishedJob& finished, const std::string& job);

// <directory>/<job>: every server's checkpoints of the job.
std::string JobCheckpointDirectory(const CheckpointOptions& options, const std::string& job);

// Deletes every checkpoint of `job` (JobCheckpointDirectory), for a fresh start; OK when there
// is none. Unavailable naming the path if the file system refuses.
[[nodiscard]] Status RemoveJobCheckpoints(const CheckpointOptions& options, const std::string& job);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_CHECKPOINTING_H_
