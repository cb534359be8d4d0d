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

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Waits until `needle` is in the file at `path`, or `timeout`; returns whether it is.
bool WaitForText(const std::string& path, const std::string& needle, std::chrono::seconds timeout) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (ReadFile(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

TEST(StallTest, AStoppedServerIsNamedAndTrainingGoesOnOnceItContinues) {
  // Long enough to be under way when the server stops and to go on after (softmax on 8x8
  // images: a few seconds of training besides the stall).
  auto job = testing::JobFixture::Make("stall", 20000, 2, 2, 30);
  const std::string log = job.dir + "/run.log";
  auto run =
      launch::ChildProcess::Spawn("run", {kBinary, "run", "--no-progress", job.spec_path}, {}, log);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // Under way: the job's four processes exist (the workers start once both servers are
  // ready) and a second has passed.
  ASSERT_GE(testing::WaitForProcessesWithEnv("RINGTRAIN_SPEC_PATH=" + job.spec_path, 4,
                                             std::chrono::seconds(60))
                .size(),
            4u)
      << (*run)->LogTail(20);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int ps1 = testing::FindJobProcess(job.spec_path, "ps", 1);
  ASSERT_GT(ps1, 0);
  ASSERT_EQ(kill(ps1, SIGSTOP), 0);
  const bool named = WaitForText(log, "no training step for 30 s; silent: ps-1 (nothing for",
                                 std::chrono::seconds(60));
  ASSERT_EQ(kill(ps1, SIGCONT), 0);
  EXPECT_TRUE(named) << ReadFile(log);
  EXPECT_TRUE(WaitForText(log, "ringtrain: training goes on again", std::chrono::seconds(60)))
      << ReadFile(log);
  auto exit = testing::WaitForExit(**run, std::chrono::seconds(300));
  ASSERT_TRUE(exit.has_value()) << ReadFile(log);
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << ReadFile(log);
  EXPECT_GE(testing::SummaryAccuracy(ReadFile(log)), 0.9) << ReadFile(log);
}

// A stopped worker holds up every sync round; the servers still report, and say which worker
// their round waits for (Event.waiting_for): the run names it.
TEST(StallTest, AStoppedWorkerIsNamedByTheServersThatWaitForIt) {
  auto job = testing::JobFixture::Make("stallw", 20000, 2, 2, 30);
  const std::string log = job.dir + "/run.log";
  auto run =
      launch::ChildProcess::Spawn("run", {kBinary, "run", "--no-progress", job.spec_path}, {}, log);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_GE(testing::WaitForProcessesWithEnv("RINGTRAIN_SPEC_PATH=" + job.spec_path, 4,
                                             std::chrono::seconds(60))
                .size(),
            4u)
      << (*run)->LogTail(20);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int worker1 = testing::FindJobProcess(job.spec_path, "worker", 1);
  ASSERT_GT(worker1, 0);
  ASSERT_EQ(kill(worker1, SIGSTOP), 0);
  const bool named = WaitForText(
      log, "every server still reports; the servers wait for worker-1 (stopped, or slow)",
      std::chrono::seconds(60));
  ASSERT_EQ(kill(worker1, SIGCONT), 0);
  EXPECT_TRUE(named) << ReadFile(log);
  EXPECT_TRUE(WaitForText(log, "ringtrain: training goes on again", std::chrono::seconds(60)))
      << ReadFile(log);
  auto exit = testing::WaitForExit(**run, std::chrono::seconds(300));
  ASSERT_TRUE(exit.has_value()) << ReadFile(log);
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << ReadFile(log);
  EXPECT_GE(testing::SummaryAccuracy(ReadFile(log)), 0.9) << ReadFile(log);
}

}  // namespace
}  // namespace ringtrain
