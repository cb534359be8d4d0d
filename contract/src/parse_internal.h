// Internal to the job library: the parsers of the parts of a TrainingJob, split between
// parse.cc (object, metadata, replicas, run policy), parse_training.cc (model, dataset,
// training) and parse_volumes.cc (volumes, volume mounts). Each takes the value at `path` and
// fills *out on success.
#ifndef RINGTRAIN_SRC_JOB_PARSE_INTERNAL_H_
#define RINGTRAIN_SRC_JOB_PARSE_INTERNAL_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::job::internal {

Status ParseModel(const nlohmann::json& v, const std::string& path, ModelSpec* out);
Status ParseDataset(const nlohmann::json& v, const std::string& path, DatasetSpec* out);
Status ParseTraining(const nlohmann::json& v, const std::string& path, TrainingSpec* out);
// spec.volumes: appends to *out.
Status ParseVolumes(const nlohmann::json& v, const std::string& path, std::vector<VolumeSpec>* out);
// A role's volumeMounts: appends to *out.
Status ParseVolumeMounts(const nlohmann::json& v, const std::string& path,
                         std::vector<VolumeMountSpec>* out);
// Every one of `mounts` (at `path`) names one of `volumes`.
Status CheckVolumeMounts(const std::vector<VolumeSpec>& volumes,
                         const std::vector<VolumeMountSpec>& mounts, const std::string& path);

}  // namespace ringtrain::job::internal

#endif  // RINGTRAIN_SRC_JOB_PARSE_INTERNAL_H_
