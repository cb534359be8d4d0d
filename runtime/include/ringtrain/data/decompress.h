// Gzip, transparently: MaybeGunzip looks at a stream's first two bytes and, for the gzip magic
// (1f 8b), returns a stream of the inflated bytes (every member of a multi-member file, as
// `zcat` does); any other stream is returned as it is, with the bytes it looked at put back.
//
// Errors of the inflated stream (each names the object): DataLoss for a corrupt stream (with
// zlib's message), for one that ends inside a member ("truncated gzip stream"), and for bytes
// after a member that do not start another ("trailing garbage after the gzip data"); the
// source's own errors as they are. The bytes inflated before an error are returned first, the
// error by the next Read and every one after it.
//
// Thread-safety: one thread at a time per stream.
#ifndef RINGTRAIN_DATA_DECOMPRESS_H_
#define RINGTRAIN_DATA_DECOMPRESS_H_

#include <memory>

#include "ringtrain/storage/object_store.h"

namespace ringtrain::data {

[[nodiscard]] StatusOr<std::unique_ptr<storage::ByteStream>> MaybeGunzip(
    std::unique_ptr<storage::ByteStream> source);

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_DECOMPRESS_H_
