#include "ringtrain/ring/sparse_placement.h"

#include <unordered_set>

#include "ringtrain/common/check.h"
#include "ringtrain/common/hash.h"

namespace ringtrain::ring {

uint32_t SparseBucketOf(uint64_t key, uint32_t buckets) {
  RT_CHECK(buckets >= 1);
  // A salt of its own, so that the buckets do not line up with the segments of a server's
  // table (ps/sparse_table.h), which hash the same keys.
  const uint64_t mixed = Fmix64(key ^ 0xa0761d6478bd642fULL);
  return static_cast<uint32_t>(ScaleToRange(mixed, buckets));
}

StatusOr<SparsePlacement> SparsePlacement::Build(std::vector<SparseTableSpec> tables,
                                                 const HashRing& ring) {
  std::unordered_set<std::string> names;
  for (size_t i = 0; i < tables.size(); ++i) {
    const SparseTableSpec& t = tables[i];
    const std::string label = "sparse tables[" + std::to_string(i) + "] '" + t.name + "'";
    if (t.name.empty()) return InvalidArgument(label + ": empty name");
    if (!names.insert(t.name).second) return InvalidArgument(label + ": duplicate name");
    if (t.dim < 1 || t.dim > kMaxSparseDim) {
      return InvalidArgument(label + ": dim must be in [1, " + std::to_string(kMaxSparseDim) +
                             "] (got " + std::to_string(t.dim) + ")");
    }
    if (t.key_limit == 0) return InvalidArgument(label + ": key_limit must be >= 1");
    if (t.buckets < 1 || t.buckets > kMaxSparseBuckets) {
      return InvalidArgument(label + ": buckets must be in [1, " +
                             std::to_string(kMaxSparseBuckets) + "] (got " +
                             std::to_string(t.buckets) + ")");
    }
  }
  SparsePlacement placement;
  Hasher h;
  h.AddString("ringtrain.sparse_placement.v1").AddU64(tables.size());
  for (const SparseTableSpec& t : tables) {
    std::vector<int> servers(t.buckets);
    h.AddString(t.name).AddI64(t.dim).AddU64(t.key_limit).AddU64(t.buckets);
    for (uint32_t b = 0; b < t.buckets; ++b) {
      servers[b] = ring.OwnerIndexOfKey(t.name + "#bucket" + std::to_string(b));
      h.AddI64(servers[b]);
    }
    placement.bucket_servers_.push_back(std::move(servers));
  }
  placement.fingerprint_ = tables.empty() ? 0 : h.Finish();
  placement.tables_ = std::move(tables);
  return placement;
}

int SparsePlacement::ServerOf(uint32_t table, uint64_t key) const {
  RT_CHECK(table < tables_.size() && key < tables_[table].key_limit);
  return bucket_servers_[table][SparseBucketOf(key, tables_[table].buckets)];
}

const std::vector<int>& SparsePlacement::bucket_servers(uint32_t table) const {
  RT_CHECK(table < tables_.size());
  return bucket_servers_[table];
}

}  // namespace ringtrain::ring
