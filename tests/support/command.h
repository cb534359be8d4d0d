// Running shell commands from tests (the fixtures' start and stop scripts, kubectl, helm).
//
// Thread-safety: RunCommand may be called from several threads at once.
#ifndef RINGTRAIN_TESTS_SUPPORT_COMMAND_H_
#define RINGTRAIN_TESTS_SUPPORT_COMMAND_H_

#include <cstddef>
#include <string>

namespace ringtrain::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` with /bin/sh; output captured.
CommandResult RunCommand(const std::string& command);

// `s` in single quotes for /bin/sh (a ' inside becomes '\'').
std::string ShellQuote(const std::string& s);

// Once this process is gone, however it ends, runs `bash <stop_script> <dir>` and removes `dir`
// (a detached guard: a fixture's servers never outlive a crashed test). After a clean teardown
// it finds nothing left to do.
void StopWhenThisProcessEnds(const std::string& stop_script, const std::string& dir);

// The last `max_lines` lines of the file at `path` ("" if it cannot be read).
std::string TailFile(const std::string& path, size_t max_lines = 40);

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_COMMAND_H_
