#include "ringtrain/data/uri.h"

#include "ringtrain/storage/location.h"

namespace ringtrain::data {

StatusOr<std::string> LocalPathFromUri(std::string_view uri) {
  StatusOr<storage::Location> location = storage::ParseLocation(uri);
  if (!location.ok()) return location.status();
  if (location->scheme != storage::Scheme::kFile) {
    return Unimplemented("'" + std::string(uri) +
                         "': IDX files are read from local paths only (file:///path or a path); "
                         "http(s):// and s3:// locations are supported yet for libsvm and csv "
                         "data only");
  }
  return location->path;
}

}  // namespace ringtrain::data
