// What each data-plane message kind (proto::MessageKind) is, in one place: which kinds are
// requests (worker -> server) and which reply each expects, which kinds carry payload frames,
// and a kind's name for messages.
//
// The switches over proto::MessageKind live here and are exhaustive (no default), so a kind
// added to ringtrain.proto fails to compile until it is classified. Code that acts on a
// request (the server's dispatch, the client's bookkeeping) switches over RequestKind, the
// requests only, so a new request fails to compile where it must be handled.
//
// Thread-safety: pure functions; any thread.
#ifndef RINGTRAIN_TRANSPORT_MESSAGE_KIND_H_
#define RINGTRAIN_TRANSPORT_MESSAGE_KIND_H_

#include <cstdint>
#include <optional>
#include <string>

#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::transport {

// The requests a worker sends to a parameter server.
enum class RequestKind {
  kPush,        // PUSH
  kPull,        // PULL
  kWorkerDone,  // WORKER_DONE
  kStats,       // STATS
  kJoin,        // JOIN
  kTask,        // TASK
  kMargins,     // MARGINS
};

// The request a message of `kind` makes, or std::nullopt when `kind` is not a request (a
// reply, ERROR, KIND_UNSPECIFIED, or a value outside the enum: proto3 parses an unknown value
// as itself).
std::optional<RequestKind> RequestOf(proto::MessageKind kind);

// The wire kind of `request` (the inverse of RequestOf).
proto::MessageKind KindOf(RequestKind request);

// The kind of a successful reply to `request` (PUSH_ACK, PULL_REPLY, DONE_ACK, STATS_REPLY,
// JOIN_REPLY, TASK_REPLY, MARGINS_REPLY).
// A server may answer any request with ERROR instead.
proto::MessageKind ReplyKindOf(RequestKind request);

// True for the kinds whose partitions each travel in a payload frame (PUSH, PULL_REPLY);
// other kinds list partitions (if any) without payloads.
bool CarriesPayload(proto::MessageKind kind);

// True for REPLICA_SYNC and REPLICA_STATE, whose frames carry a shard's state (ShardStateFrames;
// ps/replica_wire.h checks their sizes).
bool CarriesShardState(proto::MessageKind kind);
// The frames of a shard's state: three per partition, and for a sparse model five per sparse
// table and one for the admission sketch.
size_t ShardStateFrames(const proto::ShardStateMeta& meta);

// True for MARGINS and MARGINS_REPLY, which carry one frame of Header.margin_rows x
// Header.margin_cols float32 (at most kMaxMarginFloats).
bool CarriesMargins(proto::MessageKind kind);
inline constexpr uint64_t kMaxMarginFloats = uint64_t{1} << 24;

// Frames per entry of Header.sparse a message of `kind` carries after its partitions' frames:
// 2 for PUSH (keys, values), 1 for PULL (keys) and PULL_REPLY (values), 0 for the kinds that
// carry no sparse slices.
int SparseFramesPerSlice(proto::MessageKind kind);
// Largest sparse slice: keys per slice, and keys x dim floats per values frame.
inline constexpr uint64_t kMaxSparseKeys = uint64_t{1} << 25;
inline constexpr uint64_t kMaxSparseValues = uint64_t{1} << 28;

// True for the kinds only servers send each other (REPLICA_*).
bool IsReplication(proto::MessageKind kind);

// The kind's name in ringtrain.proto ("PUSH"), or "kind <n>" for a value outside the enum.
std::string KindName(proto::MessageKind kind);

// KindName(KindOf(request)).
std::string KindName(RequestKind request);

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_MESSAGE_KIND_H_
