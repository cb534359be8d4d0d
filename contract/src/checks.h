// Internal to the job library: syntax checks for Kubernetes names, quantities, label keys and
// data URIs, shared by the spec parser and the pod contract.
//
// Each Check* returns OK or InvalidArgument("<path>: <what is wrong>").
#ifndef RINGTRAIN_SRC_JOB_CHECKS_H_
#define RINGTRAIN_SRC_JOB_CHECKS_H_

#include <optional>
#include <string>
#include <string_view>

#include "ringtrain/common/status.h"

namespace ringtrain::job::internal {

// DNS-1035 label: [a-z]([-a-z0-9]*[a-z0-9])?, 1..max_length characters.
Status CheckDns1035Label(const std::string& path, std::string_view s, size_t max_length);
// DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63 characters.
Status CheckDns1123Label(const std::string& path, std::string_view s);
// DNS-1123 subdomain (the names of ConfigMaps, Secrets, PersistentVolumeClaims): 1..253
// characters of [a-z0-9-.], starting and ending alphanumeric.
Status CheckDns1123Subdomain(const std::string& path, std::string_view s);
// Label or annotation key: [prefix/]name, prefix a DNS-1123 subdomain, name 1..63 characters
// of [A-Za-z0-9_.-] starting and ending alphanumeric.
Status CheckLabelKey(const std::string& path, std::string_view s);
// Label value: empty or 1..63 characters of [A-Za-z0-9_.-] starting and ending alphanumeric.
Status CheckLabelValue(const std::string& path, std::string_view s);

// The value of a Kubernetes quantity ("500m" -> 0.5, "1Gi" -> 2^30, "2e3" -> 2000), or
// nullopt when `s` is not one. Signs are allowed here; callers reject negative values.
std::optional<long double> ParseQuantity(std::string_view s);

// A data location: "file:///abs/path", a plain path, "http://h...", "https://h...",
// "s3://bucket/...". Other schemes are rejected naming the scheme.
Status CheckDataUri(const std::string& path, std::string_view uri);

// The characters of `s` as the API server counts them for maxLength: UTF-8 code points (bytes
// that do not continue a multi-byte sequence).
size_t Utf8Length(std::string_view s);

// A container image reference: non-empty, no whitespace or control characters.
Status CheckImage(const std::string& path, std::string_view image);

}  // namespace ringtrain::job::internal

#endif  // RINGTRAIN_SRC_JOB_CHECKS_H_
