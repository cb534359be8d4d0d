// Checkpoints and models in an object store (spec.checkpoint.path or spec.output.path
// s3://bucket/prefix): the ckpt::ObjectDirectory over storage::Storage that ckpt::Store keeps
// such checkpoints in, and the helpers that tell a location of an object store from a local
// directory.
//
// Thread-safety: StorageDirectory as ckpt::ObjectDirectory says; the functions are pure.
#ifndef RINGTRAIN_APP_OBJECT_CHECKPOINTS_H_
#define RINGTRAIN_APP_OBJECT_CHECKPOINTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringtrain/ckpt/object_directory.h"
#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::app {

// True for a location in an object store (job::IsObjectStoreLocation).
inline bool IsObjectLocation(std::string_view location) {
  return job::IsObjectStoreLocation(location);
}

// `base`/`name`, for directories and object prefixes alike (one '/' between them).
std::string JoinLocation(std::string_view base, std::string_view name);

// The objects beneath the prefix `base` (an s3:// location; a trailing '/' is added) through
// `storage`.
class StorageDirectory final : public ckpt::ObjectDirectory {
 public:
  StorageDirectory(std::shared_ptr<storage::Storage> storage, std::string base);

  StatusOr<std::vector<std::string>> List() override;
  StatusOr<std::string> Get(const std::string& name, uint64_t max_bytes) override;
  Status Put(const std::string& name, std::string_view bytes) override;
  Status Delete(const std::string& name) override;
  std::string Where(const std::string& name) const override { return base_ + name; }

 private:
  std::shared_ptr<storage::Storage> storage_;
  std::string base_;  // ends with '/'
};

// Deletes every object beneath `prefix` (an s3:// location); OK when there is none.
[[nodiscard]] Status DeleteObjectsBeneath(std::shared_ptr<storage::Storage> storage,
                                          const std::string& prefix);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_OBJECT_CHECKPOINTS_H_
