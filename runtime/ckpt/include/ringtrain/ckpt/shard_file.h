// The shard file: a ShardState in binary, the data of one checkpoint (shard.bin).
//
// Layout (little-endian; floats are IEEE-754 binary32 as the host holds them):
//   header   8 bytes "RTCKSHRD", u32 format version (1), u32 state slots, u64 partitions,
//            u64 workers
//   per partition, ascending id:
//            u32 id, u32 flags (bit 0: a sync round is in progress, its accumulator follows),
//            i64 size, i64 version, i64 optimizer steps, u64 round samples, u32 round pushes,
//            f32 round learning rate,
//            f32 params[size], f32 optimizer_state[slots * size], f32 accum[size] if bit 0
//   workers  8 bytes "RTCKWRKS", then per worker: i64 clock, u64 flags (bit 0: done)
//   sparse   only for a sparse model (ShardIdentity::sparse_dims): 8 bytes "RTCKSPRS",
//            i64 version, u64 round samples, u32 round pushes, f32 round learning rate,
//            u32 clock, u32 flags (bit 0: rows carry their last-update steps), u64 tables,
//            u64 admission sketch bytes; per table: u32 dim, u32 0, u64 rows, u64 round keys,
//            u64 keys[rows], f32 rows[rows x (1 + slots) x dim], u32 steps[rows] if bit 0,
//            u64 round keys[..], f32 round sums[round keys x dim]; then the sketch's bytes
//   queue    only on the server keeping the data queue (dynamic sharding): 8 bytes "RTCKQUEU",
//            i64 tasks, epochs, epoch, next, u64 handed out, finished, requeued, finished
//            again, u64 leased, u64 returned, then per lease (leased, then returned):
//            i64 epoch, i64 position, i64 worker (-1: none)
// The manifest (manifest.h) holds the file's size and CRC-32.
//
// Reading trusts nothing in the file: its size must be the manifest's before a byte is read;
// every count and size in it must equal what the reader expects (ShardIdentity: slots, workers,
// each partition's id and size) before anything is allocated for it, and must fit in what is
// left of the file; and the CRC-32 of all of it must be the manifest's. So a truncated, padded
// or damaged file, or one of another layout, is DataLoss naming the file and what is wrong,
// never an out-of-bounds read or a huge allocation.
//
// Thread-safety: pure functions of their arguments; distinct files may be read and written
// concurrently.
#ifndef RINGTRAIN_CKPT_SHARD_FILE_H_
#define RINGTRAIN_CKPT_SHARD_FILE_H_

#include <string>

#include "ringtrain/ckpt/manifest.h"
#include "ringtrain/ckpt/shard_identity.h"
#include "ringtrain/ckpt/shard_state.h"
#include "ringtrain/common/status.h"

namespace ringtrain::ckpt {

inline constexpr char kShardFileName[] = "shard.bin";

// OK if `state` is a state of the shard `id` describes: the same partitions (ids, sizes), each
// with state_slots * size optimizer floats and an accumulator of its size or none, one clock
// per worker, and sparse tables exactly when id.sparse_dims says, each of its dim with whole
// rows (and steps for all rows or none, whole round sums). Else InvalidArgument naming the
// partition, worker or table. Keys are not checked here (their owner is: SparseShard::Restore).
[[nodiscard]] Status CheckStateFits(const ShardState& state, const ShardIdentity& id);

// Writes `state` as a new file at `path` (which must not exist) and fsyncs it; returns its
// entry (name kShardFileName). InvalidArgument if the state does not fit `id` (CheckStateFits);
// Unavailable naming the path if the file system fails.
StatusOr<FileEntry> WriteShardFile(const std::string& path, const ShardState& state,
                                   const ShardIdentity& id);

// Reads the shard file at `path` described by `entry` (size and CRC-32 from the manifest) for
// the shard `expected`. NotFound if it is missing; DataLoss naming the path and the problem
// (size, a field that does not match `expected`, the checksum) otherwise.
StatusOr<ShardState> ReadShardFile(const std::string& path, const FileEntry& entry,
                                   const ShardIdentity& expected);

}  // namespace ringtrain::ckpt

#endif  // RINGTRAIN_CKPT_SHARD_FILE_H_
