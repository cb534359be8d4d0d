// SparsePlacement: where the keys of a model's sparse tables live.
//
// A sparse table (an embedding table, the weights of a hashed linear model) maps 64-bit keys in
// [0, key_limit) to rows of `dim` floats. Its keys are cut into `buckets` hash buckets:
// SparseBucketOf(key, buckets) = the high bits of Fmix64(key ^ salt) scaled to [0, buckets), so
// keys spread evenly whatever their pattern (sequential ids, field-tagged hashes). Bucket b of
// table "t" is placed on the ring (hash_ring.h) as the key "t#bucket<b>", as a dense partition
// is, so adding a server moves only the buckets the ring gives it, and every process computes
// the same owner for every key from the server list alone.
//
// fingerprint() hashes the tables and every bucket's server; PartitionTable folds it into the
// layout fingerprint peers compare, so a worker and a server that disagree on a table's shape
// or placement refuse each other's messages.
//
// Immutable after Build; a value type; safe to read from any number of threads at once.
#ifndef RINGTRAIN_RING_SPARSE_PLACEMENT_H_
#define RINGTRAIN_RING_SPARSE_PLACEMENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/ring/hash_ring.h"

namespace ringtrain::ring {

inline constexpr uint32_t kDefaultSparseBuckets = 4096;
inline constexpr uint32_t kMaxSparseBuckets = uint32_t{1} << 20;
inline constexpr int kMaxSparseDim = 4096;

struct SparseTableSpec {
  std::string name;  // e.g. "embedding"; unique among the model's tables
  int dim = 1;       // floats per key, in [1, kMaxSparseDim]
  // Keys are in [0, key_limit), key_limit >= 1: so 2^64 - 1, the free-slot marker of the
  // servers' tables (ps/sparse_table.h), is never a key.
  uint64_t key_limit = 0;
  uint32_t buckets = kDefaultSparseBuckets;  // in [1, kMaxSparseBuckets]
};

// The bucket of `key` among `buckets`. Part of the protocol between peers (changing it moves
// every key). REQUIRES: buckets >= 1.
uint32_t SparseBucketOf(uint64_t key, uint32_t buckets);

class SparsePlacement {
 public:
  // No tables: every lookup is out of range; fingerprint() is 0.
  SparsePlacement() = default;

  // Errors (InvalidArgument naming the table by index and name): an empty or duplicate name, a
  // dim, key_limit or bucket count out of range.
  [[nodiscard]] static StatusOr<SparsePlacement> Build(std::vector<SparseTableSpec> tables,
                                                       const HashRing& ring);

  const std::vector<SparseTableSpec>& tables() const { return tables_; }
  bool empty() const { return tables_.empty(); }

  // The server (index into the ring's list) holding `key` of table `table`.
  // REQUIRES: table < tables().size(), key < that table's key_limit.
  int ServerOf(uint32_t table, uint64_t key) const;
  // The server of every bucket of `table`, by bucket. REQUIRES: table < tables().size().
  const std::vector<int>& bucket_servers(uint32_t table) const;

  uint64_t fingerprint() const { return fingerprint_; }

 private:
  std::vector<SparseTableSpec> tables_;
  std::vector<std::vector<int>> bucket_servers_;  // [table][bucket]
  uint64_t fingerprint_ = 0;
};

}  // namespace ringtrain::ring

#endif  // RINGTRAIN_RING_SPARSE_PLACEMENT_H_
