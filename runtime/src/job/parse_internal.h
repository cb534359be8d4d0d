// Internal to the job library: the parsers of the parts of a TrainingJob, split between
// parse.cc (object, metadata, replicas, run policy) and parse_training.cc (model, dataset,
// training). Each takes the value at `path` and fills *out on success.
#ifndef RINGTRAIN_SRC_JOB_PARSE_INTERNAL_H_
#define RINGTRAIN_SRC_JOB_PARSE_INTERNAL_H_

#include <string>

#include <nlohmann/json.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::job::internal {

Status ParseModel(const nlohmann::json& v, const std::string& path, ModelSpec* out);
Status ParseDataset(const nlohmann::json& v, const std::string& path, DatasetSpec* out);
Status ParseTraining(const nlohmann::json& v, const std::string& path, TrainingSpec* out);

}  // namespace ringtrain::job::internal

#endif  // RINGTRAIN_SRC_JOB_PARSE_INTERNAL_H_
