// Dataset locations of IDX files: a location (storage/location.h, which parses it) that must
// be on the local file system.
//
// LocalPathFromUri maps a location to a path on the local file system:
//   "file:///abs/path"          -> "/abs/path"  (percent-escapes such as %20 are decoded)
//   "file://localhost/abs/path" -> "/abs/path"
//   "relative/or/abs/path"      -> unchanged (anything without "<scheme>://")
//   "http://", "https://", "s3://" -> Unimplemented (IDX files are read locally only)
// Errors: storage::ParseLocation's (InvalidArgument quoting the location); Unimplemented as
// above.
//
// Thread-safety: pure function.
#ifndef RINGTRAIN_DATA_URI_H_
#define RINGTRAIN_DATA_URI_H_

#include <string>
#include <string_view>

#include "ringtrain/common/status.h"

namespace ringtrain::data {

[[nodiscard]] StatusOr<std::string> LocalPathFromUri(std::string_view uri);

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_URI_H_
