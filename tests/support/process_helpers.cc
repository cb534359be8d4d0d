#include "process_helpers.h"

#include <dirent.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>

#include "ringtrain/launch/child_process.h"

namespace ringtrain::testing {

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                         const std::map<std::string, std::string>& env) {
  CommandResult result;
  const std::string dir = MakeTempDir("cmd");
  const std::string log = dir + "/out.log";
  auto child = launch::ChildProcess::Spawn("cmd", argv, env, log);
  if (!child.ok()) {
    result.output = child.status().ToString();
    return result;
  }
  if (auto exit = WaitForExit(**child, timeout)) {
    result.exit_code = exit->signaled ? 128 + exit->signal : exit->exit_code;
  } else {
    (*child)->Terminate(std::chrono::seconds(5));
  }
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  result.output = ss.str();
  return result;
}

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                        "/ringtrain-test-" + prefix + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

double SummaryAccuracy(const std::string& output) {
  const std::string key = "test accuracy        ";
  const size_t at = output.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(output.substr(at + key.size(), 6));
}

bool WaitForText(const std::string& path, const std::string& text, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

double SummaryTestLoss(const std::string& output) {
  const std::string key = "(test loss ";
  const size_t at = output.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(output.substr(at + key.size(), 6));
}

namespace {

// The number after the first `key` in `output`, or -1.
double NumberAfter(const std::string& output, const std::string& key) {
  const size_t at = output.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(output.substr(at + key.size(), 12));
}

}  // namespace

double SummaryAuc(const std::string& output) {
  return NumberAfter(output, "  test AUC             ");
}

double SummaryLogLoss(const std::string& output) { return NumberAfter(output, "(test log-loss "); }

std::vector<int> ProcessesWithEnv(const std::string& needle) {
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* e = readdir(proc)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (env.find(needle) != std::string::npos) {
      // Zombies still list their environment; only count live processes.
      std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
      std::string s;
      std::getline(stat, s);
      const size_t p = s.rfind(')');
      if (p != std::string::npos && p + 2 < s.size() && s[p + 2] == 'Z') continue;
      pids.push_back(pid);
    }
  }
  closedir(proc);
  return pids;
}

std::optional<std::string> ProcessEnv(int pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  const std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string key = name + '=';
  for (size_t at = 0; at < env.size();) {
    size_t end = env.find('\0', at);
    if (end == std::string::npos) end = env.size();
    if (env.compare(at, key.size(), key) == 0)
      return env.substr(at + key.size(), end - at - key.size());
    at = end + 1;
  }
  return std::nullopt;
}

int FindJobProcess(const std::string& spec, const std::string& role, int index) {
  for (int pid : ProcessesWithEnv("RINGTRAIN_SPEC_PATH=" + spec)) {
    if (ProcessEnv(pid, "RINGTRAIN_ROLE") == role &&
        ProcessEnv(pid, "RINGTRAIN_INDEX") == std::to_string(index)) {
      return pid;
    }
  }
  return -1;
}

bool ProcessEnded(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(stat, s)) return true;
  const size_t p = s.rfind(')');
  return p != std::string::npos && p + 2 < s.size() && (s[p + 2] == 'Z' || s[p + 2] == 'X');
}

std::vector<int> WaitForProcessesWithEnv(const std::string& needle, size_t count,
                                         std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<int> pids = ProcessesWithEnv(needle);
  while (pids.size() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pids = ProcessesWithEnv(needle);
  }
  return pids;
}

std::optional<launch::ExitInfo> WaitForExit(launch::ChildProcess& process,
                                            std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process.running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return process.Poll();
}

bool HasCompleteCheckpoint(const std::string& shard_dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(shard_dir, ec)) {
    if (entry.path().filename().string().starts_with("ckpt-") &&
        std::filesystem::exists(entry.path() / "MANIFEST", ec)) {
      return true;
    }
  }
  return false;
}

int64_t LatestCheckpointStep(const std::string& shard_dir) {
  int64_t latest = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(shard_dir, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t at = name.rfind("-step-");
    if (!name.starts_with("ckpt-") || at == std::string::npos ||
        !std::filesystem::exists(entry.path() / "MANIFEST", ec)) {
      continue;
    }
    try {
      latest = std::max<int64_t>(latest, std::stoll(name.substr(at + 6)));
    } catch (const std::exception&) {
      // not one of ours
    }
  }
  return latest;
}

}  // namespace ringtrain::testing
