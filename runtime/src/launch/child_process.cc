#include "ringtrain/launch/child_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

namespace ringtrain::launch {

namespace {

ExitInfo FromWaitStatus(int status) {
  ExitInfo e;
  if (WIFSIGNALED(status)) {
    e.signaled = true;
    e.signal = WTERMSIG(status);
  } else {
    e.exit_code = WEXITSTATUS(status);
  }
  return e;
}

}  // namespace

std::string ExitInfo::ToString() const {
  if (signaled) {
    return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  }
  return "exit code " + std::to_string(exit_code);
}

StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    const std::string& name, const std::vector<std::string>& argv,
    const std::map<std::string, std::string>& env, const std::string& log_path, int cpu) {
  if (argv.empty()) return InvalidArgument("spawn " + name + ": empty argv");
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Unavailable("cannot open log file " + log_path + ": " + std::strerror(errno));
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls after.
  std::vector<std::string> env_strings;
  // The environment a child keeps: the basics, the sanitizers', and what object storage reads
  // (storage::S3OptionsFromEnvironment), so a job's workers reach the data `ringtrain run`
  // checked with the same credentials.
  for (const char* keep :
       {"PATH", "HOME", "TMPDIR", "LANG", "ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS",
        "LSAN_OPTIONS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
        "AWS_S3_ADDRESSING_STYLE"}) {
    if (const char* v = std::getenv(keep); v != nullptr && env.count(keep) == 0) {
      env_strings.push_back(std::string(keep) + "=" + v);
    }
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);
  const pid_t parent = getpid();
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (cpu >= 0 && cpu < CPU_SETSIZE) CPU_SET(cpu, &cpus);

  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return Unavailable("fork for " + name + " failed: " + std::strerror(errno));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the launcher died before prctl took effect
    if (CPU_COUNT(&cpus) > 0) (void)sched_setaffinity(0, sizeof(cpus), &cpus);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execve(argp[0], argp.data(), envp.data());
    const char msg[] = "ringtrain launcher: execve failed\n";
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(127);
  }
  close(log_fd);
  return std::unique_ptr<ChildProcess>(new ChildProcess(name, pid, log_path));
}

ChildProcess::~ChildProcess() {
  if (!Poll().has_value()) {
    kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
}

void ChildProcess::Reap(bool block) {
  int status = 0;
  pid_t r;
  while ((r = waitpid(pid_, &status, block ? 0 : WNOHANG)) < 0 && errno == EINTR) {
  }
  // Blocking, a failure (the child was reaped elsewhere) reads as an exit with code 0.
  if (r == pid_ || (block && r < 0)) exit_ = FromWaitStatus(status);
}

void ChildProcess::SamplePeakMemory() {
  if (exit_.has_value()) return;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    // "VmHWM:     12345 kB"
    const int64_t kib = std::atoll(line.c_str() + 6);
    if (kib > 0) peak_rss_bytes_ = std::max(peak_rss_bytes_, kib * 1024);
    return;
  }
}

std::optional<ExitInfo> ChildProcess::Poll() {
  if (!exit_.has_value()) Reap(/*block=*/false);
  return exit_;
}

void ChildProcess::Signal(int signal) {
  if (!Poll().has_value()) kill(pid_, signal);
}

ExitInfo ChildProcess::Terminate(std::chrono::milliseconds grace) {
  Signal(SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!Poll().has_value() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!Poll().has_value()) {
    kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
  return *exit_;
}

std::string ChildProcess::LogTail(int max_lines) const {
  std::ifstream in(log_path_);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

}  // namespace ringtrain::launch
