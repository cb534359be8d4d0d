// PartitionTable: the model cut into partitions, each placed on a parameter server.
//
// The model is a list of tensors laid out back to back in one flat float vector. Build() cuts
// each tensor into chunks of at most `partition_size` elements (a partition never spans two
// tensors; only a tensor's last chunk may be shorter), numbers the partitions 0..P-1 in
// tensor order then chunk order, names each "<tensor>/<chunk>" and places it on the server
// that owns Hash64(name) on the ring (hash_ring.h). Because placement depends on the names,
// not on P or on neighbouring tensors, a change of servers moves only what the ring moves.
//
// A model may also have sparse tables (embeddings, hashed linear weights): their keys live in
// hash buckets placed on the same ring (sparse_placement.h), which sparse() describes.
//
// fingerprint() is a stable hash (hash.h) of the server ids and of every partition's key,
// offset, size and server, in id order, and of sparse().fingerprint() when there are sparse
// tables. Peers exchange it to check they computed the same
// table; two tables with equal fingerprints are, for all practical purposes, equal.
//
// Immutable after Build; a value type; safe to read from any number of threads at once.
#ifndef RINGTRAIN_RING_PARTITION_TABLE_H_
#define RINGTRAIN_RING_PARTITION_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/ring/sparse_placement.h"

namespace ringtrain::ring {

// A named tensor occupying [offset, offset + size) of the flat parameter vector.
struct TensorSpan {
  std::string name;
  int64_t offset = 0;
  int64_t size = 0;
};

struct Partition {
  uint32_t id = 0;
  std::string key;     // "<tensor>/<chunk>"
  int64_t offset = 0;  // in the flat parameter vector
  int64_t size = 0;    // in [1, partition_size]
  int server = 0;      // index into the ring's server list
};

class PartitionTable {
 public:
  // Errors (InvalidArgument, naming the tensor by index and name):
  //   partition_size < 1; no tensors; an empty or duplicate tensor name; size < 1; tensors that
  //   are not listed in offset order contiguous from 0 (a gap or an overlap); more than 2^32-1
  //   partitions; and SparsePlacement::Build's errors for `sparse_tables`.
  [[nodiscard]] static StatusOr<PartitionTable> Build(
      const std::vector<TensorSpan>& tensors, int64_t partition_size, const HashRing& ring,
      std::vector<SparseTableSpec> sparse_tables = {});

  // All partitions; partitions()[i].id == i.
  const std::vector<Partition>& partitions() const { return partitions_; }
  // REQUIRES: id < partitions().size()
  const Partition& partition(uint32_t id) const;
  // Ids of the partitions placed on `server`, ascending.
  // REQUIRES: 0 <= server < num_servers()
  const std::vector<uint32_t>& partitions_of(int server) const;

  const std::vector<std::string>& servers() const { return servers_; }
  int num_servers() const { return static_cast<int>(servers_.size()); }
  int64_t partition_size() const { return partition_size_; }
  // Number of parameters (sum of the tensor sizes).
  int64_t total_size() const { return total_size_; }
  uint64_t fingerprint() const { return fingerprint_; }
  // The sparse tables and the servers of their buckets (empty for a dense model).
  const SparsePlacement& sparse() const { return sparse_; }

 private:
  PartitionTable() = default;

  std::vector<std::string> servers_;
  std::vector<Partition> partitions_;
  std::vector<std::vector<uint32_t>> by_server_;
  int64_t partition_size_ = 0;
  int64_t total_size_ = 0;
  uint64_t fingerprint_ = 0;
  SparsePlacement sparse_;
};

}  // namespace ringtrain::ring

#endif  // RINGTRAIN_RING_PARTITION_TABLE_H_
