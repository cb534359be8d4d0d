// Fixture builders of the planner's tests (planner_test.cc, planner_recovery_test.cc): a
// job, its view, its pods, and what a plan does, as strings.
#ifndef RINGTRAIN_TESTS_UNIT_OPERATOR_PLANNER_FIXTURES_H_
#define RINGTRAIN_TESTS_UNIT_OPERATOR_PLANNER_FIXTURES_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "fake_job_keys.h"
#include "ringtrain/operator/names.h"
#include "ringtrain/operator/planner.h"

namespace ringtrain::op {

inline const Time kNow = Time() + std::chrono::hours(1000);

// Fixture builders.
inline job::TrainingJob MakeJob(int ps = 2, int workers = 2) {
  job::TrainingJob j;
  j.api_version = job::kApiVersion;
  j.kind = job::kKind;
  j.metadata.name = "mnist";
  j.metadata.namespace_ = "team";
  j.spec.model.type = job::ModelType::kSoftmax;
  j.spec.dataset.train = {"file:///data/images.gz", "file:///data/labels.gz", ""};
  j.spec.parameter_servers.replicas = ps;
  j.spec.workers.replicas = workers;
  j.spec.workers.resources.requests = {{"cpu", "1"}, {"memory", "1Gi"}};
  return j;
}

inline JobView MakeView(const job::TrainingJob& j) {
  JobView v;
  v.name = j.metadata.name;
  v.ns = j.metadata.namespace_;
  v.uid = "uid-1";
  v.generation = 1;
  v.job = j;
  v.spec_hash = SpecHash(j);
  return v;
}

inline PodView Pod(job::Role role, int index, const std::string& phase,
                   std::optional<int> exit_code = std::nullopt) {
  PodView p;
  p.role = role;
  p.index = index;
  p.name = PodName("mnist", role, index);
  p.phase = phase;
  p.ready = phase == "Running";
  p.exit_code = exit_code;
  return p;
}

// Everything created, every pod in `phase`.
inline OwnedObjects AllPods(const job::TrainingJob& j, const std::string& phase) {
  OwnedObjects o;
  o.config_map = o.ps_service = o.worker_service = true;
  o.config_map_hash = SpecHash(j);
  for (int i = 0; i < j.spec.parameter_servers.replicas; ++i) {
    o.pods.push_back(Pod(job::Role::kParameterServer, i, phase));
  }
  for (int i = 0; i < j.spec.workers.replicas; ++i) {
    o.pods.push_back(Pod(job::Role::kWorker, i, phase));
  }
  return o;
}

inline Plan Reconcile(const JobView& v, const OwnedObjects& o,
                      const std::optional<job::TrainingJob>& running = std::nullopt,
                      Time now = kNow) {
  return PlanReconcile(v, running ? running : v.job, o, TestResourceOptions(), now);
}

inline std::vector<std::string> Creates(const Plan& p) {
  std::vector<std::string> out;
  for (const Action& a : p.actions) {
    if (a.type == ActionType::kCreate) {
      out.push_back(a.object["kind"].get<std::string>() + "/" +
                    a.object["metadata"]["name"].get<std::string>());
    }
  }
  return out;
}

inline std::vector<std::string> Deletes(const Plan& p) {
  std::vector<std::string> out;
  for (const Action& a : p.actions) {
    if (a.type == ActionType::kDeletePod) out.push_back(a.name);
  }
  return out;
}

inline std::vector<std::string> Events(const Plan& p) {
  std::vector<std::string> out;
  for (const Action& a : p.actions) {
    if (a.type == ActionType::kEvent) out.push_back(a.event_type + ":" + a.reason);
  }
  return out;
}

}  // namespace ringtrain::op

#endif  // RINGTRAIN_TESTS_UNIT_OPERATOR_PLANNER_FIXTURES_H_
