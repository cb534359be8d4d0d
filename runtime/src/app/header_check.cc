#include "ringtrain/app/header_check.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "ringtrain/job/spec.h"
#include "ringtrain/model/model.h"
#include "ringtrain/model/sparse_model.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/consistency.h"
#include "ringtrain/transport/message.h"
#include "ringtrain/transport/shared_segment.h"

namespace ringtrain::app {
namespace {

// Versions, optimizer steps, clocks and round samples count updates, steps or samples: 2^35 is
// over a year at a thousand steps a second.
constexpr int64_t kLargestCount = int64_t{1} << 35;

// Floats of optimizer state per parameter, at most (Adam's two slots, and more).
constexpr uint64_t kLargestStateSlots = 4;

uint64_t AlignedBytes(uint64_t floats) {
  const uint64_t a = transport::kSharedAlignment;
  return (floats * sizeof(float) + a - 1) / a * a;
}

// A pull's (or its reply's, or a push's) partition list for server s.
size_t PartitionListBytes(const ring::PartitionTable& table, int s, bool shared_memory,
                          uint64_t segment_bytes) {
  proto::Header h;
  for (const uint32_t id : table.partitions_of(s)) {
    const auto n = static_cast<uint64_t>(table.partition(id).size);
    proto::PartitionSlice* slice = h.add_partitions();
    slice->set_id(id);
    slice->set_num_elements(n);
    slice->set_payload_bytes(2 * n * sizeof(float));  // above any codec's (top-k's pairs)
    slice->set_version(kLargestCount);
    if (shared_memory) {
      slice->set_shared(true);
      slice->set_shared_offset(segment_bytes);
    }
  }
  return h.ByteSizeLong();
}

// A copy of server s's shard (ps/replica_wire.h: EncodeShardState's ShardStateMeta) in the
// middle of a round: every partition's round in progress and, with `partial` (streamed rounds),
// every worker's push partly in.
size_t ShardStateBytes(const ring::PartitionTable& table, int s, int workers, bool partial) {
  proto::Header h;
  proto::ShardStateMeta* meta = h.mutable_replica()->mutable_state();
  for (const uint32_t id : table.partitions_of(s)) {
    const auto n = static_cast<uint64_t>(table.partition(id).size);
    proto::ShardStateMeta::Partition* p = meta->add_partitions();
    p->set_id(id);
    p->set_version(kLargestCount);
    p->set_optimizer_steps(kLargestCount);
    p->set_params(n);
    p->set_optimizer_state(kLargestStateSlots * n);
    p->set_accum(n);
    p->set_round_pushes(static_cast<uint32_t>(workers));
    p->set_round_samples(kLargestCount);
    p->set_round_learning_rate(1.0f);
  }
  for (int w = 0; w < workers; ++w) {
    proto::ShardStateMeta::Worker* m = meta->add_workers();
    m->set_clock(kLargestCount);
    m->set_done(true);
    m->set_excluded(true);
    if (!partial) continue;
    for (const uint32_t id : table.partitions_of(s)) m->add_partial(id);
  }
  return h.ByteSizeLong();
}

// The plan with its table cut at another partition size.
StatusOr<JobPlan> WithPartitionSize(const JobPlan& plan, int64_t size) {
  JobPlan other = plan;
  if (plan.sparse_model.has_value()) {
    RT_ASSIGN_OR_RETURN(std::unique_ptr<model::SparseModel> m,
                        model::MakeSparseModel(*plan.sparse_model));
    RT_ASSIGN_OR_RETURN(other.table, MakeSparsePartitionTable(*m, plan.num_ps, size));
  } else {
    RT_ASSIGN_OR_RETURN(std::unique_ptr<model::Model> m, model::MakeModel(plan.model));
    RT_ASSIGN_OR_RETURN(other.table, MakePartitionTable(*m, plan.num_ps, size));
  }
  return other;
}

bool Fits(size_t bytes) { return bytes + kHeaderReserveBytes <= transport::kMaxHeaderBytes; }

}  // namespace

size_t LargestHeaderBytes(const JobPlan& plan, bool shared_memory, int* server) {
  const ring::PartitionTable& table = *plan.table;
  const bool sync = plan.consistency == ps::Consistency::kSync;
  // Partitions travel through shared memory only in sync mode (pulls ask for it, and pushes of
  // CODEC_NONE go through it, only there).
  const bool shared = shared_memory && sync;
  // A push comes in parts only in a sync round of a dense model whose pushes are chunked
  // (ServerCore::ValidateStreaming, PsClient::ShapeOf).
  const bool partial =
      sync && plan.push_chunk_bytes > 0 && !plan.sparse_model.has_value() && !plan.feature_sharding;
  // A worker's push segment holds the whole model, each partition aligned.
  uint64_t segment_bytes = transport::kSegmentDataOffset;
  for (const ring::Partition& p : table.partitions()) {
    segment_bytes += AlignedBytes(static_cast<uint64_t>(p.size));
  }
  size_t largest = 0;
  int largest_server = 0;
  for (int s = 0; s < table.num_servers(); ++s) {
    size_t bytes = PartitionListBytes(table, s, shared, segment_bytes);
    if (plan.replication > 0) {
      bytes = std::max(bytes, ShardStateBytes(table, s, plan.num_workers, partial));
    }
    if (bytes > largest) {
      largest = bytes;
      largest_server = s;
    }
  }
  if (server != nullptr) *server = largest_server;
  return largest;
}

Status CheckHeadersFit(const JobPlan& plan, bool shared_memory) {
  int server = 0;
  const size_t bytes = LargestHeaderBytes(plan, shared_memory, &server);
  if (Fits(bytes)) return Status::Ok();
  const ring::PartitionTable& table = *plan.table;
  const bool one_host = shared_memory && plan.consistency == ps::Consistency::kSync;
  std::string why =
      "spec.parameterServers.partitionSize: " + std::to_string(table.partition_size()) +
      " elements puts " + std::to_string(table.partitions_of(server).size()) +
      " partitions on parameter server " + std::to_string(server) + "; a message listing them " +
      (plan.replication > 0 ? "(a pull, or its shard's copy for replication) " : "(a pull) ") +
      "may need a header of up to " + std::to_string(bytes + kHeaderReserveBytes) + " bytes" +
      (one_host ? " (on one host: each partition with its place in shared memory)" : "") +
      ", and receivers take at most " + std::to_string(transport::kMaxHeaderBytes);
  // The smallest doubling of the size whose partitions fit, as advice.
  for (int64_t size = table.partition_size() * 2; size <= job::kMaxPartitionSize; size *= 2) {
    StatusOr<JobPlan> larger = WithPartitionSize(plan, size);
    if (larger.ok() && Fits(LargestHeaderBytes(*larger, shared_memory))) {
      return InvalidArgument(why + ": use a partitionSize of " + std::to_string(size) +
                             " or more, or more spec.parameterServers.replicas");
    }
  }
  return InvalidArgument(why + ": use more spec.parameterServers.replicas");
}

}  // namespace ringtrain::app
