#include "ringtrain/app/memory_check.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace ringtrain::app {
namespace {

// The first unsigned integer in `path` ("max" and missing files give 0).
uint64_t ReadNumber(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text)) return 0;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() ? v : 0;
}

}  // namespace

uint64_t MachineMemory::usable() const {
  if (total_bytes == 0) return cgroup_limit_bytes;
  if (cgroup_limit_bytes == 0) return total_bytes;
  return std::min(total_bytes, cgroup_limit_bytes);
}

std::string MachineMemory::Describe() const {
  if (cgroup_limit_bytes != 0 && (total_bytes == 0 || cgroup_limit_bytes < total_bytes)) {
    return "its cgroup's memory limit of " + job::FormatBytes(cgroup_limit_bytes);
  }
  return "this machine's " + job::FormatBytes(total_bytes) + " of memory";
}

MachineMemory ReadMachineMemory() {
  MachineMemory m;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (meminfo >> key >> kb) {
    std::getline(meminfo, unit);
    if (key == "MemTotal:") {
      m.total_bytes = kb * 1024;
      break;
    }
  }
  // cgroup v2, then v1 (whose "no limit" is a huge number, larger than any machine).
  uint64_t limit = ReadNumber("/sys/fs/cgroup/memory.max");
  if (limit == 0) limit = ReadNumber("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  if (limit != 0 && (m.total_bytes == 0 || limit < m.total_bytes)) m.cgroup_limit_bytes = limit;
  return m;
}

job::MemoryEstimate EstimateFor(const job::TrainingJobSpec& spec, const DatasetShape& shape) {
  job::DataShape data;
  data.input_dim = shape.input_dim;
  data.num_classes = shape.num_classes;
  data.train_rows = shape.train_rows;
  data.test_rows = shape.test_rows;
  return job::EstimateMemory(spec, data);
}

Status CheckJobFits(const job::TrainingJobSpec& spec, const job::MemoryEstimate& estimate,
                    const MachineMemory& machine) {
  const uint64_t usable = machine.usable();
  if (usable == 0 || estimate.job_bytes <= usable) return Status::Ok();
  const int servers = spec.parameter_servers.replicas;
  const int workers = spec.workers.replicas;
  std::ostringstream parts;
  parts << servers << " parameter server" << (servers == 1 ? "" : "s") << " x "
        << job::FormatBytes(estimate.server.bytes) << ", ";
  if (workers > 1) {
    parts << workers - 1 << " worker" << (workers == 2 ? "" : "s") << " x "
          << job::FormatBytes(estimate.worker.bytes) << " and worker 0 ";
  } else {
    parts << "1 worker ";
  }
  parts << job::FormatBytes(estimate.worker0.bytes) << "; " << estimate.parameters
        << " parameters; a parameter server holds " << estimate.server.breakdown << "; a worker "
        << estimate.worker0.breakdown;
  return InvalidArgument("the job needs at least " + job::FormatBytes(estimate.job_bytes) +
                         " of memory on one machine (" + parts.str() + "), more than " +
                         machine.Describe());
}

Status CheckProcessFits(const std::string& who, const job::ProcessMemory& floor,
                        const MachineMemory& machine) {
  const uint64_t usable = machine.usable();
  if (usable == 0 || floor.bytes <= usable) return Status::Ok();
  return InvalidArgument(who + " needs at least " + job::FormatBytes(floor.bytes) + " (" +
                         floor.breakdown + "), more than " + machine.Describe());
}

}  // namespace ringtrain::app
