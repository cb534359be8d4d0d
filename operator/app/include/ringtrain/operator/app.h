// The ringtrain-operator process: configuration (built once in main from flags and the
// environment) and the run loop that ties the pieces together:
//
//   HTTP: /healthz /readyz on health_address, /metrics on metrics_address
//   leader election (optional): standby until this replica holds the Lease
//   leading: the controller (informers + workers) reconciles until the process is told to
//            stop, or until the Lease is lost, which ends the process (exit 1) so that a
//            fresh start, not a half-stopped leader, takes part in the next election.
//
// Readiness: ready once the caches are synced while leading, and while standing by (a standby
// is healthy and ready to take over; a rollout must not wait for it to lead).
//
// Thread-safety: RunOperator blocks its calling thread; `stop` is set from a signal handler.
#ifndef RINGTRAIN_OPERATOR_APP_H_
#define RINGTRAIN_OPERATOR_APP_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "ringtrain/common/status.h"
#include "ringtrain/operator/kube/kubeconfig.h"
#include "ringtrain/operator/resources.h"

namespace ringtrain::op {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct OperatorConfig {
  kube::ClusterConfig cluster;
  std::string watch_namespace;  // "" = every namespace
  int workers = 2;
  ResourceOptions resources;
  // "host:port" or ":port"; "0" or "" disables that server.
  std::string health_address = ":8081";
  std::string metrics_address = ":8080";
  bool leader_elect = false;
  std::string lease_namespace = "default";
  std::string lease_name = "ringtrain-operator";
  std::string identity;  // holder identity; required with leader_elect
  std::chrono::seconds request_timeout{10};
  std::chrono::seconds sync_timeout{120};
  // How often worker 0 of each running job is asked for its progress; 0 = never.
  std::chrono::milliseconds progress_interval{10000};
  LogLevel log_level = LogLevel::kInfo;
};

// Parses "host:port" / ":port" (host "" means every interface). InvalidArgument naming `flag`.
[[nodiscard]] Status ParseBindAddress(const std::string& flag, const std::string& value,
                                      std::string* host, int* port);

// "key=value,key=value" (Kubernetes label syntax; "" is none): InvalidArgument naming the
// first bad entry.
[[nodiscard]] StatusOr<std::map<std::string, std::string>> ParseLabelList(const std::string& text);

// "debug" | "info" | "warn" | "error".
[[nodiscard]] StatusOr<LogLevel> ParseLogLevel(const std::string& value);

// Runs until `stop` becomes non-zero (returns OK) or a fatal error: the configuration is
// unusable (InvalidArgument), a port cannot be bound (Unavailable), the caches never fill
// (DeadlineExceeded), or the Lease was lost (Aborted).
[[nodiscard]] Status RunOperator(const OperatorConfig& config, const std::atomic<int>& stop);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_APP_H_
