// RunDirectory: the private directory of a local run's ipc:// sockets (Transport::kIpc).
//
// A new directory (mkdtemp: mode 0700, so only this user can enter it, and so connect to a
// socket in it) whose sockets are named after their processes: ipc://<dir>/ps-0, .../control.
// It stands in for CURVE on one machine: the processes check it is theirs alone
// (app::CheckPrivateDirectory) and then need no keys. Unix socket paths are limited to 107
// bytes: a $TMPDIR too long for them gives way to /tmp. The directory and its sockets are
// removed when the RunDirectory goes away.
//
// Thread-safety: a move-only owner; use from one thread.
#ifndef RINGTRAIN_LAUNCH_RUN_DIRECTORY_H_
#define RINGTRAIN_LAUNCH_RUN_DIRECTORY_H_

#include <string>

#include "ringtrain/common/status.h"

namespace ringtrain::launch {

class RunDirectory {
 public:
  // Makes the directory under `parent` (or /tmp, see the top).
  static StatusOr<RunDirectory> Create(const std::string& parent);
  RunDirectory(RunDirectory&& other) noexcept;
  RunDirectory& operator=(RunDirectory&& other) noexcept;
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;
  ~RunDirectory();

  const std::string& path() const { return path_; }
  // "ipc://<path>/<name>". REQUIRES: `name` is at most 16 bytes, without '/'.
  std::string Endpoint(const std::string& name) const { return "ipc://" + path_ + "/" + name; }

 private:
  explicit RunDirectory(std::string path) : path_(std::move(path)) {}
  std::string path_;  // empty once moved from
};

}  // namespace ringtrain::launch

#endif  // RINGTRAIN_LAUNCH_RUN_DIRECTORY_H_
