// A shard's state (ckpt::ShardState) on the wire, for replication (REPLICA_SYNC,
// REPLICA_STATE): the sizes and scalars go in the header (proto::ShardStateMeta), the floats in
// payload frames, three per partition — parameters, optimizer state, round accumulator —
// without passing through Protobuf.
//
// DecodeShardState checks what the header claims against the frames (counts, sizes, limits)
// before reading any; whether the state fits a server's partitions is ServerCore::Restore's
// check.
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_PS_REPLICA_WIRE_H_
#define RINGTRAIN_PS_REPLICA_WIRE_H_

#include <span>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/ckpt/shard_state.h"
#include "ringtrain/common/status.h"
#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::ps {

// Fills *meta and appends the frames; consumes `state` (its vectors become the frames' memory,
// no copy).
void EncodeShardState(ckpt::ShardState state, proto::ShardStateMeta* meta,
                      std::vector<zmq::message_t>* frames);

// The state `meta` and `frames` describe. InvalidArgument naming the partition when a frame's
// size differs from what the header says, a count is not 3 per partition, or a partition is
// larger than transport::kMaxPartitionElements.
StatusOr<ckpt::ShardState> DecodeShardState(const proto::ShardStateMeta& meta,
                                            std::span<const zmq::message_t> frames);

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_REPLICA_WIRE_H_
