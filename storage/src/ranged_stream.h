// A ByteStream over ranged reads: bytes [begin, end) of a remote object, fetched `chunk` bytes
// at a time by `fetch(offset, length, out)` (which retries as its store does). A fetch that
// returns fewer bytes than asked is DataLoss (the object changed or was cut short).
#ifndef RINGTRAIN_STORAGE_SRC_RANGED_STREAM_H_
#define RINGTRAIN_STORAGE_SRC_RANGED_STREAM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ringtrain/storage/object_store.h"

namespace ringtrain::storage::internal {

using RangeFetch = std::function<Status(int64_t offset, int64_t length, std::string* out)>;

std::unique_ptr<ByteStream> MakeRangedStream(std::string name, int64_t begin, int64_t end,
                                             int64_t chunk, RangeFetch fetch);

}  // namespace ringtrain::storage::internal

#endif  // RINGTRAIN_STORAGE_SRC_RANGED_STREAM_H_
