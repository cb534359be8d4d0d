// Decoding of a watch stream: one JSON WatchEvent per line ({"type": ..., "object": ...}).
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_OPERATOR_KUBE_WATCH_EVENT_H_
#define RINGTRAIN_OPERATOR_KUBE_WATCH_EVENT_H_

#include <string_view>

#include "ringtrain/common/status.h"
#include "ringtrain/operator/kube/client.h"

namespace ringtrain::op::kube {

// Parses one line (without its newline). DataLoss naming the line (truncated) and `path` if it
// is not JSON, not an object, lacks a string "type" among ADDED, MODIFIED, DELETED, BOOKMARK,
// ERROR, or lacks an object "object".
[[nodiscard]] StatusOr<WatchEvent> ParseWatchLine(std::string_view path, std::string_view line);

// The error an ERROR event carries (its object is a metav1.Status), mapped as in
// api_status.h; 410 Gone becomes OutOfRange with a message saying the resourceVersion is too
// old and the caller must relist.
// REQUIRES: event.type == "ERROR"
[[nodiscard]] Status WatchErrorStatus(std::string_view path, const WatchEvent& event);

}  // namespace ringtrain::op::kube

#endif  // RINGTRAIN_OPERATOR_KUBE_WATCH_EVENT_H_
