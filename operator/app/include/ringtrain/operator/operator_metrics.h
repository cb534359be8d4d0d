// The operator's Prometheus metrics, read from the controller and the elector at scrape time:
//
//   ringtrain_operator_reconciles_total{result="success|error|conflict"}   counter
//   ringtrain_operator_reconcile_seconds_total                              counter
//   ringtrain_operator_reconcile_waits_total (caches behind own writes)     counter
//   ringtrain_operator_objects_created_total / _deleted_total              counter
//   ringtrain_operator_workqueue_depth                                      gauge
//   ringtrain_operator_trainingjobs{phase}                                  gauge
//   ringtrain_operator_informer_{lists,watches,gone,errors}_total{resource} counter
//   ringtrain_operator_informer_objects{resource}                           gauge
//   ringtrain_operator_leader (1 while this replica leads; 1 without election)  gauge
//
// REQUIRES: `controller` and `elector` (nullptr: no leader election) outlive the registry's
// last Render.
#ifndef RINGTRAIN_OPERATOR_OPERATOR_METRICS_H_
#define RINGTRAIN_OPERATOR_OPERATOR_METRICS_H_

#include "ringtrain/operator/controller.h"
#include "ringtrain/operator/leader_election.h"
#include "ringtrain/operator/metrics.h"

namespace ringtrain::op {

void RegisterOperatorMetrics(MetricsRegistry& registry, const Controller& controller,
                             const LeaderElector* elector);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_OPERATOR_METRICS_H_
