// Storage: every location kind behind one object — local paths and file://, http(s)://, and
// s3:// — each call routed to the ObjectStore its scheme names (object_store.h has the
// contract and the errors). Built once at the edge (main, a test) from explicit options; the
// S3 options usually come from S3OptionsFromEnvironment.
//
// Thread-safety: any number of threads.
#ifndef RINGTRAIN_STORAGE_STORAGE_H_
#define RINGTRAIN_STORAGE_STORAGE_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "ringtrain/storage/http_store.h"
#include "ringtrain/storage/object_store.h"
#include "ringtrain/storage/s3_store.h"

namespace ringtrain::storage {

struct StorageOptions {
  S3Options s3;
  HttpStoreOptions http;
};

class Storage {
 public:
  explicit Storage(StorageOptions options);
  // For tests: the given stores (none may be null).
  Storage(std::unique_ptr<ObjectStore> local, std::unique_ptr<ObjectStore> http,
          std::unique_ptr<ObjectStore> s3);

  // ParseLocation's errors, then the store's.
  [[nodiscard]] StatusOr<std::vector<ObjectInfo>> List(std::string_view uri);
  [[nodiscard]] StatusOr<std::unique_ptr<ByteStream>> Open(const ObjectInfo& object,
                                                           int64_t offset = 0, int64_t length = -1);
  [[nodiscard]] Status Put(std::string_view uri, std::string_view bytes);
  [[nodiscard]] Status Delete(std::string_view uri);
  // The whole object at `uri` (one object, not a prefix or glob): NotFound if there is none,
  // DataLoss beyond `max_bytes`.
  [[nodiscard]] StatusOr<std::string> Get(std::string_view uri, size_t max_bytes);

 private:
  ObjectStore& For(Scheme scheme);

  std::unique_ptr<ObjectStore> local_, http_, s3_;
};

}  // namespace ringtrain::storage

#endif  // RINGTRAIN_STORAGE_STORAGE_H_
