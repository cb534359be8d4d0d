#include "ringtrain/operator/app.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <thread>

#include "ringtrain/operator/controller.h"
#include "ringtrain/operator/health.h"
#include "ringtrain/operator/http_server.h"
#include "ringtrain/operator/kube/fenced_client.h"
#include "ringtrain/operator/kube/rest_client.h"
#include "ringtrain/operator/leader_election.h"
#include "ringtrain/operator/operator_metrics.h"

namespace ringtrain::op {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Lines to stderr: "2026-12-01T19:00:00.123Z info  message". One mutex so that lines from
// several threads never interleave.
class Logger {
 public:
  explicit Logger(LogLevel level) : level_(level) {}
  void Log(LogLevel level, const std::string& message) const {
    if (level < level_) return;
    static constexpr const char* kNames[] = {"debug", "info ", "warn ", "error"};
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const int ms = static_cast<int>(
        std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[32];
    std::strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    std::lock_guard<std::mutex> lock(mu_);
    std::fprintf(stderr, "%s.%03dZ %s %s\n", ts, ms, kNames[static_cast<int>(level)],
                 message.c_str());
  }

 private:
  const LogLevel level_;
  mutable std::mutex mu_;
};

StatusOr<std::unique_ptr<HttpServer>> Serve(const std::string& flag, const std::string& address,
                                            std::map<std::string, HttpHandler> routes) {
  if (address.empty() || address == "0") return std::unique_ptr<HttpServer>();
  HttpServerOptions options;
  RT_RETURN_IF_ERROR(ParseBindAddress(flag, address, &options.host, &options.port));
  if (options.host.empty()) options.host = "0.0.0.0";
  options.routes = std::move(routes);
  return HttpServer::Start(std::move(options));
}

bool Stopping(const std::atomic<int>& stop) { return stop.load() != 0; }

}  // namespace

Status ParseBindAddress(const std::string& flag, const std::string& value, std::string* host,
                        int* port) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument(flag + ": expected host:port or :port (got \"" + value + "\")");
  }
  *host = value.substr(0, colon);
  const std::string digits = value.substr(colon + 1);
  int p = 0;
  if (digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos || (p = std::stoi(digits)) < 1 ||
      p > 65535) {
    return InvalidArgument(flag + ": port must be 1..65535 (got \"" + value + "\")");
  }
  *port = p;
  return Status::Ok();
}

StatusOr<std::map<std::string, std::string>> ParseLabelList(const std::string& text) {
  std::map<std::string, std::string> labels;
  // Label syntax's characters: a prefix "example.com/" then name characters.
  auto valid = [](const std::string& s, bool key) {
    if (s.empty() ? key : s.size() > (key ? 316u : 63u)) return false;
    for (char c : s) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
          !(key && c == '/')) {
        return false;
      }
    }
    return true;
  };
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string entry = text.substr(start, end - start);
    const size_t eq = entry.find('=');
    const std::string key = entry.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : entry.substr(eq + 1);
    if (eq == std::string::npos || !valid(key, true) || !valid(value, false)) {
      return InvalidArgument("expected key=value in label syntax (got \"" + entry + "\")");
    }
    labels[key] = value;
    start = end + 1;
  }
  return labels;
}

StatusOr<LogLevel> ParseLogLevel(const std::string& value) {
  if (value == "debug") return LogLevel::kDebug;
  if (value == "info") return LogLevel::kInfo;
  if (value == "warn") return LogLevel::kWarn;
  if (value == "error") return LogLevel::kError;
  return InvalidArgument("--log-level: expected debug, info, warn or error (got \"" + value +
                         "\")");
}

