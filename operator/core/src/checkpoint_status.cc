#include "ringtrain/operator/checkpoint_status.h"

#include <algorithm>
#include <chrono>

namespace ringtrain::op {

std::optional<CheckpointStatus> JobCheckpointStatus(const std::map<int, ServerCheckpoint>& reported,
                                                    int num_servers, const std::string& location) {
  if (num_servers < 1) return std::nullopt;
  CheckpointStatus status;
  status.location = location;
  for (int i = 0; i < num_servers; ++i) {
    auto it = reported.find(i);
    if (it == reported.end()) return std::nullopt;
    const ServerCheckpoint& c = it->second;
    status.step = i == 0 ? c.step : std::min(status.step, c.step);
    status.time = i == 0 ? c.time : std::max(status.time, c.time);
  }
  // To the second, as the status keeps it (RFC 3339): a status read back compares equal.
  status.time = std::chrono::floor<std::chrono::seconds>(status.time);
  return status;
}

std::string JobCheckpointLocation(const job::TrainingJob& job) {
  if (!job.spec.checkpoint) return "";
  std::string path = job.spec.checkpoint->path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path + (path.ends_with('/') ? "" : "/") + job.metadata.name;
}

}  // namespace ringtrain::op
