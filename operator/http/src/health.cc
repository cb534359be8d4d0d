#include "ringtrain/operator/health.h"

#include <utility>

namespace ringtrain::op {

void HealthState::SetHealthy() {
  std::lock_guard<std::mutex> lock(mu_);
  health_ = {true, ""};
}

void HealthState::SetUnhealthy(std::string reason) {
  std::lock_guard<std::mutex> lock(mu_);
  health_ = {false, std::move(reason)};
}

void HealthState::SetReady() {
  std::lock_guard<std::mutex> lock(mu_);
  readiness_ = {true, ""};
}

void HealthState::SetNotReady(std::string reason) {
  std::lock_guard<std::mutex> lock(mu_);
  readiness_ = {false, std::move(reason)};
}

HealthState::Check HealthState::Health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return health_;
}

HealthState::Check HealthState::Readiness() const {
  std::lock_guard<std::mutex> lock(mu_);
  return readiness_;
}

namespace {

HttpResponse Probe(const HealthState::Check& check, int failure_status) {
  HttpResponse response;
  if (check.ok) {
    response.body = "ok";
  } else {
    response.status = failure_status;
    response.body = check.reason.empty() ? "not ok" : check.reason;
  }
  return response;
}

}  // namespace

std::map<std::string, HttpHandler> ObservabilityRoutes(const HealthState& health,
                                                       const MetricsRegistry& registry) {
  std::map<std::string, HttpHandler> routes;
  routes["/healthz"] = [&health] { return Probe(health.Health(), 500); };
  routes["/readyz"] = [&health] { return Probe(health.Readiness(), 503); };
  routes["/metrics"] = [&registry] {
    return HttpResponse{200, kPrometheusContentType, registry.Render()};
  };
  return routes;
}

}  // namespace ringtrain::op
