// Refusing, before a job's processes train, a partition table whose messages could not be
// received.
//
// Every receiver refuses a Protobuf header over transport::kMaxHeaderBytes before parsing it
// (transport/message.h), and some headers grow with a server's partitions: a whole pull and its
// reply list every partition of the server, and with replication a shard's copy
// (REPLICA_SYNC, REPLICA_STATE) lists each partition's counters and each worker's partly pushed
// partitions (ShardStateMeta). A model cut into many small partitions on few servers (an
// 11.6M-parameter MLP at partitionSize 1024 on 2 servers: 5,796 partitions, a 103,822-byte
// pull reply) would start its processes and fail at the workers' first pull with "header
// frame ... exceeds the limit". `ringtrain run` checks before it starts anything, and each
// server and worker when it starts (the operator does not read the data that sizes the model),
// naming the field to change. Offline uses of a plan (exporting a model from checkpoints) do
// not check: they send nothing.
#ifndef RINGTRAIN_APP_HEADER_CHECK_H_
#define RINGTRAIN_APP_HEADER_CHECK_H_

#include <cstddef>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/common/status.h"

namespace ringtrain::app {

// What a header carries besides the lists above, at most: the job's name (at most
// job::kMaxJobNameLength bytes), a shared segment, clocks and counters, replica and detour
// fields, the sparse tables' slices, an error's text.
inline constexpr size_t kHeaderReserveBytes = 8 * 1024;

// The largest of those lists over the plan's servers, as bytes of a serialized header, each
// field at its widest: a payload twice float32's, versions, steps and clocks of 2^35, sample
// counts of 2^35, offsets past a segment of the whole model; the shared-memory fields only with
// `shared_memory` (every endpoint on this host) in sync mode, where partitions travel so; the
// shard's copy only with replication, with every worker's push partly in where pushes come in
// parts (sync, dense, chunked). *server (optional) receives the server whose messages need it.
size_t LargestHeaderBytes(const JobPlan& plan, bool shared_memory, int* server = nullptr);

// OK when LargestHeaderBytes + kHeaderReserveBytes <= transport::kMaxHeaderBytes. Else
// InvalidArgument naming spec.parameterServers.partitionSize, the server, its partitions and the
// sizes, with the smallest doubling of the partition size that fits (or, when none does, more
// parameterServers.replicas).
[[nodiscard]] Status CheckHeadersFit(const JobPlan& plan, bool shared_memory);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_HEADER_CHECK_H_
