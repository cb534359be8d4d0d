#include "ringtrain/operator/operator_metrics.h"

#include <string>

namespace ringtrain::op {

namespace {

// Informer counters by resource: `field` picks one.
GaugeSamples PerInformer(const Controller& controller, double (*field)(const InformerStats&)) {
  GaugeSamples out;
  for (const auto& [resource, stats] : controller.stats().informers) {
    out.push_back({{resource}, field(stats)});
  }
  return out;
}

}  // namespace

void RegisterOperatorMetrics(MetricsRegistry& registry, const Controller& controller,
                             const LeaderElector* elector) {
  const Controller* c = &controller;
  registry.AddCounterCallback(
      "ringtrain_operator_reconciles_total",
      "Reconciles of TrainingJobs by result (conflict: the job changed under the plan; retried).",
      {"result"}, [c] {
        const ControllerStats s = c->stats();
        return GaugeSamples{{{"success"}, static_cast<double>(s.reconciles - s.errors)},
                            {{"error"}, static_cast<double>(s.errors - s.conflicts)},
                            {{"conflict"}, static_cast<double>(s.conflicts)}};
      });
  registry.AddCounterCallback("ringtrain_operator_reconcile_seconds_total",
                              "Time spent reconciling.", {}, [c] {
                                return GaugeSamples{{{}, c->stats().reconcile_seconds}};
                              });
  registry.AddCounterCallback(
      "ringtrain_operator_reconcile_waits_total",
      "Reconciles deferred until the caches showed the operator's own last writes.", {}, [c] {
        return GaugeSamples{{{}, static_cast<double>(c->stats().waits)}};
      });
  registry.AddCounterCallback("ringtrain_operator_objects_created_total",
                              "Pods, Services and ConfigMaps created.", {}, [c] {
                                return GaugeSamples{{{}, static_cast<double>(c->stats().created)}};
                              });
  registry.AddCounterCallback("ringtrain_operator_objects_deleted_total",
                              "Pods and ConfigMaps deleted.", {}, [c] {
                                return GaugeSamples{{{}, static_cast<double>(c->stats().deleted)}};
                              });
  registry.AddGaugeCallback(
      "ringtrain_operator_workqueue_depth", "Jobs waiting to be reconciled.", {}, [c] {
        return GaugeSamples{{{}, static_cast<double>(c->stats().queue_length)}};
      });
  registry.AddGaugeCallback(
      "ringtrain_operator_trainingjobs", "TrainingJobs by status.phase.", {"phase"}, [c] {
        GaugeSamples out;
        for (const auto& [phase, n] : c->JobsByPhase()) {
          out.push_back({{phase.empty() ? "None" : phase}, static_cast<double>(n)});
        }
        return out;
      });
  registry.AddCounterCallback(
      "ringtrain_operator_informer_lists_total", "Lists (the first and every relist) by resource.",
      {"resource"}, [c] {
        return PerInformer(*c, [](const InformerStats& s) { return static_cast<double>(s.lists); });
      });
  registry.AddCounterCallback("ringtrain_operator_informer_watches_total",
                              "Watches opened by resource.", {"resource"}, [c] {
                                return PerInformer(*c, [](const InformerStats& s) {
                                  return static_cast<double>(s.watches);
                                });
                              });
  registry.AddCounterCallback(
      "ringtrain_operator_informer_gone_total",
      "410 Gone answers (each followed by a relist) by resource.", {"resource"}, [c] {
        return PerInformer(*c, [](const InformerStats& s) { return static_cast<double>(s.gone); });
      });
  registry.AddCounterCallback(
      "ringtrain_operator_informer_errors_total",
      "Failed lists and watches (retried with backoff) by resource.", {"resource"}, [c] {
        return PerInformer(*c,
                           [](const InformerStats& s) { return static_cast<double>(s.errors); });
      });
  registry.AddGaugeCallback(
      "ringtrain_operator_informer_objects", "Objects cached by resource.", {"resource"}, [c] {
        return PerInformer(*c,
                           [](const InformerStats& s) { return static_cast<double>(s.objects); });
      });
  registry.AddGaugeCallback(
      "ringtrain_operator_leader", "1 while this replica leads (always 1 without election).", {},
      [elector] {
        return GaugeSamples{{{}, elector == nullptr || elector->IsLeader() ? 1.0 : 0.0}};
      });
}

}  // namespace ringtrain::op
