// URL pieces for API requests: percent-encoding of path segments and query values, and query
// strings. Paths of resources are built by Resource (client.h) with these.
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_OPERATOR_KUBE_URL_H_
#define RINGTRAIN_OPERATOR_KUBE_URL_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringtrain::op::kube {

// Percent-encodes every byte outside RFC 3986's unreserved set (A-Z a-z 0-9 - . _ ~).
std::string PercentEncode(std::string_view text);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// `path` + "?k1=v1&k2=v2" with keys and values percent-encoded, in the given order; `path`
// unchanged if `params` is empty.
// REQUIRES: `path` has no query yet.
std::string WithQuery(const std::string& path, const QueryParams& params);

}  // namespace ringtrain::op::kube

#endif  // RINGTRAIN_OPERATOR_KUBE_URL_H_
