#include "ringtrain/ps/shard_checkpoint.h"

#include <utility>

namespace ringtrain::ps {

ckpt::ShardIdentity ShardIdentityOf(const ServerCore& core, uint64_t model_fingerprint,
                                    const std::string& optimizer_name) {
  return ShardIdentityOf(core.config(), model_fingerprint, optimizer_name);
}

ckpt::ShardIdentity ShardIdentityOf(const ServerCoreConfig& c, uint64_t model_fingerprint,
                                    const std::string& optimizer_name) {
  ckpt::ShardIdentity id;
  id.job = c.job;
  id.server_index = c.server_index;
  id.ring_servers = c.table->servers();
  id.layout_fingerprint = c.table->fingerprint();
  id.model_fingerprint = model_fingerprint;
  id.sync_mode = ConsistencyName(c.consistency);
  id.optimizer = optimizer_name;
  id.state_slots = c.optimizer->state_slots();
  id.num_workers = c.num_workers;
  for (uint32_t p : c.table->partitions_of(c.server_index)) {
    id.partitions.push_back({p, c.table->partition(p).size});
  }
  for (const ring::SparseTableSpec& t : c.table->sparse().tables()) {
    id.sparse_dims.push_back(static_cast<uint32_t>(t.dim));
  }
  return id;
}

StatusOr<RestoredCheckpoint> RestoreLatest(const ckpt::Store& store,
                                           const ckpt::ShardIdentity& expected, ServerCore* core) {
  RT_ASSIGN_OR_RETURN(ckpt::LoadedCheckpoint loaded, store.LoadLatest(expected));
  if (Status s = core->Restore(std::move(loaded.state)); !s.ok()) {
    return s.WithContext(loaded.ref.path);
  }
  RestoredCheckpoint r;
  r.ref = std::move(loaded.ref);
  r.manifest = std::move(loaded.manifest);
  r.skipped = std::move(loaded.skipped);
  return r;
}

}  // namespace ringtrain::ps
