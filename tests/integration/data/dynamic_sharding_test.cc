// Dynamic sharding (spec.dataset.sharding: dynamic, issue 13) through `ringtrain run`: the data
// queue on a parameter server hands out tasks as workers ask for them.
//
// - async, worker 1 stopped (SIGSTOP) for the first epoch: worker 0 takes the tasks meanwhile, so
// the
//   slow worker trains on fewer rows; every task of every epoch is finished exactly once and the
//   workers' samples add up to every row once per epoch.
// - sync, worker 1 killed (SIGKILL) in the middle of an epoch and replaced: its task goes back
//   to the queue when the replacement joins, every task is still finished once (no record
//   lost), and what was read twice is counted.
// - sync with checkpoints, stopped with SIGINT after epoch 1 and started again: the queue
//   continues from the checkpoint of the server keeping it; the finished tasks still add up.
// - ssp: the last tasks finish (a worker without one keeps pushing empty steps).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "ringtrain/launch/child_process.h"
#include "text_job.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;

const std::string kBinary = RINGTRAIN_BINARY;
constexpr int kRows = 20000;
constexpr int kEpochs = 3;

class DynamicShardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("dynamic");
    std::filesystem::create_directories(dir_ + "/train");
    const data::Dataset train = testing::MakeSyntheticImages(kRows, 8, 10, 1);
    ASSERT_TRUE(testing::WriteFile(dir_ + "/train/part-0", testing::ToLibsvm(train, 0, 12000)));
    ASSERT_TRUE(testing::WriteGzipText(dir_ + "/train/part-1.gz",
                                       testing::ToLibsvm(train, 12000, kRows - 12000)));
    ASSERT_TRUE(
        testing::WriteFile(dir_ + "/test.libsvm",
                           testing::ToLibsvm(testing::MakeSyntheticImages(500, 8, 10, 2), 0, 500)));
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Writes the job (epochs kEpochs, `mode`) and starts `ringtrain run` on it.
  std::unique_ptr<launch::ChildProcess> Start(const std::string& name, const std::string& mode,
                                              const std::string& extra_spec = "",
                                              const std::string& tag = "") {
    const std::string spec = testing::TextJob(
        name, "libsvm", dir_ + "/train/", dir_ + "/test.libsvm", "    sharding: dynamic\n",
        "  runPolicy: {restartPolicy: OnFailure, backoffLimit: 3}\n" + extra_spec,
        {.servers = 2, .workers = 2, .epochs = kEpochs, .sync_mode = mode});
    spec_ = dir_ + "/" + name + ".yaml";
    EXPECT_TRUE(testing::WriteFile(spec_, spec));
    log_ = dir_ + "/" + name + tag + ".log";
    logs_ = dir_ + "/logs-" + name + tag;
    auto run = launch::ChildProcess::Spawn("run",
                                           {kBinary, "run", "--no-progress", "--log-dir", logs_,
                                            "--output", dir_ + "/out-" + name, spec_},
                                           {}, log_);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? std::move(run).value() : nullptr;
  }

  // The tasks an epoch, from worker 0's log.
  int64_t TasksPerEpoch() const {
    std::smatch m;
    const std::string log = ReadFile(logs_ + "/worker-0.log");
    if (!std::regex_search(log, m, std::regex("dynamic sharding: (\\d+) tasks an epoch"))) {
      return -1;
    }
    return std::stoll(m[1]);
  }

  // The data queue's line of the summary: finished, handed out, given back, finished again.
  static std::vector<int64_t> QueueCounters(const std::string& out) {
    std::smatch m;
    if (!std::regex_search(out, m,
                           std::regex("data queue +(\\d+) tasks finished \\(each task of each "
                                      "epoch once\\), (\\d+) handed out, (\\d+) given back .*, "
                                      "(\\d+) finished again"))) {
      return {};
    }
    return {std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3]), std::stoll(m[4])};
  }

  // "worker-K: finished N steps, S samples" of the last process of worker K.
  int64_t Samples(int worker) const {
    const std::string log = ReadFile(logs_ + "/worker-" + std::to_string(worker) + ".log");
    const std::regex finished("finished \\d+ steps, (\\d+) samples");
    int64_t samples = -1;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), finished);
         it != std::sregex_iterator(); ++it) {
      samples = std::stoll((*it)[1]);
    }
    return samples;
  }

  std::string dir_;
  std::string spec_;
  std::string log_;
  std::string logs_;
};

