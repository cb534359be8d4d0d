// S3Store: objects in an S3-compatible store (AWS S3, SeaweedFS, Ceph RGW, ...), through
// ListObjectsV2 (paged), HEAD, ranged GETs and PUT, signed with AWS Signature V4 (sigv4.h).
//
// Addressing: path-style (endpoint/bucket/key; what S3-compatible stores serve) or
// virtual-hosted (bucket.host/key; AWS's default); an endpoint override for a store that is
// not AWS ("http://127.0.0.1:8333"). Without credentials requests go unsigned (public buckets).
//
// Reads fetch read_chunk_bytes per GET; every request is retried as `retry` says when the store
// cannot be reached, times out, or answers 500, 502, 503, 504 or 429 (SlowDown). Errors name the
// s3:// location and carry S3's own error code and message: 403 -> PermissionDenied (e.g.
// "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"), 404 -> NotFound
// ("NoSuchBucket", "NoSuchKey"), other 4xx -> FailedPrecondition. Secrets never appear in
// messages.
//
// Thread-safety: any number of threads (idle connections are pooled).
#ifndef RINGTRAIN_STORAGE_S3_STORE_H_
#define RINGTRAIN_STORAGE_S3_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ringtrain/storage/http_client.h"
#include "ringtrain/storage/object_store.h"
#include "ringtrain/storage/retry.h"
#include "ringtrain/storage/sigv4.h"

namespace ringtrain::storage {

struct S3Options {
  // scheme://host[:port] of the store; empty: https://s3.<region>.amazonaws.com.
  std::string endpoint;
  std::string region = "us-east-1";
  bool path_style = true;
  SigV4Credentials credentials;  // empty access key id: unsigned requests
  int list_page_size = 1000;     // max-keys of each ListObjectsV2 page (1-1000)
  int64_t read_chunk_bytes = 8 << 20;
  HttpOptions http;
  RetryOptions retry;
};

// The options AWS's own tools read from the environment, through `getenv` (the caller's:
// nothing here reads the process environment): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_REGION (else AWS_DEFAULT_REGION), AWS_ENDPOINT_URL_S3 (else
// AWS_ENDPOINT_URL; with one, path-style addressing unless AWS_S3_ADDRESSING_STYLE=virtual).
S3Options S3OptionsFromEnvironment(const std::function<const char*(const char*)>& getenv);

std::unique_ptr<ObjectStore> MakeS3Store(S3Options options);

}  // namespace ringtrain::storage

#endif  // RINGTRAIN_STORAGE_S3_STORE_H_
