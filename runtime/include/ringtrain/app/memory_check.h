// Refusing, before anything is allocated, a job or process that cannot fit in memory
// (job/memory_estimate.h has the estimate; the spec-only part is checked by ParseTrainingJob,
// and so by the operator).
//
// The machine's memory is read at the edge (ReadMachineMemory, from main) and passed in.
// Errors are InvalidArgument (an input error: exit 2) and give the numbers:
//   the job needs at least 40.1 GiB (2 parameter servers x 8.0 GiB, 2 workers x 12.0 GiB, ...),
//   more than this machine's 23.4 GiB
#ifndef RINGTRAIN_APP_MEMORY_CHECK_H_
#define RINGTRAIN_APP_MEMORY_CHECK_H_

#include <cstdint>
#include <string>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/common/status.h"
#include "ringtrain/job/memory_estimate.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::app {

// What this machine (or this container) can hold.
struct MachineMemory {
  uint64_t total_bytes = 0;         // MemTotal of /proc/meminfo; 0 = unknown
  uint64_t cgroup_limit_bytes = 0;  // the cgroup's memory.max (v2) or limit (v1); 0 = none
  // The smaller of the two that are known; 0 = nothing known (every check passes).
  uint64_t usable() const;
  // "23.4 GiB of memory" or "a cgroup limit of 1.0 GiB".
  std::string Describe() const;
};

// Reads /proc/meminfo and the cgroup's limit. Files that are missing count as unknown.
MachineMemory ReadMachineMemory();

// The estimate for a job whose data has `shape`.
job::MemoryEstimate EstimateFor(const job::TrainingJobSpec& spec, const DatasetShape& shape);

// `ringtrain run`: every process of the job on this machine.
[[nodiscard]] Status CheckJobFits(const job::TrainingJobSpec& spec,
                                  const job::MemoryEstimate& estimate,
                                  const MachineMemory& machine);

// One process (a pod, or a process of `run`), `who` ("ps-0", "worker-1") and its floor.
[[nodiscard]] Status CheckProcessFits(const std::string& who, const job::ProcessMemory& floor,
                                      const MachineMemory& machine);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_MEMORY_CHECK_H_
