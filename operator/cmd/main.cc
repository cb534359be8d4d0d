// ringtrain-operator: reconciles TrainingJobs (ringtrain.io/v1alpha1) into parameter-server
// and worker pods. Configuration comes from flags and, in a pod, the environment the Helm
// chart sets (WATCH_NAMESPACE, RINGTRAIN_RUNTIME_IMAGE, POD_NAMESPACE, POD_NAME); it is read
// here, once, into an OperatorConfig.
//
// Exit codes: 0 stopped by SIGTERM/SIGINT, 1 a fatal error (API server unreachable at start,
// caches never synced, Lease lost), 2 invalid configuration.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <random>
#include <string>

#include <CLI/CLI.hpp>

#include "ringtrain/auth/keys.h"
#include "ringtrain/common/printable.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/operator/app.h"
#include "ringtrain/operator/job_keys.h"
#include "ringtrain/operator/kube/kubeconfig.h"
#include "ringtrain/proto/library_log.h"

namespace {

std::atomic<int> g_stop{0};

void OnSignal(int sig) { g_stop.store(sig); }

std::string Hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "ringtrain-operator";
  return buf;
}

std::string RandomSuffix() {
  std::random_device rd;
  const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(hex[rd() % 16]);
  return s;
}

int Invalid(const std::string& message) {
  std::cerr << "ringtrain-operator: error: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ringtrain::proto::InstallLibraryLogHandler("ringtrain-operator");
  namespace op = ringtrain::op;
  const ringtrain::job::EnvLookup env = ringtrain::job::ProcessEnvLookup();
  auto getenv_or = [&env](const char* name, const std::string& fallback) {
    std::optional<std::string> v = env(name);
    return v && !v->empty() ? *v : fallback;
  };

  CLI::App app{"ringtrain-operator: runs TrainingJobs (ringtrain.io/v1alpha1) on Kubernetes"};
  std::string kubeconfig;
  std::string context;
  std::string watch_namespace = getenv_or("WATCH_NAMESPACE", "");
  int workers = 2;
  bool leader_elect = false;
  std::string lease_namespace = getenv_or("POD_NAMESPACE", "");
  std::string lease_name = "ringtrain-operator";
  std::string identity;
  std::string metrics_address = ":8080";
  std::string health_address = ":8081";
  std::string log_level = "info";
  std::string runtime_image = getenv_or("RINGTRAIN_RUNTIME_IMAGE", "ringtrain/runtime:0.1.0");
  int request_timeout = 10;
  double progress_interval = 10;
  std::string key_file = getenv_or("RINGTRAIN_OPERATOR_KEY_FILE", "");
  bool network_policies = true;
  int stall_after = 300;
  std::string operator_labels;
  bool version = false;
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  app.add_option("--context", context, "kubeconfig context (default: its current-context)");
  app.add_option("--namespace", watch_namespace,
                 "namespace whose TrainingJobs to manage; empty = all (env WATCH_NAMESPACE)");
  app.add_option("--workers", workers, "reconcile threads")->check(CLI::Range(1, 64));
  app.add_flag("--leader-elect", leader_elect, "take part in leader election (a Lease)");
  app.add_option("--lease-namespace", lease_namespace,
                 "namespace of the Lease (default: env POD_NAMESPACE, else the config's)");
  app.add_option("--lease-name", lease_name, "name of the Lease");
  app.add_option("--identity", identity, "holder identity (default: pod name or hostname + id)");
  app.add_option("--metrics-bind-address", metrics_address,
                 "where /metrics listens (host:port or :port; 0 disables)");
  app.add_option("--health-probe-bind-address", health_address,
                 "where /healthz and /readyz listen (host:port or :port; 0 disables)");
  app.add_option("--log-level", log_level, "debug, info, warn or error");
  app.add_option("--runtime-image", runtime_image,
                 "image of jobs that set no spec.image (env RINGTRAIN_RUNTIME_IMAGE)");
  app.add_option("--request-timeout", request_timeout, "seconds per API request")
      ->check(CLI::Range(1, 300));
  app.add_option("--progress-interval", progress_interval,
                 "seconds between asks of worker 0 for its progress and of the servers for their "
                 "last checkpoint (0: never)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--key-file", key_file,
                 "file of the master secret (32-64 bytes, no permission for others) the jobs' "
                 "CURVE keys are derived from; without it one is made at start, and jobs started "
                 "before a restart can no longer be asked for progress (env "
                 "RINGTRAIN_OPERATOR_KEY_FILE)");
  app.add_flag("--network-policies,!--no-network-policies", network_policies,
               "give every job a NetworkPolicy admitting only its own pods and this operator's "
               "(default on)");
  app.add_option("--operator-labels", operator_labels,
                 "labels of this operator's pods, key=value,... (the chart's selector labels): "
                 "the jobs' NetworkPolicies admit them, in namespace POD_NAMESPACE");
  app.add_option("--stall-after", stall_after,
                 "seconds without a training step before a running job is marked Stalled "
                 "(0: never)")
      ->check(CLI::Range(0, 86400));
  app.add_flag("--version", version, "print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (version) {
    std::cout << "ringtrain-operator " << RINGTRAIN_VERSION << "\n";
    return 0;
  }

  op::OperatorConfig config;
  ringtrain::StatusOr<op::kube::ClusterConfig> cluster =
      op::kube::ResolveConfig(kubeconfig, env, context);
  if (!cluster.ok()) return Invalid(cluster.status().message());
  config.cluster = *cluster;
  config.watch_namespace = watch_namespace;
  config.workers = workers;
  config.resources.default_runtime_image = runtime_image;
  ringtrain::StatusOr<std::string> master = key_file.empty()
                                                ? ringtrain::auth::NewMasterSecret()
                                                : ringtrain::auth::ReadMasterSecretFile(key_file);
  if (!master.ok()) return Invalid("--key-file: " + master.status().message());
  if (key_file.empty()) {
    std::cerr << "ringtrain-operator: warning: no --key-file: the jobs' keys are derived from a "
                 "secret made for this process; after a restart, jobs started before cannot be "
                 "asked for their progress or to fail over (their pods keep training)\n";
  }
  ringtrain::StatusOr<std::shared_ptr<const op::JobKeySource>> keys =
      op::MakeDerivedKeySource(std::move(master).value());
  if (!keys.ok()) return Invalid("--key-file: " + keys.status().message());
  config.resources.keys = std::move(keys).value();
  config.resources.network_policies = network_policies;
  config.resources.stall_after = std::chrono::seconds(stall_after);
  config.resources.operator_namespace = getenv_or("POD_NAMESPACE", "");
  ringtrain::StatusOr<std::map<std::string, std::string>> labels =
      op::ParseLabelList(operator_labels);
  if (!labels.ok()) return Invalid("--operator-labels: " + labels.status().message());
  config.resources.operator_pod_labels = std::move(labels).value();
  if (network_policies && config.resources.operator_pod_labels.empty()) {
    std::cerr << "ringtrain-operator: warning: no --operator-labels: the jobs' NetworkPolicies "
                 "admit their own pods only; where a network plugin enforces them, this operator "
                 "cannot reach their status sockets\n";
  }
  config.metrics_address = metrics_address;
  config.health_address = health_address;
  config.leader_elect = leader_elect;
  config.lease_namespace =
      lease_namespace.empty() ? config.cluster.default_namespace : lease_namespace;
  config.lease_name = lease_name;
  config.identity =
      !identity.empty() ? identity : getenv_or("POD_NAME", Hostname()) + "_" + RandomSuffix();
  config.request_timeout = std::chrono::seconds(request_timeout);
  config.progress_interval =
      std::chrono::milliseconds(static_cast<int64_t>(progress_interval * 1000));
  ringtrain::StatusOr<op::LogLevel> level = op::ParseLogLevel(log_level);
  if (!level.ok()) return Invalid(level.status().message());
  config.log_level = *level;

  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const ringtrain::Status s = op::RunOperator(config, g_stop);
  if (!s.ok()) {
    std::cerr << "ringtrain-operator: error: " << ringtrain::Printable(s.message()) << "\n";
    return s.code() == ringtrain::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
