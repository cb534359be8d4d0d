// ChildProcess's CPU pinning: a child spawned with a CPU runs on that CPU alone (the kernel's
// own account, /proc/self/status), one spawned without runs where the launcher may.
#include "ringtrain/launch/child_process.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace ringtrain::launch {
namespace {

// The child's Cpus_allowed_list line, as it printed it into its log.
std::string AllowedCpusOfChild(int cpu) {
  char dir_template[] = "/tmp/ringtrain-child-test-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const std::string log = dir + "/child.log";
  auto child = ChildProcess::Spawn("probe", {"/bin/grep", "Cpus_allowed_list", "/proc/self/status"},
                                   {}, log, cpu);
  EXPECT_TRUE(child.ok()) << child.status().ToString();
  if (!child.ok()) return "";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::optional<ExitInfo> exit;
  while (!(exit = (*child)->Poll()).has_value() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(exit.has_value() && exit->success());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove_all(dir);
  std::string line = text.str();
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  return line;
}

int LastUsableCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
  int last = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) last = cpu;
  }
  return last;
}

TEST(ChildProcessTest, ASpawnedChildRunsOnTheCpuItWasGiven) {
  const int cpu = LastUsableCpu();
  ASSERT_GE(cpu, 0);
  EXPECT_EQ(AllowedCpusOfChild(cpu), "Cpus_allowed_list:\t" + std::to_string(cpu));
}

TEST(ChildProcessTest, WithoutACpuTheChildRunsWhereTheLauncherMay) {
  std::ifstream in("/proc/self/status");
  std::string line, ours;
  while (std::getline(in, line)) {
    if (line.rfind("Cpus_allowed_list", 0) == 0) ours = line;
  }
  ASSERT_FALSE(ours.empty());
  EXPECT_EQ(AllowedCpusOfChild(-1), ours);
}

}  // namespace
}  // namespace ringtrain::launch
