// ParseTrainingJob and ToJson: both walk the field table (spec_table.h).
#include "ringtrain/job/parse.h"

#include "ringtrain/job/memory_estimate.h"

#include "spec_table.h"

namespace ringtrain::job {

StatusOr<TrainingJob> ParseTrainingJob(const nlohmann::json& doc) {
  TrainingJob job;
  RT_RETURN_IF_ERROR(internal::TrainingJobTable().Parse(doc, "", &job));
  // What the spec alone says about memory (the data's shape is checked where data is read).
  RT_RETURN_IF_ERROR(CheckMemoryLimits(job.spec, EstimateMemory(job.spec, DataShape{})));
  return job;
}

Status CheckForCluster(const TrainingJob& job) {
  return internal::SpecTable().CheckClusterRules(job.spec, "spec");
}

nlohmann::json ToJson(const TrainingJob& job) { return internal::TrainingJobTable().Write(job); }

nlohmann::json VolumeToJson(const VolumeSpec& volume) {
  return internal::VolumeTable().Write(volume);
}

nlohmann::json VolumeMountToJson(const VolumeMountSpec& mount) {
  return internal::VolumeMountTable().Write(mount);
}

}  // namespace ringtrain::job
