// ObjectStore: the seam between what reads data (and later writes checkpoints) and where the
// bytes are: a local file system, an HTTP(S) server or an S3-compatible store. One real
// implementation each (local_store.h, http_store.h, s3_store.h); Storage (storage.h) picks the
// one a location's scheme names.
//
// Objects are listed once (name and size) and then read as byte ranges, so a reader can split
// a large object between workers by byte range and resume a read where it stopped.
//
// Errors (each message names the location or object):
//   NotFound          no such file, key, bucket or URL; a location that matches nothing
//   PermissionDenied  refused by the store (wrong credentials, no access)
//   InvalidArgument   a location this store cannot list (an HTTP glob), a FIFO or device
//   Unavailable / DeadlineExceeded  the store could not be reached or did not answer in time,
//                     after the retries of the store's options
//   DataLoss          an object shorter than listed (changed while read), a malformed answer
//
// Thread-safety: a store may be used from several threads at once (each call uses its own
// connection); a ByteStream by one thread at a time.
#ifndef RINGTRAIN_STORAGE_OBJECT_STORE_H_
#define RINGTRAIN_STORAGE_OBJECT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/storage/location.h"

namespace ringtrain::storage {

struct ObjectInfo {
  std::string uri;   // the object's own location ("s3://b/data/part-0.gz", "/data/a.csv")
  int64_t size = 0;  // bytes

  bool operator==(const ObjectInfo&) const = default;
};

// Sequential bytes of one object (or a range of it).
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to out.size() bytes into `out`; 0 only at the end. Errors as above.
  [[nodiscard]] virtual StatusOr<size_t> Read(std::span<char> out) = 0;
  // The object's location, for messages.
  virtual const std::string& name() const = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // The objects `location` names, sorted by uri: the object itself; for a directory (local) or
  // a key prefix ending in '/' (s3), every object beneath it (recursively); for a glob, those
  // that match. NotFound when that is none.
  [[nodiscard]] virtual StatusOr<std::vector<ObjectInfo>> List(const Location& location) = 0;
  // Bytes [offset, offset + length) of `object` (length < 0: to its end).
  // REQUIRES: 0 <= offset <= object.size, offset + length <= object.size when length >= 0
  [[nodiscard]] virtual StatusOr<std::unique_ptr<ByteStream>> Open(const ObjectInfo& object,
                                                                   int64_t offset,
                                                                   int64_t length) = 0;
  // Writes `bytes` as the whole object at `location` (replacing one there).
  [[nodiscard]] virtual Status Put(const Location& location, std::string_view bytes) = 0;
  // Deletes the object at `location`; OK when there is none (S3's DELETE answers so too).
  [[nodiscard]] virtual Status Delete(const Location& location) = 0;
};

// Reads `stream` to its end into a string, failing with DataLoss beyond `max_bytes`.
[[nodiscard]] StatusOr<std::string> ReadAll(ByteStream& stream, size_t max_bytes);

}  // namespace ringtrain::storage

#endif  // RINGTRAIN_STORAGE_OBJECT_STORE_H_
