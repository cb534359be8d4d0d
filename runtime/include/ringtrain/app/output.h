// Where a job's trained model goes: the directory worker 0 writes model.onnx into at the end of
// training (spec.output, or the directory `ringtrain run` chooses), and the hook that writes it.
//
// The runtime does not know the model's file format: the ONNX exporter sits above it
// (ringtrain::export), so `ringtrain worker` hands RunWorker a ModelWriter (app/roles.h) that
// calls it.
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_APP_OUTPUT_H_
#define RINGTRAIN_APP_OUTPUT_H_

#include <functional>
#include <span>
#include <string>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/common/status.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::app {

// The model's file in an output directory.
inline constexpr char kModelFileName[] = "model.onnx";

// Writes the model of `plan` with parameters `params` (plan.table->total_size() floats) to the
// file `path`, atomically. Errors name the path.
using ModelWriter = std::function<Status(const JobPlan& plan, std::span<const float> params,
                                         const std::string& path)>;

// A directory of the spec ("file:///abs" or a plain path) as a path: "file://" dropped.
std::string LocalDirectoryOf(const std::string& spec_path);

// The directory spec.output names, or "" when the spec has none.
std::string OutputDirectoryOf(const job::TrainingJob& job);

// Where process `contract` writes the model: its RINGTRAIN_OUTPUT_DIR if set, else
// OutputDirectoryOf(job); "" for every process but worker 0, and when neither says.
std::string OutputDirectoryFor(const job::TrainingJob& job, const job::PodContract& contract);

// `ringtrain run`'s directory when the spec has no output: "ringtrain-output/<job name>",
// relative to the directory it runs in.
std::string DefaultOutputDirectory(const job::TrainingJob& job);

// <directory>/model.onnx (a location in an object store alike).
std::string ModelPathIn(const std::string& directory);

// Writes the model with `write` to ModelPathIn(directory) and returns that: in a local directory
// (created if missing), or in an object store (app/object_checkpoints.h, IsObjectLocation),
// where it is written into the local directory `staging` first and uploaded whole through
// `storage` (then the staged file is deleted). Errors name the location.
[[nodiscard]] StatusOr<std::string> WriteModelInto(const std::string& directory,
                                                   const ModelWriter& write, const JobPlan& plan,
                                                   std::span<const float> params,
                                                   storage::Storage& storage,
                                                   const std::string& staging);
// The same to the file or object `target` (its directory is not created).
[[nodiscard]] Status WriteModelTo(const std::string& target, const ModelWriter& write,
                                  const JobPlan& plan, std::span<const float> params,
                                  storage::Storage& storage, const std::string& staging);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_OUTPUT_H_
