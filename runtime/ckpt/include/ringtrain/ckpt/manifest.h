// Manifest: the description of one checkpoint, written beside its data files and last (the
// checkpoint's directory becomes visible only once all of it is on disk; store.h).
//
// On disk it is a text file, MANIFEST, of a header line and a JSON body:
//   ringtrain-checkpoint-manifest <format version> crc32=<8 hex digits> bytes=<body bytes>\n
//   {"formatVersion": 1, "job": "...", "step": 120, "sequence": 7, "final": false,
//    "createdUnixMs": ..., "server": {"index": 0}, "ring": ["ps-0", "ps-1"],
//    "layoutFingerprint": "0x...", "modelFingerprint": "0x...", "syncMode": "sync",
//    "optimizer": {"kind": "momentum", "stateSlots": 1}, "workers": 2, "partitions": 12,
//    "elements": 203530, "files": [{"name": "shard.bin", "bytes": 814184, "crc32": "89abcdef"}]}
// The header's checksum covers the body, so a damaged manifest is told from a valid one before
// its JSON is trusted; fingerprints are hex strings (JSON numbers lose 64-bit integers in many
// readers). Anyone can read a manifest with `tail -n +2 MANIFEST | jq`.
//
// Thread-safety: values and pure functions.
#ifndef RINGTRAIN_CKPT_MANIFEST_H_
#define RINGTRAIN_CKPT_MANIFEST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringtrain/ckpt/shard_identity.h"
#include "ringtrain/common/status.h"

namespace ringtrain::ckpt {

// Version 1 is the only format so far; a reader refuses any other with a message naming both.
inline constexpr int kFormatVersion = 1;
inline constexpr char kManifestFileName[] = "MANIFEST";
// A manifest larger than this is refused before it is read (a ring of thousands of servers
// still fits).
inline constexpr int64_t kMaxManifestBytes = 1 << 20;

// A data file of the checkpoint: its name inside the checkpoint's directory, size and zlib
// CRC-32.
struct FileEntry {
  std::string name;
  uint64_t bytes = 0;
  uint32_t crc32 = 0;
};

struct Manifest {
  int format_version = kFormatVersion;
  // The identity of the shard (ShardIdentity without its partition list).
  std::string job;
  int server_index = 0;
  std::vector<std::string> ring_servers;
  uint64_t layout_fingerprint = 0;
  uint64_t model_fingerprint = 0;
  std::string sync_mode;
  std::string optimizer;
  int state_slots = 0;
  int num_workers = 0;
  int64_t num_partitions = 0;
  int64_t num_elements = 0;
  // The checkpoint itself.
  int64_t step = 0;       // ShardState::step(): the smallest worker clock
  uint64_t sequence = 0;  // orders the checkpoints of one store; the newest is the largest
  bool final = false;     // written when training finished
  int64_t created_unix_ms = 0;
  std::vector<FileEntry> files;
};

// The manifest of a checkpoint of `id` (files, step, sequence, final and time left to the
// caller).
Manifest ManifestFor(const ShardIdentity& id);

// The MANIFEST file's bytes.
std::string EncodeManifest(const Manifest& m);

// Parses MANIFEST bytes. DataLoss naming the problem for anything but a well-formed manifest:
// a damaged header, a body of another size or checksum, JSON that does not parse, a missing or
// mistyped field, values out of range, a file name with a '/'. FailedPrecondition for another
// format version.
StatusOr<Manifest> ParseManifest(std::string_view bytes);

// OK if the checkpoint described by `m` is one `expected` may load. Else FailedPrecondition
// naming the first difference in this order: job, model fingerprint ("a checkpoint of another
// model"), server index, ring membership, layout fingerprint, sync mode, optimizer, workers,
// partitions and elements.
Status CheckMatches(const Manifest& m, const ShardIdentity& expected);

}  // namespace ringtrain::ckpt

#endif  // RINGTRAIN_CKPT_MANIFEST_H_
