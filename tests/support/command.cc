#include "command.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <vector>

namespace ringtrain::testing {

CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

void StopWhenThisProcessEnds(const std::string& stop_script, const std::string& dir) {
  const std::string guard = "pid=" + std::to_string(::getpid()) +
                            "; while kill -0 $pid 2>/dev/null; do sleep 1; done; bash " +
                            ShellQuote(stop_script) + " " + ShellQuote(dir) + "; rm -rf " +
                            ShellQuote(dir);
  RunCommand("setsid bash -c " + ShellQuote(guard) + " </dev/null >/dev/null 2>&1 &");
}

std::string TailFile(const std::string& path, size_t max_lines) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

}  // namespace ringtrain::testing
