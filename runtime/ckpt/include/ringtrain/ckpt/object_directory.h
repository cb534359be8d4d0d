// ObjectDirectory: where a checkpoint store (store.h) keeps its checkpoints when they do not
// live in a local directory — a flat namespace of named objects with no rename, such as a key
// prefix of an object store (s3://bucket/checkpoints/<job>/ps-0/). Names are relative to it
// ("ckpt-0000000003-step-000000000120/MANIFEST").
//
// The store commits a checkpoint by writing its MANIFEST last: a checkpoint whose MANIFEST
// exists is complete (the object store makes each object visible whole), one without is an
// interrupted write, deleted when a writer next opens the directory. Implemented over
// storage::Storage by app/object_checkpoints.h (the checkpoint library stays independent of the
// storage library); tests use an in-memory one.
//
// Errors are Status values naming the object: NotFound for a missing object (Get), DataLoss for
// one larger than asked, Unavailable or PermissionDenied for the store's failures (retried by
// the implementation before they are returned).
//
// Thread-safety: implementations are safe to call from one thread at a time per store; the store
// is used by one thread at a time (store.h).
#ifndef RINGTRAIN_CKPT_OBJECT_DIRECTORY_H_
#define RINGTRAIN_CKPT_OBJECT_DIRECTORY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringtrain/common/status.h"

namespace ringtrain::ckpt {

class ObjectDirectory {
 public:
  virtual ~ObjectDirectory() = default;
  // Every object's name beneath the directory, in any order; empty when there is none (a
  // directory that does not exist yet is empty).
  [[nodiscard]] virtual StatusOr<std::vector<std::string>> List() = 0;
  // The whole object: NotFound if it does not exist, DataLoss if it holds more than max_bytes.
  [[nodiscard]] virtual StatusOr<std::string> Get(const std::string& name, uint64_t max_bytes) = 0;
  // Writes the object whole (replacing one of that name).
  [[nodiscard]] virtual Status Put(const std::string& name, std::string_view bytes) = 0;
  // Deletes the object; OK when it does not exist.
  [[nodiscard]] virtual Status Delete(const std::string& name) = 0;
  // The object's location ("s3://bucket/checkpoints/job/ps-0/<name>"), for messages and
  // CheckpointRef::path; Where("") is the directory's own.
  virtual std::string Where(const std::string& name) const = 0;
};

}  // namespace ringtrain::ckpt

#endif  // RINGTRAIN_CKPT_OBJECT_DIRECTORY_H_
