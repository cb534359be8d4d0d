// HttpStore: one object per http(s):// URL, sized with HEAD (or, where HEAD is refused, a
// one-byte ranged GET's Content-Range) and read with ranged GETs, following redirects. A URL
// names exactly one object: globs and directories cannot be listed over plain HTTP
// (InvalidArgument). Put is Unimplemented. Retries and errors as S3Store's (4xx: 404 NotFound,
// 401/403 PermissionDenied; 5xx and 429 retried).
//
// Thread-safety: any number of threads.
#ifndef RINGTRAIN_STORAGE_HTTP_STORE_H_
#define RINGTRAIN_STORAGE_HTTP_STORE_H_

#include <cstdint>
#include <memory>

#include "ringtrain/storage/http_client.h"
#include "ringtrain/storage/object_store.h"
#include "ringtrain/storage/retry.h"

namespace ringtrain::storage {

struct HttpStoreOptions {
  int64_t read_chunk_bytes = 8 << 20;
  HttpOptions http;  // follow_redirects is set
  RetryOptions retry;
};

std::unique_ptr<ObjectStore> MakeHttpStore(HttpStoreOptions options);

}  // namespace ringtrain::storage

#endif  // RINGTRAIN_STORAGE_HTTP_STORE_H_
