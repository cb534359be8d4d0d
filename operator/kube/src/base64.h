// Base64 (RFC 4648, standard alphabet with padding) decoding for kubeconfig *-data fields.
// Internal to the kube adapter.
#ifndef RINGTRAIN_OPERATOR_SRC_KUBE_BASE64_H_
#define RINGTRAIN_OPERATOR_SRC_KUBE_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

namespace ringtrain::op::kube {

// Decodes `text`, ignoring ASCII whitespace (PEM-style line breaks). nullopt if a character is
// outside the alphabet, the length is not a multiple of 4 or padding is misplaced.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace ringtrain::op::kube

#endif  // RINGTRAIN_OPERATOR_SRC_KUBE_BASE64_H_
