#include "ringtrain/transport/message_kind.h"

#include "ringtrain/common/check.h"

namespace ringtrain::transport {

std::optional<RequestKind> RequestOf(proto::MessageKind kind) {
  switch (kind) {
    case proto::PUSH:
      return RequestKind::kPush;
    case proto::PULL:
      return RequestKind::kPull;
    case proto::WORKER_DONE:
      return RequestKind::kWorkerDone;
    case proto::STATS:
      return RequestKind::kStats;
    case proto::JOIN:
      return RequestKind::kJoin;
    case proto::TASK:
      return RequestKind::kTask;
    case proto::MARGINS:
      return RequestKind::kMargins;
    case proto::KIND_UNSPECIFIED:
    case proto::TASK_REPLY:
    case proto::MARGINS_REPLY:
    case proto::JOIN_REPLY:
    case proto::PUSH_ACK:
    case proto::PULL_REPLY:
    case proto::DONE_ACK:
    case proto::STATS_REPLY:
    case proto::ERROR:
    case proto::REPLICA_ACK:
    case proto::REPLICA_SYNC:
    case proto::REPLICA_FETCH:
    case proto::REPLICA_STATE:
    case proto::REPLICA_EXCLUDE:
    case proto::REPLICA_TAKEOVER:
    case proto::NOT_SERVING:
    case proto::MessageKind_INT_MIN_SENTINEL_DO_NOT_USE_:
    case proto::MessageKind_INT_MAX_SENTINEL_DO_NOT_USE_:
      return std::nullopt;
  }
  return std::nullopt;  // not an enumerator
}

proto::MessageKind KindOf(RequestKind request) {
  switch (request) {
    case RequestKind::kPush:
      return proto::PUSH;
    case RequestKind::kPull:
      return proto::PULL;
    case RequestKind::kWorkerDone:
      return proto::WORKER_DONE;
    case RequestKind::kStats:
      return proto::STATS;
    case RequestKind::kJoin:
      return proto::JOIN;
    case RequestKind::kTask:
      return proto::TASK;
    case RequestKind::kMargins:
      return proto::MARGINS;
  }
  RT_CHECK(false && "not a RequestKind");
  return proto::KIND_UNSPECIFIED;
}

proto::MessageKind ReplyKindOf(RequestKind request) {
  switch (request) {
    case RequestKind::kPush:
      return proto::PUSH_ACK;
    case RequestKind::kPull:
      return proto::PULL_REPLY;
    case RequestKind::kWorkerDone:
      return proto::DONE_ACK;
    case RequestKind::kStats:
      return proto::STATS_REPLY;
    case RequestKind::kJoin:
      return proto::JOIN_REPLY;
    case RequestKind::kTask:
      return proto::TASK_REPLY;
    case RequestKind::kMargins:
      return proto::MARGINS_REPLY;
  }
  RT_CHECK(false && "not a RequestKind");
  return proto::KIND_UNSPECIFIED;
}

int SparseFramesPerSlice(proto::MessageKind kind) {
  switch (kind) {
    case proto::PUSH:
      return 2;
    case proto::PULL:
    case proto::PULL_REPLY:
      return 1;
    case proto::KIND_UNSPECIFIED:
    case proto::PUSH_ACK:
    case proto::WORKER_DONE:
    case proto::DONE_ACK:
    case proto::STATS:
    case proto::STATS_REPLY:
    case proto::ERROR:
    case proto::JOIN:
    case proto::JOIN_REPLY:
    case proto::REPLICA_ACK:
    case proto::REPLICA_SYNC:
    case proto::REPLICA_FETCH:
    case proto::REPLICA_STATE:
    case proto::REPLICA_EXCLUDE:
    case proto::REPLICA_TAKEOVER:
    case proto::NOT_SERVING:
    case proto::TASK:
    case proto::TASK_REPLY:
    case proto::MARGINS:
    case proto::MARGINS_REPLY:
    case proto::MessageKind_INT_MIN_SENTINEL_DO_NOT_USE_:
    case proto::MessageKind_INT_MAX_SENTINEL_DO_NOT_USE_:
      return 0;
  }
  return 0;  // not an enumerator
}

bool CarriesPayload(proto::MessageKind kind) {
  switch (kind) {
    case proto::PUSH:
    case proto::PULL_REPLY:
      return true;
    case proto::KIND_UNSPECIFIED:
    case proto::PUSH_ACK:
    case proto::PULL:
    case proto::WORKER_DONE:
    case proto::DONE_ACK:
    case proto::STATS:
    case proto::STATS_REPLY:
    case proto::ERROR:
    case proto::JOIN:
    case proto::JOIN_REPLY:
    case proto::REPLICA_ACK:
    case proto::REPLICA_SYNC:  // frames described by Header.replica.state (CarriesShardState)
    case proto::REPLICA_FETCH:
    case proto::REPLICA_STATE:  // likewise
    case proto::REPLICA_EXCLUDE:
    case proto::REPLICA_TAKEOVER:
    case proto::NOT_SERVING:
    case proto::TASK:
    case proto::TASK_REPLY:
    case proto::MARGINS:  // one frame described by Header.margin_rows/cols (CarriesMargins)
    case proto::MARGINS_REPLY:
    case proto::MessageKind_INT_MIN_SENTINEL_DO_NOT_USE_:
    case proto::MessageKind_INT_MAX_SENTINEL_DO_NOT_USE_:
      return false;
  }
  return false;  // not an enumerator
}

bool CarriesShardState(proto::MessageKind kind) {
  return kind == proto::REPLICA_SYNC || kind == proto::REPLICA_STATE;
}

size_t ShardStateFrames(const proto::ShardStateMeta& meta) {
  const size_t partitions = 3 * static_cast<size_t>(meta.partitions_size());
  if (!meta.has_sparse()) return partitions;
  return partitions + 5 * static_cast<size_t>(meta.sparse().tables_size()) + 1;
}

bool CarriesMargins(proto::MessageKind kind) {
  return kind == proto::MARGINS || kind == proto::MARGINS_REPLY;
}

bool IsReplication(proto::MessageKind kind) {
  switch (kind) {
    case proto::REPLICA_ACK:
    case proto::REPLICA_SYNC:
    case proto::REPLICA_FETCH:
    case proto::REPLICA_STATE:
    case proto::REPLICA_EXCLUDE:
    case proto::REPLICA_TAKEOVER:
      return true;
    default:
      return false;
  }
}

std::string KindName(proto::MessageKind kind) {
  // MessageKind_Name answers "" for a value outside the enum.
  if (!proto::MessageKind_IsValid(kind)) return "kind " + std::to_string(static_cast<int>(kind));
  return proto::MessageKind_Name(kind);
}

std::string KindName(RequestKind request) { return KindName(KindOf(request)); }

}  // namespace ringtrain::transport
