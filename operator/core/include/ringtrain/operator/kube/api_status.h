// How the API server's answers become Status values: the one place that decides which HTTP
// statuses callers may retry.
//
//   400, 422 (Invalid)            InvalidArgument
//   401, 403                      PermissionDenied (credentials or RBAC; retrying won't help)
//   404                           NotFound
//   409 reason AlreadyExists      AlreadyExists
//   409 otherwise (Conflict)      Aborted (stale resourceVersion or UID: re-read and retry)
//   410 (Gone, Expired)           OutOfRange (resourceVersion or continue token too old: relist)
//   408, 504                      DeadlineExceeded (retryable)
//   429, 500, 502, 503, other 5xx Unavailable (retryable)
//   other 4xx                     InvalidArgument
//
// Messages name the verb, the path, the HTTP status and reason, and the server's
// Status.message when the body is a Status object (else the start of the body).
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_OPERATOR_KUBE_API_STATUS_H_
#define RINGTRAIN_OPERATOR_KUBE_API_STATUS_H_

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ringtrain/common/status.h"

namespace ringtrain::op::kube {

// The code for an HTTP status >= 400; `reason` is the Status object's reason ("" if none).
StatusCode CodeForHttpStatus(int http_status, std::string_view reason);

// The Status for an error response (http_status >= 400) with `body` as served.
// REQUIRES: http_status >= 400
Status StatusFromHttp(std::string_view verb, std::string_view path, int http_status,
                      std::string_view body);

// The Status for a metav1.Status object (as carried by a watch ERROR event); its `code` field
// is the HTTP status. An object without a usable code is Internal.
Status StatusFromApiStatus(std::string_view verb, std::string_view path,
                           const nlohmann::json& status);

// `text` cut to at most `max` bytes, with "..." appended when cut; for messages.
std::string Truncate(std::string_view text, size_t max = 200);

}  // namespace ringtrain::op::kube

#endif  // RINGTRAIN_OPERATOR_KUBE_API_STATUS_H_
