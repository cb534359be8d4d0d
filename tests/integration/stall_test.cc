// A stopped process stalls a job (issue 12): `ringtrain run` says so within its stall interval
// (30 s without a step), naming the server that has gone silent, or the worker the servers
// wait for, and says when training goes on again; the job then ends well. Real runs: a process
// stopped with SIGSTOP (its kernel still holds its connections; only the ZMTP heartbeats notice
// it is gone) and continued.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "job_fixture.h"
#include "process_helpers.h"
#include "ringtrain/launch/child_process.h"

namespace ringtrain {
namespace {

using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

const std::string kBinary = RINGTRAIN_BINARY;

using testing::ReadFile;

// Waits until `needle` is in the file at `path`, or `timeout`; returns whether it is.
bool WaitForText(const std::string& path, const std::string& needle, std::chrono::seconds timeout) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (ReadFile(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// Starts `ringtrain run` on a job long enough to be under way when one of its processes stops
// and to go on after (softmax on 8x8 images: a few seconds of training besides the stall);
// once the job's four processes exist and a second has passed, stops process (role, index)
// with SIGSTOP and returns its pid (0 on failure, with the test failed).
int StartAndStop(const testing::JobFixture& job, const std::string& log, const char* role,
                 int index, std::unique_ptr<launch::ChildProcess>* run) {
  auto spawned =
      launch::ChildProcess::Spawn("run", {kBinary, "run", "--no-progress", job.spec_path}, {}, log);
  EXPECT_TRUE(spawned.ok()) << spawned.status().ToString();
  if (!spawned.ok()) return 0;
  *run = std::move(*spawned);
  // The workers start once both servers are ready.
  const size_t started = testing::WaitForProcessesWithEnv("RINGTRAIN_SPEC_PATH=" + job.spec_path, 4,
                                                          std::chrono::seconds(60))
                             .size();
  EXPECT_GE(started, 4u) << (*run)->LogTail(20);
  if (started < 4) return 0;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int pid = testing::FindJobProcess(job.spec_path, role, index);
  EXPECT_GT(pid, 0);
  if (pid <= 0 || kill(pid, SIGSTOP) != 0) return 0;
  return pid;
}

// Once the stopped process continues: the run says training goes on, and the job ends well.
void ExpectItGoesOnAndEndsWell(const std::string& log, launch::ChildProcess& run) {
  EXPECT_TRUE(WaitForText(log, "ringtrain: training goes on again", std::chrono::seconds(60)))
      << ReadFile(log);
  auto exit = testing::WaitForExit(run, std::chrono::seconds(300));
  ASSERT_TRUE(exit.has_value()) << ReadFile(log);
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << ReadFile(log);
  EXPECT_GE(testing::SummaryAccuracy(ReadFile(log)), 0.9) << ReadFile(log);
}

TEST(StallTest, AStoppedServerIsNamedAndTrainingGoesOnOnceItContinues) {
  auto job = testing::JobFixture::Make("stall", 20000, 2, 2, 30);
  const std::string log = job.dir + "/run.log";
  std::unique_ptr<launch::ChildProcess> run;
  const int ps1 = StartAndStop(job, log, "ps", 1, &run);
  ASSERT_GT(ps1, 0);
  const bool named = WaitForText(log, "no training step for 30 s; silent: ps-1 (nothing for",
                                 std::chrono::seconds(60));
  ASSERT_EQ(kill(ps1, SIGCONT), 0);
  EXPECT_TRUE(named) << ReadFile(log);
  ExpectItGoesOnAndEndsWell(log, *run);
}

// A stopped worker holds up every sync round; the servers still report, and say which worker
// their round waits for (Event.waiting_for): the run names it.
TEST(StallTest, AStoppedWorkerIsNamedByTheServersThatWaitForIt) {
  auto job = testing::JobFixture::Make("stallw", 20000, 2, 2, 30);
  const std::string log = job.dir + "/run.log";
  std::unique_ptr<launch::ChildProcess> run;
  const int worker1 = StartAndStop(job, log, "worker", 1, &run);
  ASSERT_GT(worker1, 0);
  const bool named = WaitForText(
      log, "every server still reports; the servers wait for worker-1 (stopped, or slow)",
      std::chrono::seconds(60));
  ASSERT_EQ(kill(worker1, SIGCONT), 0);
  EXPECT_TRUE(named) << ReadFile(log);
  ExpectItGoesOnAndEndsWell(log, *run);
}

}  // namespace
}  // namespace ringtrain
