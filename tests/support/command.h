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

// The last `max_lines` lines of the file at `path` ("" if it cannot be read).
std::string TailFile(const std::string& path, size_t max_lines = 40);

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_COMMAND_H_
