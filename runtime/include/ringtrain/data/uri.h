// Dataset locations: URIs and plain paths as they appear in a job spec.
//
// LocalPathFromUri maps a location to a path on the local file system:
//   "file:///abs/path"          -> "/abs/path"  (percent-escapes such as %20 are decoded)
//   "file://localhost/abs/path" -> "/abs/path"
//   "relative/or/abs/path"      -> unchanged (anything without "<scheme>://")
//   "http://", "https://", "s3://" -> Unimplemented ("... not supported yet")
// Errors: InvalidArgument for an empty location, any other scheme, a file URI naming another
// host or without a path, or a malformed percent-escape; Unimplemented as above. Messages quote
// the location.
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