TEST_F(DynamicShardingTest, ASlowWorkerTakesFewerTasksAndEveryTaskIsFinishedOnce) {
  auto run = Start("slow", "async");
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(testing::WaitForText(logs_ + "/worker-1.log", "dynamic sharding:")) << ReadFile(log_);
  const int worker1 = testing::FindJobProcess(spec_, "worker", 1);
  ASSERT_GT(worker1, 0);
  // Stopped until worker 0 has gone through the first epoch (however fast this machine is).
  ASSERT_EQ(kill(worker1, SIGSTOP), 0);
  const bool first_epoch = testing::WaitForText(log_, "epoch 1/3  test accuracy");
  ASSERT_EQ(kill(worker1, SIGCONT), 0);
  ASSERT_TRUE(first_epoch) << ReadFile(log_);
  auto exit = testing::WaitForExit(*run, std::chrono::seconds(300));
  const std::string out = ReadFile(log_);
  ASSERT_TRUE(exit.has_value() && exit->success()) << out;
  EXPECT_GE(testing::SummaryAccuracy(out), 0.9) << out;
  const int64_t tasks = TasksPerEpoch();
  ASSERT_GT(tasks, 10);
  const std::vector<int64_t> q = QueueCounters(out);
  ASSERT_EQ(q.size(), 4u) << out;
  EXPECT_EQ(q[0], tasks * kEpochs) << out;
  EXPECT_EQ(q[1], tasks * kEpochs) << "nothing given back, nothing handed out twice: " << out;
  EXPECT_EQ(q[3], 0) << out;
  const int64_t s0 = Samples(0);
  const int64_t s1 = Samples(1);
  EXPECT_EQ(s0 + s1, int64_t{kRows} * kEpochs) << "every row once an epoch";
  EXPECT_GT(s0, s1 * 3 / 2) << "worker 1 was stopped for an epoch: worker 0 read more";
  std::printf(
      "async, worker 1 stopped an epoch: worker 0 %lld samples, worker 1 %lld; %lld tasks\n",
      static_cast<long long>(s0), static_cast<long long>(s1), static_cast<long long>(q[0]));
}

// ssp: a worker with no task left keeps pushing empty steps, or the one reading the last task
// would wait for its clock for ever (the staleness bound).
TEST_F(DynamicShardingTest, SspFinishesItsLastTasks) {
  auto run = Start("ssp", "ssp");
  ASSERT_NE(run, nullptr);
  auto exit = testing::WaitForExit(*run, std::chrono::seconds(300));
  const std::string out = ReadFile(log_);
  ASSERT_TRUE(exit.has_value() && exit->success()) << out;
  EXPECT_GE(testing::SummaryAccuracy(out), 0.9) << out;
  const std::vector<int64_t> q = QueueCounters(out);
  ASSERT_EQ(q.size(), 4u) << out;
  EXPECT_EQ(q[0], TasksPerEpoch() * kEpochs) << out;
  EXPECT_EQ(Samples(0) + Samples(1), int64_t{kRows} * kEpochs);
}

TEST_F(DynamicShardingTest, AWorkerKilledMidEpochLosesNoTaskAndTheRereadIsCounted) {
  auto run = Start("killed", "sync");
  ASSERT_NE(run, nullptr);
  // In the middle of training: once worker 1 has trained a while.
  ASSERT_TRUE(testing::WaitForText(log_, "epoch 1/3  test accuracy")) << ReadFile(log_);
  const int worker1 = testing::FindJobProcess(spec_, "worker", 1);
  ASSERT_GT(worker1, 0);
  ASSERT_EQ(kill(worker1, SIGKILL), 0);
  auto exit = testing::WaitForExit(*run, std::chrono::seconds(300));
  const std::string out = ReadFile(log_);
  ASSERT_TRUE(exit.has_value() && exit->success()) << out;
  EXPECT_THAT(out, HasSubstr("worker-1 failed (killed by signal 9"));
  EXPECT_GE(testing::SummaryAccuracy(out), 0.9) << out;
  const int64_t tasks = TasksPerEpoch();
  const std::vector<int64_t> q = QueueCounters(out);
  ASSERT_EQ(q.size(), 4u) << out;
  EXPECT_EQ(q[0], tasks * kEpochs) << "every task of every epoch finished once: " << out;
  EXPECT_EQ(q[2], 1) << "the killed worker's task was given back: " << out;
  EXPECT_EQ(q[1], tasks * kEpochs + 1) << "and handed out again: " << out;
  std::printf("sync, worker 1 killed: %lld tasks finished, %lld handed out, %lld given back\n",
              static_cast<long long>(q[0]), static_cast<long long>(q[1]),
              static_cast<long long>(q[2]));
}

TEST_F(DynamicShardingTest, TheQueueContinuesFromItsServersCheckpoint) {
  const std::string ckpt = "  checkpoint: {path: " + dir_ + "/ckpt, everySteps: 20}\n";
  auto first = Start("resumed", "sync", ckpt, "-first");
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(testing::WaitForText(log_, "epoch 1/3  test accuracy")) << ReadFile(log_);
  first->Signal(SIGINT);
  auto stopped = testing::WaitForExit(*first, std::chrono::seconds(60));
  ASSERT_TRUE(stopped.has_value()) << ReadFile(log_);
  auto second = Start("resumed", "sync", ckpt, "-second");
  ASSERT_NE(second, nullptr);
  auto exit = testing::WaitForExit(*second, std::chrono::seconds(300));
  const std::string out = ReadFile(log_);
  ASSERT_TRUE(exit.has_value() && exit->success()) << out;
  EXPECT_THAT(out, HasSubstr("continues from its checkpoint at step"));
  EXPECT_GE(testing::SummaryAccuracy(out), 0.9) << out;
  const int64_t tasks = TasksPerEpoch();
  const std::vector<int64_t> q = QueueCounters(out);
  ASSERT_EQ(q.size(), 4u) << out;
  // The counters are the queue's, restored with it: the whole job's.
  EXPECT_EQ(q[0], tasks * kEpochs) << out;
  EXPECT_LE(q[2], 2) << "at most the two tasks held at the checkpoint given back: " << out;
}

}  // namespace
}  // namespace ringtrain