Status RunOperator(const OperatorConfig& config, const std::atomic<int>& stop) {
  const Logger logger(config.log_level);
  auto info = [&logger](const std::string& m) { logger.Log(LogLevel::kInfo, m); };

  kube::ClientOptions client_options;
  client_options.request_timeout = config.request_timeout;
  client_options.watch_read_timeout = seconds(90);
  StatusOr<std::unique_ptr<kube::RestClient>> client =
      kube::RestClient::Make(config.cluster, client_options);
  if (!client.ok()) return client.status();

  MetricsRegistry registry;
  HealthState health;
  StatusOr<std::unique_ptr<HttpServer>> health_server = Serve(
      "--health-probe-bind-address", config.health_address, ObservabilityRoutes(health, registry));
  if (!health_server.ok()) return health_server.status();
  StatusOr<std::unique_ptr<HttpServer>> metrics_server = Serve(
      "--metrics-bind-address", config.metrics_address, ObservabilityRoutes(health, registry));
  if (!metrics_server.ok()) return metrics_server.status();
  info(
      "ringtrain-operator: API server " + config.cluster.server + " (" + config.cluster.source +
      "), watching " +
      (config.watch_namespace.empty() ? "every namespace" : "namespace " + config.watch_namespace) +
      (config.health_address.empty() ? "" : ", probes on " + config.health_address) +
      (config.metrics_address.empty() || config.metrics_address == "0"
           ? ""
           : ", metrics on " + config.metrics_address));

  ControllerOptions controller_options;
  controller_options.ns = config.watch_namespace;
  controller_options.workers = config.workers;
  controller_options.resources = config.resources;
  controller_options.log = info;
  // Failover: a lost server's successor is asked to serve its shard (replicated jobs only).
  std::unique_ptr<ShardControl> shard_control = MakeZmqShardControl();
  controller_options.shard_control = shard_control.get();
  std::unique_ptr<ProgressSource> progress_source;
  if (config.progress_interval.count() > 0) {
    progress_source = MakeZmqProgressSource();
    controller_options.progress_source = progress_source.get();
    controller_options.progress_interval = config.progress_interval;
  }

  std::unique_ptr<kube::RestClient> election_client;
  std::unique_ptr<LeaderElector> elector;
  std::atomic<bool> stop_election{false};
  LeaderElectionOptions le;
  if (config.leader_elect) {
    le.lease_namespace = config.lease_namespace;
    le.lease_name = config.lease_name;
    le.identity = config.identity;
    RT_RETURN_IF_ERROR(ValidateLeaderElectionOptions(le));
    // The elector's own client: its requests must time out well inside renew_deadline, so a
    // hung call ends leadership on time instead of stretching it.
    kube::ClientOptions election_options = client_options;
    election_options.request_timeout = std::min(
        config.request_timeout, std::chrono::duration_cast<seconds>(le.renew_deadline / 3));
    StatusOr<std::unique_ptr<kube::RestClient>> made =
        kube::RestClient::Make(config.cluster, election_options);
    if (!made.ok()) return made.status();
    election_client = std::move(made).value();
    elector = std::make_unique<LeaderElector>(*election_client, le);
  }
  // The controller writes through a client fenced on leadership: a reconcile in flight when
  // the Lease lapses cannot write any more.
  kube::FencedClient fenced(**client, [&elector] { return !elector || elector->IsLeader(); });
  // Built (not started) before the election, so that a standby's /metrics says what it is.
  Controller controller(fenced, controller_options);
  // The servers go before the controller their /metrics reads (declared after it: destroyed
  // first, on every path out of here).
  struct StopServersFirst {
    std::unique_ptr<HttpServer>& a;
    std::unique_ptr<HttpServer>& b;
    ~StopServersFirst() {
      a.reset();
      b.reset();
    }
  } stop_servers_first{*health_server, *metrics_server};
  RegisterOperatorMetrics(registry, controller, elector.get());
  if (elector) {
    health.SetReady();  // a standby is ready: it can take over
    info("leader election: Lease " + le.lease_namespace + "/" + le.lease_name + " as " +
         le.identity + "; standing by");
    // Acquire polls its flag; the signal arrives as `stop`, so a thread relays it.
    std::thread relay([&] {
      while (!Stopping(stop) && !stop_election) std::this_thread::sleep_for(milliseconds(50));
      stop_election = true;
    });
    const Status acquired = elector->Acquire(stop_election);
    stop_election = true;
    relay.join();
    if (!acquired.ok()) {
      if (acquired.code() == StatusCode::kCancelled) return Status::Ok();
      return acquired;
    }
    stop_election = false;
    info("leader election: leading");
  }

  // Hold renews from the moment the Lease is held, while the caches sync too, until told to
  // stop (only after the controller stopped: nothing reconciles once the Lease is handed
  // back) or until the Lease is lost.
  Status lost;
  std::thread holder;
  if (elector) holder = std::thread([&] { lost = elector->Hold(stop_election); });
  auto stop_holding = [&] {
    stop_election = true;
    if (holder.joinable()) holder.join();
  };
  health.SetNotReady("syncing caches");
  const Status started = controller.Start(milliseconds(config.sync_timeout));
  if (!started.ok()) {
    controller.Stop();
    stop_holding();  // hands the Lease back
    return started;
  }
  health.SetReady();
  info("caches synced; reconciling with " + std::to_string(config.workers) + " workers");

  while (!Stopping(stop) && (!elector || elector->IsLeader())) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  health.SetNotReady("stopping");
  controller.Stop();
  stop_holding();
  if (Stopping(stop)) lost = Status::Ok();
  if (!lost.ok()) {
    logger.Log(LogLevel::kError, "leader election: lost the Lease: " + lost.ToString());
    return lost;
  }
  info("stopped");
  return Status::Ok();
}

}  // namespace ringtrain::op
