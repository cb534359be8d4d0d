#include "ringtrain/ring/partition_table.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "ringtrain/common/check.h"
#include "ringtrain/common/hash.h"

namespace ringtrain::ring {
namespace {

std::string TensorLabel(size_t i, const TensorSpan& t) {
  return "tensors[" + std::to_string(i) + "] '" + t.name + "'";
}

Status ValidateTensors(const std::vector<TensorSpan>& tensors, int64_t partition_size) {
  if (partition_size < 1) {
    return InvalidArgument("partition table: partition_size must be >= 1 (got " +
                           std::to_string(partition_size) + ")");
  }
  if (tensors.empty()) return InvalidArgument("partition table: no tensors");
  std::unordered_set<std::string_view> names;
  int64_t end = 0;  // where the previous tensor ended
  uint64_t num_partitions = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorSpan& t = tensors[i];
    const std::string label = "partition table: " + TensorLabel(i, t);
    if (t.name.empty()) return InvalidArgument(label + ": empty name");
    if (!names.insert(t.name).second) return InvalidArgument(label + ": duplicate name");
    if (t.size < 1) {
      return InvalidArgument(label + ": size must be >= 1 (got " + std::to_string(t.size) + ")");
    }
    if (t.offset != end) {
      const std::string prev =
          i == 0 ? std::string("the start (0)")
                 : TensorLabel(i - 1, tensors[i - 1]) + " ending at " + std::to_string(end);
      return InvalidArgument(label + ": offset " + std::to_string(t.offset) +
                             (t.offset < end ? " overlaps " : " leaves a gap after ") + prev +
                             "; tensors must be listed in offset order, contiguous from 0");
    }
    if (t.size > std::numeric_limits<int64_t>::max() - t.offset) {
      return InvalidArgument(label + ": offset + size overflows int64");
    }
    end = t.offset + t.size;
    num_partitions += static_cast<uint64_t>((t.size - 1) / partition_size + 1);
    if (num_partitions > std::numeric_limits<uint32_t>::max()) {
      return InvalidArgument(label + ": more than 2^32-1 partitions; raise partition_size");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<PartitionTable> PartitionTable::Build(const std::vector<TensorSpan>& tensors,
                                               int64_t partition_size, const HashRing& ring,
                                               std::vector<SparseTableSpec> sparse_tables) {
  RT_RETURN_IF_ERROR(ValidateTensors(tensors, partition_size));
  StatusOr<SparsePlacement> sparse = SparsePlacement::Build(std::move(sparse_tables), ring);
  if (!sparse.ok()) return sparse.status();

  PartitionTable table;
  table.servers_ = ring.servers();
  table.partition_size_ = partition_size;
  table.by_server_.resize(ring.servers().size());
  uint32_t next_id = 0;
  for (const TensorSpan& t : tensors) {
    for (int64_t chunk = 0, begin = 0; begin < t.size; ++chunk, begin += partition_size) {
      Partition p;
      p.id = next_id++;
      p.key = t.name + "/" + std::to_string(chunk);
      p.offset = t.offset + begin;
      p.size = std::min(partition_size, t.size - begin);
      p.server = ring.OwnerIndexOfKey(p.key);
      table.by_server_[p.server].push_back(p.id);  // ids ascend as they are assigned
      table.partitions_.push_back(std::move(p));
    }
    table.total_size_ += t.size;
  }

  // Version tag first, so that a future change of what is hashed cannot collide with this one.
  Hasher h;
  h.AddString("ringtrain.partition_table.v1").AddI64(partition_size);
  h.AddU64(table.servers_.size());
  for (const std::string& id : table.servers_) h.AddString(id);
  h.AddU64(table.partitions_.size());
  for (const Partition& p : table.partitions_) {
    h.AddString(p.key).AddI64(p.offset).AddI64(p.size).AddI64(p.server);
  }
  // Dense layouts keep the fingerprint they always had.
  if (!sparse->empty()) h.AddU64(sparse->fingerprint());
  table.fingerprint_ = h.Finish();
  table.sparse_ = std::move(*sparse);
  return table;
}

const Partition& PartitionTable::partition(uint32_t id) const {
  RT_CHECK(id < partitions_.size());
  return partitions_[id];
}

const std::vector<uint32_t>& PartitionTable::partitions_of(int server) const {
  RT_CHECK(server >= 0 && server < num_servers());
  return by_server_[server];
}

}  // namespace ringtrain::ring
