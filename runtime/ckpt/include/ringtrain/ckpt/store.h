// Store: the checkpoints of one parameter server's shard in one directory.
//
// Layout: <directory>/ckpt-<sequence, 10 digits>-step-<step, 12 digits>/ holds MANIFEST and
// shard.bin (manifest.h, shard_file.h). A checkpoint is written into a temporary directory
// (.tmp-ckpt-<sequence>-<pid>), each file fsynced, the directory fsynced, then renamed to its
// name and the parent fsynced: a checkpoint directory either is complete or does not exist, even
// across a crash. After each write the store keeps the newest `keep` checkpoints and deletes the
// rest. Sequences only grow (the next is one more than the largest in the directory), so the
// newest checkpoint is the one with the largest sequence, whatever its step.
//
// Loading walks the checkpoints from the newest: one whose manifest is missing or damaged, whose
// files are truncated, padded or fail their checksum, or that belongs to another job, model,
// server or layout (manifest.h CheckMatches) is skipped with a message naming the file and what
// is wrong, and the one before it is tried. The caller gets the checkpoint loaded and the
// messages of those skipped, or an error listing them all.
//
// In an object store (StoreOptions::objects, object_directory.h), where nothing can be renamed,
// a checkpoint is written as above into a local staging directory (StoreOptions::directory),
// then its shard file is uploaded as <name>/shard.bin and its manifest last, as <name>/MANIFEST,
// which commits it; the staged copy is then deleted. A checkpoint without a MANIFEST is an
// interrupted upload: not listed, and deleted by the next Open. Pruning deletes the MANIFEST
// first. Loading downloads the manifest, then the shard file into the staging directory (at
// most the manifest's size), and checks both as above. The shard file is held in memory while
// it is uploaded or downloaded (a single PUT: at most 5 GiB on S3).
//
// Every directory of checkpoints belongs to one server: two processes must not write to the
// same directory at once (Open removes the temporary directories it finds, and sequences would
// collide).
//
// Thread-safety: not thread-safe. One thread at a time uses a Store; the server loads at start,
// then hands the store to its AsyncWriter, whose thread alone writes.
#ifndef RINGTRAIN_CKPT_STORE_H_
#define RINGTRAIN_CKPT_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/ckpt/manifest.h"
#include "ringtrain/ckpt/object_directory.h"
#include "ringtrain/ckpt/shard_identity.h"
#include "ringtrain/ckpt/shard_state.h"
#include "ringtrain/common/status.h"

namespace ringtrain::ckpt {

struct StoreOptions {
  // The checkpoints (created, with its parents, if missing); with `objects`, the local staging
  // directory their uploads and downloads pass through (created if missing; the store deletes
  // what it stages there).
  std::string directory;
  int keep = 3;  // checkpoints kept after each write; >= 1
  // The checkpoints' objects (see the top); null: they live in `directory`.
  std::shared_ptr<ObjectDirectory> objects;
};

// A committed checkpoint directory (only its name has been read).
struct CheckpointRef {
  uint64_t sequence = 0;
  int64_t step = 0;
  std::string path;  // <directory>/ckpt-..., or the objects' Where(name)
  std::string name;  // ckpt-<sequence>-step-<step>
};

struct WrittenCheckpoint {
  CheckpointRef ref;
  Manifest manifest;
  uint64_t bytes = 0;  // data and manifest
  int pruned = 0;      // older checkpoints deleted
};

struct LoadedCheckpoint {
  CheckpointRef ref;
  Manifest manifest;
  ShardState state;
  // Why each newer checkpoint was passed over, newest first ("<path>: <problem>"), for the log.
  std::vector<std::string> skipped;
};

class Store {
 public:
  // Creates the directory if needed and removes temporary directories left by a crash.
  // InvalidArgument for an empty directory or keep < 1; Unavailable if the file system fails.
  static StatusOr<std::unique_ptr<Store>> Open(StoreOptions options);

  // Opens an existing directory for reading only (a reader beside a server that may be writing
  // to it: `ringtrain export`): creates nothing, removes nothing, and Write is refused
  // (FailedPrecondition). NotFound naming the directory if it does not exist; Unavailable if it
  // is not a directory.
  // With `objects`, `directory` is the staging directory (created if missing) and the objects
  // are only read.
  static StatusOr<std::unique_ptr<Store>> OpenReadOnly(
      const std::string& directory, std::shared_ptr<ObjectDirectory> objects = nullptr);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Where the checkpoints are: the directory, or the objects' location.
  std::string location() const;

  // Writes `state` as the next checkpoint of `id` (atomically, as above), then deletes all but
  // the newest `keep`. InvalidArgument if the state does not fit the identity (a caller's bug);
  // Unavailable naming the path if the file system fails (nothing partial stays visible).
  StatusOr<WrittenCheckpoint> Write(const ShardIdentity& id, const ShardState& state, bool final);

  // The committed checkpoints, newest first. Entries not named like a checkpoint are ignored.
  StatusOr<std::vector<CheckpointRef>> List() const;

  // Reads and checks one checkpoint's manifest only (NotFound if missing, DataLoss if damaged
  // or not the one its directory names), without its data.
  StatusOr<Manifest> ReadManifest(const CheckpointRef& ref) const;

  // Loads one checkpoint for `expected`: NotFound if its manifest is missing, DataLoss if a
  // file is damaged, FailedPrecondition if it is another shard's (CheckMatches), each naming
  // the path.
  StatusOr<LoadedCheckpoint> Load(const CheckpointRef& ref, const ShardIdentity& expected) const;

  // Loads the newest checkpoint `expected` can use, skipping the others (see above). NotFound
  // when the directory holds no checkpoint; FailedPrecondition when none is usable, with every
  // checkpoint's problem in the message.
  StatusOr<LoadedCheckpoint> LoadLatest(const ShardIdentity& expected) const;

 private:
  explicit Store(StoreOptions options, uint64_t next_sequence, bool read_only = false);
  Status Prune(int* pruned);
  // The object-store halves of Write and Load (see the top).
  Status Upload(const CheckpointRef& staged, const std::string& name);
  StatusOr<std::string> ManifestBytes(const CheckpointRef& ref) const;
  StatusOr<std::string> StageShardFile(const CheckpointRef& ref, const FileEntry& entry) const;

  StoreOptions options_;
  uint64_t next_sequence_;
  bool read_only_;
};

}  // namespace ringtrain::ckpt

#endif  // RINGTRAIN_CKPT_STORE_H_
