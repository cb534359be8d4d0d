// The operator's standard HTTP routes: /healthz (liveness), /readyz (readiness) and /metrics
// (Prometheus), and the HealthState the first two report.
//
//   HealthState health;  // healthy, not ready ("starting")
//   auto server = HttpServer::Start({.host = "0.0.0.0", .port = 8080,
//                                    .routes = ObservabilityRoutes(health, registry)});
//   ... caches synced:  health.SetReady();
//
// Thread-safety: HealthState may be read and written from any thread.
#ifndef RINGTRAIN_OPERATOR_HEALTH_H_
#define RINGTRAIN_OPERATOR_HEALTH_H_

#include <map>
#include <mutex>
#include <string>

#include "ringtrain/operator/http_server.h"
#include "ringtrain/operator/metrics.h"

namespace ringtrain::op {

// The Prometheus text format's content type, as /metrics sends it.
inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

class HealthState {
 public:
  struct Check {
    bool ok = false;
    std::string reason;  // why not ok; empty when ok
  };

  // Starts healthy and not ready, with reason "starting".
  HealthState() = default;
  HealthState(const HealthState&) = delete;
  HealthState& operator=(const HealthState&) = delete;

  void SetHealthy();
  void SetUnhealthy(std::string reason);
  void SetReady();
  void SetNotReady(std::string reason);

  Check Health() const;
  Check Readiness() const;

 private:
  mutable std::mutex mu_;
  Check health_{true, ""};              // GUARDED_BY(mu_)
  Check readiness_{false, "starting"};  // GUARDED_BY(mu_)
};

// /healthz: 200 "ok", or 500 with the reason.
// /readyz:  200 "ok", or 503 with the reason.
// /metrics: 200 with registry.Render(), content type kPrometheusContentType.
// REQUIRES: `health` and `registry` outlive every server the routes are given to.
std::map<std::string, HttpHandler> ObservabilityRoutes(const HealthState& health,
                                                       const MetricsRegistry& registry);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_HEALTH_H_
