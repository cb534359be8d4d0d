// A parameter server's shard and its checkpoints: the identity a server writes into and expects
// of its checkpoints, and restoring the newest valid checkpoint of its own shard.
//
// A server's checkpoint holds exactly the partitions the ring gave it (ServerCore::Snapshot);
// restoring checks the checkpoint is of this job, model, server, ring and layout (the manifest)
// and that every partition is one this server owns with its size (the shard file, then
// ServerCore::Restore), so a server only ever loads its own shard. A change of ring membership
// or placement changes the layout fingerprint, and such a checkpoint is refused.
//
// Thread-safety: call from the thread that owns the core, before it serves.
#ifndef RINGTRAIN_PS_SHARD_CHECKPOINT_H_
#define RINGTRAIN_PS_SHARD_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ringtrain/ckpt/shard_identity.h"
#include "ringtrain/ckpt/store.h"
#include "ringtrain/common/status.h"
#include "ringtrain/ps/server_core.h"

namespace ringtrain::ps {

// The identity of `core`'s shard: job, server index, ring membership, layout fingerprint,
// sync mode, optimizer state slots, workers and owned partitions come from the core; the
// model's fingerprint and the optimizer's name from the caller (the job plan knows them).
ckpt::ShardIdentity ShardIdentityOf(const ServerCore& core, uint64_t model_fingerprint,
                                    const std::string& optimizer_name);
// The same from the configuration a core is (or would be) made with. REQUIRES: config.table and
// config.optimizer set.
ckpt::ShardIdentity ShardIdentityOf(const ServerCoreConfig& config, uint64_t model_fingerprint,
                                    const std::string& optimizer_name);

struct RestoredCheckpoint {
  ckpt::CheckpointRef ref;
  ckpt::Manifest manifest;
  // Newer checkpoints passed over and why ("<path>: <problem>"), newest first.
  std::vector<std::string> skipped;
};

// Restores into `core` the newest checkpoint in `store` that is a valid checkpoint of
// `expected` (ShardIdentityOf(*core, ...)). Errors: NotFound if the store holds none;
// FailedPrecondition if none is usable (every one's problem in the message) or the core refuses
// the state (ServerCore::Restore); Unavailable if the file system fails. On error the core is
// unchanged.
StatusOr<RestoredCheckpoint> RestoreLatest(const ckpt::Store& store,
                                           const ckpt::ShardIdentity& expected, ServerCore* core);

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_SHARD_CHECKPOINT_H_
