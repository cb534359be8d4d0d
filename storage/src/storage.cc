#include "ringtrain/storage/storage.h"

#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/storage/local_store.h"

namespace ringtrain::storage {

Storage::Storage(StorageOptions options)
    : Storage(MakeLocalStore(), MakeHttpStore(std::move(options.http)),
              MakeS3Store(std::move(options.s3))) {}

Storage::Storage(std::unique_ptr<ObjectStore> local, std::unique_ptr<ObjectStore> http,
                 std::unique_ptr<ObjectStore> s3)
    : local_(std::move(local)), http_(std::move(http)), s3_(std::move(s3)) {
  RT_CHECK(local_ != nullptr && http_ != nullptr && s3_ != nullptr);
}

ObjectStore& Storage::For(Scheme scheme) {
  switch (scheme) {
    case Scheme::kFile:
      return *local_;
    case Scheme::kHttp:
      return *http_;
    case Scheme::kS3:
      return *s3_;
  }
  return *local_;
}

StatusOr<std::vector<ObjectInfo>> Storage::List(std::string_view uri) {
  RT_ASSIGN_OR_RETURN(const Location location, ParseLocation(uri));
  return For(location.scheme).List(location);
}

StatusOr<std::unique_ptr<ByteStream>> Storage::Open(const ObjectInfo& object, int64_t offset,
                                                    int64_t length) {
  RT_ASSIGN_OR_RETURN(const Location location, ParseLocation(object.uri));
  if (offset < 0 || offset > object.size || (length >= 0 && offset + length > object.size)) {
    return OutOfRange(object.uri + ": bytes " + std::to_string(offset) + "+" +
                      std::to_string(length) + " of an object of " + std::to_string(object.size));
  }
  return For(location.scheme).Open(object, offset, length);
}

Status Storage::Put(std::string_view uri, std::string_view bytes) {
  RT_ASSIGN_OR_RETURN(const Location location, ParseLocation(uri));
  return For(location.scheme).Put(location, bytes);
}

Status Storage::Delete(std::string_view uri) {
  RT_ASSIGN_OR_RETURN(const Location location, ParseLocation(uri));
  if (location.glob || location.key.ends_with('/') || location.path.ends_with('/')) {
    return InvalidArgument(location.uri + ": not one object to delete");
  }
  return For(location.scheme).Delete(location);
}

StatusOr<std::string> Storage::Get(std::string_view uri, size_t max_bytes) {
  RT_ASSIGN_OR_RETURN(const Location location, ParseLocation(uri));
  if (location.glob) return InvalidArgument(location.uri + ": not one object to read");
  RT_ASSIGN_OR_RETURN(std::vector<ObjectInfo> found, For(location.scheme).List(location));
  // A listing of a key also yields the objects beneath it as a prefix: only the key itself.
  for (const ObjectInfo& object : found) {
    StatusOr<Location> at = ParseLocation(object.uri);
    if (!at.ok() || at->path != location.path || at->bucket != location.bucket ||
        at->key != location.key) {
      continue;
    }
    if (object.size > static_cast<int64_t>(max_bytes)) {
      return DataLoss(location.uri + ": " + std::to_string(object.size) + " bytes, more than the " +
                      std::to_string(max_bytes) + " expected");
    }
    RT_ASSIGN_OR_RETURN(std::unique_ptr<ByteStream> stream, Open(object));
    return ReadAll(*stream, max_bytes);
  }
  return NotFound(location.uri + ": no such object");
}

}  // namespace ringtrain::storage
