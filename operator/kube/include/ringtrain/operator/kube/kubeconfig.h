// Where the operator finds the Kubernetes API server and how it authenticates: a kubeconfig
// file (as kubectl reads it) or the in-cluster service account.
//
// ClusterConfig is a plain value holding everything a client needs, with file contents
// already read (certificates and keys as PEM text), except for a service-account token file,
// which the client re-reads on every request because the kubelet rotates it.
//
// Errors: a malformed kubeconfig returns InvalidArgument naming the file and the field path
// ("users[0].user.client-key-data: not valid base64"); a missing file NotFound naming it;
// an unset in-cluster environment NotFound. Nothing here reads the process environment:
// callers pass an EnvLookup (job::ProcessEnvLookup() in main()).
//
// Thread-safety: pure functions of their arguments and of the files they read.
#ifndef RINGTRAIN_OPERATOR_KUBE_KUBECONFIG_H_
#define RINGTRAIN_OPERATOR_KUBE_KUBECONFIG_H_

#include <string>

#include "ringtrain/common/status.h"
#include "ringtrain/job/pod_contract.h"

namespace ringtrain::op::kube {

using EnvLookup = job::EnvLookup;

inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

struct ClusterConfig {
  std::string server;  // "https://127.0.0.1:6443" (no trailing slash)
  std::string ca_pem;  // CA bundle to verify the server; empty: the system's default CAs
  std::string token;   // bearer token; empty if none (or if token_file is set)
  // Read before every request when non-empty (in-cluster and kubeconfig tokenFile).
  std::string token_file;
  std::string client_cert_pem;  // mTLS client certificate (chain); empty if none
  std::string client_key_pem;   // its private key; set iff client_cert_pem is
  bool insecure_skip_tls_verify = false;
  std::string default_namespace = "default";
  // Where this came from, for messages: "kubeconfig /x/config (context ringtrain-test)".
  std::string source;
};

// Reads `path`; `context` empty means the file's current-context. Relative file paths in the
// file (certificate-authority, client-certificate, client-key, tokenFile) are resolved against
// the directory of `path`; *-data fields are base64-decoded. Auth plugins (exec,
// auth-provider) and basic auth are not supported (Unimplemented, naming the field).
[[nodiscard]] StatusOr<ClusterConfig> LoadKubeconfig(const std::string& path,
                                                     const std::string& context = "");

// The service-account config of a pod: server from KUBERNETES_SERVICE_HOST and
// KUBERNETES_SERVICE_PORT, token file `root`/token, CA `root`/ca.crt, namespace from
// `root`/namespace ("default" if that file is missing). NotFound if the environment
// variables are unset; NotFound/InvalidArgument naming the file if a file is missing or empty.
[[nodiscard]] StatusOr<ClusterConfig> InClusterConfig(const EnvLookup& env,
                                                      const std::string& root = kServiceAccountDir);

// The usual order of kubectl and client-go:
//   1. `kubeconfig_flag` if non-empty (it must load);
//   2. $KUBECONFIG if set: the first existing file of its ':'-separated list (files are not
//      merged);
//   3. the in-cluster config if KUBERNETES_SERVICE_HOST is set;
//   4. $HOME/.kube/config if it exists.
// The first source that applies decides: its errors are returned, later sources are not tried.
// NotFound listing what was tried if none applies.
[[nodiscard]] StatusOr<ClusterConfig> ResolveConfig(
    const std::string& kubeconfig_flag, const EnvLookup& env, const std::string& context = "",
    const std::string& in_cluster_root = kServiceAccountDir);

}  // namespace ringtrain::op::kube

#endif  // RINGTRAIN_OPERATOR_KUBE_KUBECONFIG_H_
