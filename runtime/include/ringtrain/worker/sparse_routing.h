// Sparse routing: a worker's keys of one step split among the servers that own them.
//
// A worker pulls the rows of its batch's keys and pushes their gradients (ps/sparse_shard.h).
// The keys of each sparse table (deduplicated and ascending: model code produces them so) are
// cut by owner (ring::SparsePlacement::ServerOf) into one SparsePart per server, each slice with
// its keys frame and, for a push, its values frame, ready to follow the partitions' frames of
// that server's PULL or PUSH. For a pull the part remembers where each key came from, so that
// the reply's rows land at the caller's positions (ScatterReply), once CheckReply has found the
// reply to be the answer to exactly this part.
//
// Thread-safety: values; no shared state.
#ifndef RINGTRAIN_WORKER_SPARSE_ROUTING_H_
#define RINGTRAIN_WORKER_SPARSE_ROUTING_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/compress/codec.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ring/sparse_placement.h"
#include "ringtrain/transport/message.h"

namespace ringtrain::worker {

// Keys to pull from a sparse table and where their rows go.
struct SparseRows {
  uint32_t table = 0;
  std::span<const uint64_t> keys;  // strictly ascending, each below the table's key_limit
  std::span<float> values;         // keys.size() x dim floats, row-major (written by the pull)
};

// Gradients to push to a sparse table's rows.
struct SparseGradient {
  uint32_t table = 0;
  std::span<const uint64_t> keys;  // strictly ascending, each below the table's key_limit
  std::span<const float> values;   // keys.size() x dim floats, row-major
};

// One server's share of a step's keys.
struct SparsePart {
  struct Slice {
    uint32_t table = 0;
    uint32_t dim = 1;                 // the table's
    uint32_t source = 0;              // index of the SparseRows / SparseGradient it came from
    std::vector<uint32_t> positions;  // pulls: the index of each key in the source's keys
    zmq::message_t keys;              // num_keys little-endian uint64
    zmq::message_t values;            // pushes: num_keys x dim values, as value_codec says
    compress::CodecSpec value_codec;  // pushes: kNone (float32), kFp16 or kInt8
  };
  std::vector<Slice> slices;  // ascending table order, no empty slice
  bool empty() const { return slices.empty(); }
};

// The parts of `rows` per server (result[s] for server s of `num_servers`).
// REQUIRES: every table index is < placement.tables().size(), each table appears once, keys
// as documented, values of keys.size() x dim floats.
std::vector<SparsePart> RouteRows(const ring::SparsePlacement& placement, int num_servers,
                                  std::span<const SparseRows> rows);
// Each slice's values are encoded with `codec`: kNone (float32), kFp16, or kInt8 with a scale
// per key's row (the block is the table's dim, whatever codec.block says: a key's gradient is
// scaled by its own row's largest value, never by another key's, and the encoding does not
// depend on how keys fall on servers). InvalidArgument for another codec, or (kInt8) a
// gradient that is not finite.
StatusOr<std::vector<SparsePart>> RouteGradients(const ring::SparsePlacement& placement,
                                                 int num_servers,
                                                 std::span<const SparseGradient> gradients,
                                                 const compress::CodecOptions& codec = {});

// Adds the part's slices to a PULL (keys frames) or a PUSH (keys and values frames, computed
// at `version`), sharing the part's frames.
void AddPullSlices(SparsePart& part, proto::Header* header, std::vector<zmq::message_t>* frames);
void AddPushSlices(SparsePart& part, int64_t version, proto::Header* header,
                   std::vector<zmq::message_t>* frames);

// DataLoss, naming `who`, unless the PULL_REPLY `reply` answers exactly `part` (the same tables,
// key counts and dims, in order) at a version >= least; *version receives its smallest.
Status CheckReply(const SparsePart& part, const transport::Message& reply, int64_t least,
                  const std::string& who, int64_t* version);
// Copies the reply's rows to their positions in `rows`. REQUIRES: CheckReply passed.
void ScatterReply(const SparsePart& part, const transport::Message& reply,
                  std::span<const SparseRows> rows);

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_WORKER_SPARSE_ROUTING_H_
