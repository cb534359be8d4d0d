#include "ringtrain/app/output.h"

#include <filesystem>

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

}  // namespace ringtrain::app
