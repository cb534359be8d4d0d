// Where data lives: a dataset, checkpoint or export location as a job spec writes it.
//
//   "relative/or/abs/path", "/data/part-*.gz"    a local path (a glob when its last
//                                                  component holds *, ? or [...])
//   "file:///abs/path", "file://localhost/p"      a local path (percent-escapes decoded)
//   "http://host/a.csv", "https://host/a.csv"     one object over HTTP(S) (read with ranged GETs)
//   "s3://bucket/key", "s3://bucket/prefix/",     objects in an S3-compatible store: one key, every
//   "s3://bucket/prefix/part-*"                   key under a prefix ending in '/', or a glob
//
// ParseLocation checks the form only (nothing is looked up). Errors: InvalidArgument naming the
// location for an empty one, an unknown scheme, a file URI naming another host or without a
// path, a malformed percent-escape, an HTTP URL without a host, or an s3 URI without a valid
// bucket name (3-63 characters of a-z, 0-9, '.', '-').
//
// Thread-safety: values and pure functions.
#ifndef RINGTRAIN_STORAGE_LOCATION_H_
#define RINGTRAIN_STORAGE_LOCATION_H_

#include <string>
#include <string_view>

#include "ringtrain/common/status.h"

namespace ringtrain::storage {

enum class Scheme { kFile, kHttp, kS3 };

struct Location {
  Scheme scheme = Scheme::kFile;
  std::string uri;     // as given, for messages
  std::string path;    // kFile: the local path (decoded)
  std::string bucket;  // kS3
  std::string key;     // kS3: a key, a prefix ending in '/', a glob, or empty (the whole bucket)
  // kFile and kS3: the path or key's last component holds a glob (*, ?, [...]): it names the
  // objects that match (fnmatch(3) with FNM_PATHNAME: no wildcard crosses a '/').
  bool glob = false;
};

[[nodiscard]] StatusOr<Location> ParseLocation(std::string_view uri);

// True when `s` holds a glob character (*, ? or [).
bool HasGlob(std::string_view s);

}  // namespace ringtrain::storage

#endif  // RINGTRAIN_STORAGE_LOCATION_H_
