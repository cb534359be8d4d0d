// Conversions between the API server's JSON and the planner's plain values: a TrainingJob
// object to a JobView (its spec parsed by the job library; a bad spec becomes spec_error, not a
// failure), owned Pods to PodViews, and a JobStatus to and from the `status` of the object
// (RFC 3339 times, metav1.Condition shape). Pure functions.
#ifndef RINGTRAIN_OPERATOR_API_CONVERT_H_
#define RINGTRAIN_OPERATOR_API_CONVERT_H_

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/operator/job_state.h"

namespace ringtrain::op {

// "2026-11-25T03:04:05Z" (seconds precision, UTC), as Kubernetes writes times.
std::string FormatTime(Time t);
StatusOr<Time> ParseTime(const std::string& s);

nlohmann::json StatusToJson(const JobStatus& status);
// Fields it does not know are ignored; malformed ones are left at their defaults.
JobStatus StatusFromJson(const nlohmann::json& status);

// The job as the planner sees it. Never fails: an unparseable spec is reported in
// view.spec_error (naming the field) so the planner can mark the job Failed/InvalidSpec.
JobView JobViewFromObject(const nlohmann::json& object);

// A pod owned by a job, or nullopt if it lacks the ringtrain role/index labels.
std::optional<PodView> PodViewFromObject(const nlohmann::json& pod);

// Worker 0's final progress from its termination message (the record of
// ringtrain/job/final_progress.h), or nullopt if the message is not one (e.g. an error text).
std::optional<Progress> ProgressFromTerminationMessage(const std::string& message);

// The job a running job's ConfigMap holds (see resources.h), or nullopt if unreadable.
std::optional<job::TrainingJob> JobFromConfigMap(const nlohmann::json& config_map);

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_API_CONVERT_H_
