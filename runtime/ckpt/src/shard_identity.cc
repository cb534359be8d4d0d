#include "ringtrain/ckpt/shard_identity.h"

#include <cinttypes>
#include <cstdio>

namespace ringtrain::ckpt {

namespace {
constexpr int kMaxStateSlots = 16;
}  // namespace

Status ValidateIdentity(const ShardIdentity& id) {
  if (id.job.empty()) return InvalidArgument("checkpoint identity: job name is empty");
  if (id.ring_servers.empty()) return InvalidArgument("checkpoint identity: no ring servers");
  if (id.server_index < 0 || id.server_index >= static_cast<int>(id.ring_servers.size())) {
    return InvalidArgument("checkpoint identity: server index " + std::to_string(id.server_index) +
                           " outside the ring's " + std::to_string(id.ring_servers.size()) +
                           " servers");
  }
  if (id.sync_mode.empty()) return InvalidArgument("checkpoint identity: sync mode is empty");
  if (id.optimizer.empty()) return InvalidArgument("checkpoint identity: optimizer is empty");
  if (id.state_slots < 0 || id.state_slots > kMaxStateSlots) {
    return InvalidArgument("checkpoint identity: state_slots " + std::to_string(id.state_slots) +
                           " outside [0, " + std::to_string(kMaxStateSlots) + "]");
  }
  if (id.num_workers < 1) return InvalidArgument("checkpoint identity: num_workers must be >= 1");
  for (size_t i = 0; i < id.partitions.size(); ++i) {
    if (id.partitions[i].size < 1) {
      return InvalidArgument("checkpoint identity: partition " +
                             std::to_string(id.partitions[i].id) + " has size " +
                             std::to_string(id.partitions[i].size));
    }
    if (i > 0 && id.partitions[i].id <= id.partitions[i - 1].id) {
      return InvalidArgument("checkpoint identity: partitions not in ascending id order at " +
                             std::to_string(i));
    }
  }
  for (size_t t = 0; t < id.sparse_dims.size(); ++t) {
    if (id.sparse_dims[t] < 1) {
      return InvalidArgument("checkpoint identity: sparse table " + std::to_string(t) +
                             " has dim 0");
    }
  }
  return Status::Ok();
}

std::string FingerprintHex(uint64_t fingerprint) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, fingerprint);
  return buf;
}

}  // namespace ringtrain::ckpt
