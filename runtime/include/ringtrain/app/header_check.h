// Refusing, when the job is planned, a partition table whose messages could not be received.
//
// A whole pull, and its reply, list every partition of a server in one Protobuf header, and
// every receiver refuses a header over transport::kMaxHeaderBytes before parsing it
// (transport/message.h). A model cut into many small partitions on few servers (an 11.6M-parameter
// MLP at partitionSize 1024 on 2 servers: 5,678 partitions, a 100 KB header) would start its
// processes and fail at the workers' first pull with "header frame ... exceeds the limit". The
// plan checks instead, with the largest header a server's partition list can make, and names
// the field to change.
#ifndef RINGTRAIN_APP_HEADER_CHECK_H_
#define RINGTRAIN_APP_HEADER_CHECK_H_

#include <cstddef>

#include "ringtrain/common/status.h"
#include "ringtrain/ring/partition_table.h"

namespace ringtrain::app {

// What a header carries besides its partition list, at most: the job's name (a Kubernetes name,
// at most 253 bytes), the shared segment, clocks and counters, the sparse tables' slices, an
// error's text.
inline constexpr size_t kHeaderReserveBytes = 8 * 1024;

// The largest partition list of one server, as bytes of a serialized header: each of its
// partitions with every field a message may set, at its widest (a payload twice float32's, a
// version of 2^35 updates, an offset past the server's whole share of shared memory). *server receives
// that server's index and *partitions its partition count (both optional).
size_t LargestPartitionListBytes(const ring::PartitionTable& table, int* server = nullptr,
                                 size_t* partitions = nullptr);

// OK when LargestPartitionListBytes + kHeaderReserveBytes <= transport::kMaxHeaderBytes; else
// InvalidArgument naming parameterServers.partitionSize, the server and the sizes.
[[nodiscard]] Status CheckHeadersFit(const ring::PartitionTable& table);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_HEADER_CHECK_H_
