// ShardIdentity: what a parameter server's checkpoint is a checkpoint of — the job, the server,
// the ring, the model and the layout of the partitions it holds. A server writes its identity
// into every checkpoint's manifest (manifest.h), and a server that loads one passes its own
// identity as the expectation: a checkpoint of another job, server, model, placement, sync
// mode or optimizer is refused with a message naming what differs, so another model never
// loads it.
//
// Thread-safety: a value.
#ifndef RINGTRAIN_CKPT_SHARD_IDENTITY_H_
#define RINGTRAIN_CKPT_SHARD_IDENTITY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ringtrain/common/status.h"

namespace ringtrain::ckpt {

struct PartitionShape {
  uint32_t id = 0;
  int64_t size = 0;  // parameters
};

struct ShardIdentity {
  std::string job;                        // metadata.name
  int server_index = 0;                   // this server's index in ring_servers
  std::vector<std::string> ring_servers;  // the ring's membership in index order: "ps-0", ...
  uint64_t layout_fingerprint = 0;        // ring::PartitionTable::fingerprint()
  // A hash of what shapes the model (its kind and tensors), independent of the placement: two
  // jobs whose models differ never share a checkpoint.
  uint64_t model_fingerprint = 0;
  std::string sync_mode;  // "sync" | "async" | "ssp": versions and rounds mean different things
  std::string optimizer;  // "sgd", "momentum", ...: what the optimizer state means
  int state_slots = 0;    // optimizer state floats per parameter
  int num_workers = 1;
  // The partitions this server owns, ascending id. Not stored in the manifest (the layout
  // fingerprint covers them); every record of the shard file is checked against them.
  std::vector<PartitionShape> partitions;
  // A sparse model's tables, in the model's order: each one's dim (floats per key's value).
  // Empty for a dense model. Not stored in the manifest either (the layout fingerprint covers
  // the sparse placement); the shard file's sparse section is checked against it.
  std::vector<uint32_t> sparse_dims;

  int64_t num_elements() const {
    int64_t n = 0;
    for (const PartitionShape& p : partitions) n += p.size;
    return n;
  }
};

// OK if `id` is well formed: a job name, 0 <= server_index < ring_servers.size(), sync_mode and
// optimizer named, state_slots in [0, 16], num_workers >= 1, partitions ascending by id with
// sizes >= 1, sparse dims >= 1. Else InvalidArgument naming the field.
[[nodiscard]] Status ValidateIdentity(const ShardIdentity& id);

// "0x0123456789abcdef", as manifests and messages print fingerprints.
std::string FingerprintHex(uint64_t fingerprint);

}  // namespace ringtrain::ckpt

#endif  // RINGTRAIN_CKPT_SHARD_IDENTITY_H_
