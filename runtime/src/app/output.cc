#include "ringtrain/app/output.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ringtrain/app/object_checkpoints.h"

namespace ringtrain::app {

std::string LocalDirectoryOf(const std::string& spec_path) {
  return spec_path.rfind("file://", 0) == 0 ? spec_path.substr(7) : spec_path;
}

std::string OutputDirectoryOf(const job::TrainingJob& job) {
  return job.spec.output ? LocalDirectoryOf(job.spec.output->path) : "";
}

std::string OutputDirectoryFor(const job::TrainingJob& job, const job::PodContract& contract) {
  if (contract.role != job::Role::kWorker || contract.index != 0) return "";
  if (!contract.output_dir.empty()) return contract.output_dir;
  return OutputDirectoryOf(job);
}

std::string DefaultOutputDirectory(const job::TrainingJob& job) {
  return (std::filesystem::path("ringtrain-output") / job.metadata.name).string();
}

std::string ModelPathIn(const std::string& directory) {
  return (std::filesystem::path(directory) / kModelFileName).string();
}

StatusOr<std::string> WriteModelInto(const std::string& directory, const ModelWriter& write,
                                     const JobPlan& plan, std::span<const float> params,
                                     storage::Storage& storage, const std::string& staging) {
  if (!IsObjectLocation(directory)) {
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) {
      return Unavailable("cannot create the output directory " + directory + ": " + ec.message());
    }
  }
  const std::string target = ModelPathIn(directory);
  RT_RETURN_IF_ERROR(WriteModelTo(target, write, plan, params, storage, staging));
  return target;
}

Status WriteModelTo(const std::string& target, const ModelWriter& write, const JobPlan& plan,
                    std::span<const float> params, storage::Storage& storage,
                    const std::string& staging) {
  if (!IsObjectLocation(target)) return write(plan, params, target);
  std::error_code ec;
  std::filesystem::create_directories(staging, ec);
  if (ec)
    return Unavailable("cannot create the staging directory " + staging + ": " + ec.message());
  const std::string staged = ModelPathIn(staging);
  RT_RETURN_IF_ERROR(write(plan, params, staged));
  std::ifstream in(staged, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const bool read = !in.bad();
  in.close();
  std::filesystem::remove(staged, ec);
  if (!read) return Unavailable("cannot read the staged model " + staged);
  return storage.Put(target, bytes.str()).WithContext("uploading the model");
}

}  // namespace ringtrain::app
