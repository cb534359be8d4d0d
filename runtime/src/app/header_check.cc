#include "ringtrain/app/header_check.h"

#include <cstdint>
#include <string>

#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/transport/message.h"
#include "ringtrain/transport/shared_segment.h"

namespace ringtrain::app {
namespace {

// A partition's version counts the updates applied to it: 2^35 is beyond a billion steps a day
// for 30 years.
constexpr int64_t kLargestVersion = int64_t{1} << 35;

}  // namespace

size_t LargestPartitionListBytes(const ring::PartitionTable& table, int* server,
                                 size_t* partitions) {
  size_t largest = 0;
  int largest_server = 0;
  for (int s = 0; s < table.num_servers(); ++s) {
    // A shared segment holds the server's partitions, each at an offset below its size.
    uint64_t share_bytes = 0;
    for (uint32_t id : table.partitions_of(s)) {
      share_bytes += static_cast<uint64_t>(table.partition(id).size) * sizeof(float);
    }
    proto::Header h;
    for (uint32_t id : table.partitions_of(s)) {
      const auto n = static_cast<uint64_t>(table.partition(id).size);
      proto::PartitionSlice* slice = h.add_partitions();
      slice->set_id(id);
      slice->set_num_elements(n);
      slice->set_payload_bytes(2 * n * sizeof(float));  // above any codec's (top-k's pairs)
      slice->set_version(kLargestVersion);
      slice->set_shared(true);
      slice->set_shared_offset(share_bytes + transport::kSegmentDataOffset);
    }
    const size_t bytes = h.ByteSizeLong();
    if (bytes > largest || s == 0) {
      largest = bytes;
      largest_server = s;
    }
  }
  if (server != nullptr) *server = largest_server;
  if (partitions != nullptr) {
    *partitions = table.num_servers() == 0 ? 0 : table.partitions_of(largest_server).size();
  }
  return largest;
}

Status CheckHeadersFit(const ring::PartitionTable& table) {
  int server = 0;
  size_t count = 0;
  const size_t bytes = LargestPartitionListBytes(table, &server, &count);
  if (bytes + kHeaderReserveBytes <= transport::kMaxHeaderBytes) return Status::Ok();
  return InvalidArgument(
      "parameterServers.partitionSize: " + std::to_string(table.partition_size()) +
      " elements puts " + std::to_string(count) + " partitions on parameter server " +
      std::to_string(server) + "; a pull of them needs a message header of up to " +
      std::to_string(bytes + kHeaderReserveBytes) + " bytes, and receivers take at most " +
      std::to_string(transport::kMaxHeaderBytes));
}

}  // namespace ringtrain::app
