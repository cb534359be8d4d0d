// ChildProcess: a local PS or worker process started by the launcher.
//
// The child runs `argv` with exactly the environment given (plus PATH/HOME/TMPDIR inherited),
// its stdout and stderr appended to `log_path`, in the launcher's process group, and with
// PR_SET_PDEATHSIG so it dies if the launcher dies — no orphans even if the launcher is
// killed with SIGKILL.
//
// Thread-safety: not thread-safe; owned by the launcher's thread.
#ifndef RINGTRAIN_LAUNCH_CHILD_PROCESS_H_
#define RINGTRAIN_LAUNCH_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ringtrain/common/status.h"

namespace ringtrain::launch {

struct ExitInfo {
  int exit_code = 0;  // valid when !signaled
  int signal = 0;     // valid when signaled
  bool signaled = false;

  bool success() const { return !signaled && exit_code == 0; }
  std::string ToString() const;  // "exit code 3" / "killed by signal 9 (Killed)"
};

class ChildProcess {
 public:
  // `cpu` >= 0: the child runs on that CPU only (sched_setaffinity before exec; if the kernel
  // refuses, it runs where the launcher may). -1: where the launcher may.
  static StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      const std::string& name, const std::vector<std::string>& argv,
      const std::map<std::string, std::string>& env, const std::string& log_path, int cpu = -1);
  // Kills the child (SIGKILL) if it is still running and reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }
  pid_t pid() const { return pid_; }

  // Reaps the child if it has exited; never blocks. Returns its exit once known.
  std::optional<ExitInfo> Poll();
  bool running() { return !Poll().has_value(); }

  // Sends `signal` if the child still runs.
  void Signal(int signal);

  // SIGTERM, then SIGKILL if it has not exited after `grace`. Returns its exit.
  ExitInfo Terminate(std::chrono::milliseconds grace);

  // Reads the child's peak resident memory so far (VmHWM of /proc/<pid>/status: the process's
  // own, not the launcher's it was forked from, which wait4's ru_maxrss would include) while
  // it runs (nothing once it has been reaped). The caller samples as often as it needs.
  void SamplePeakMemory();
  // The largest sample, or -1 when none was taken.
  int64_t peak_rss_bytes() const { return peak_rss_bytes_; }

  // The last `max_lines` lines of the child's log.
  std::string LogTail(int max_lines) const;

 private:
  ChildProcess(std::string name, pid_t pid, std::string log_path)
      : name_(std::move(name)), pid_(pid), log_path_(std::move(log_path)) {}
  // wait4: sets exit_ once the child has exited (waiting for it when `block`).
  void Reap(bool block);

  std::string name_;
  pid_t pid_;
  std::string log_path_;
  std::optional<ExitInfo> exit_;
  int64_t peak_rss_bytes_ = -1;
};

}  // namespace ringtrain::launch

#endif  // RINGTRAIN_LAUNCH_CHILD_PROCESS_H_
