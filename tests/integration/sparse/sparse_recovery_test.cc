// Click-through models outlive their processes (issue 14 with issue 11's machinery), through
// `ringtrain run` on generated data, 2 servers and 2 workers:
//
// - Resume: an FM job stopped with SIGINT after its third epoch and started again continues
//   from its checkpoints — both shards' sparse tables restored, no epoch repeated, no push lost
//   — and ends within 0.002 of the log-loss and AUC of the same job run uninterrupted (--fresh).
// - Failover: with parameterServers.replication: 1, server ps-1 killed once it has a
//   checkpoint and replaced 2 s later; its successor serves its sparse rows meanwhile from its
//   copy, the replacement takes them back, no push is lost, and the model comes as close to
//   the ground truth as a fault-free run does.
//
// Alone (SERIAL): it kills its own processes by pid.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "ctr_runs.h"
#include "process_helpers.h"
#include "ringtrain/launch/child_process.h"

namespace ringtrain {
namespace {

using ctr_runs::CtrJob;
using ctr_runs::kBinary;
using ctr_runs::Outcome;
using ctr_runs::RunRingtrain;
using ::testing::HasSubstr;
using ::testing::Not;

class SparseRecoveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("sparse-recovery"));
    truth_ = ctr_runs::GenerateCtr(*dir_, 50000);
    ASSERT_GT(truth_, 0.3);
  }
  static void TearDownTestSuite() {
    if (!::testing::UnitTest::GetInstance()->Failed()) std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // Writes job `name`, checkpointed every 20 steps under dir_/name, and returns its path.
  static std::string WriteJob(const std::string& name, const std::string& model,
                              const std::string& optimizer, int epochs,
                              const std::string& extra = "") {
    const std::string spec = *dir_ + "/" + name + ".yaml";
    EXPECT_TRUE(testing::WriteFile(spec, CtrJob(*dir_, model, optimizer, name, epochs,
                                                "  checkpoint: {path: " + *dir_ + "/" + name +
                                                    ", everySteps: 20, keep: 2}\n" + extra)));
    return spec;
  }

  static std::unique_ptr<launch::ChildProcess> Spawn(const std::string& spec,
                                                     const std::string& log,
                                                     std::vector<std::string> flags = {}) {
    std::vector<std::string> argv = {kBinary, "run", "--no-progress"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(spec);
    auto run = launch::ChildProcess::Spawn("run", argv, {}, log);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? std::move(run).value() : nullptr;
  }

  static std::string* dir_;
  static double truth_;
};

std::string* SparseRecoveryTest::dir_ = nullptr;
double SparseRecoveryTest::truth_ = 0;

TEST_F(SparseRecoveryTest, AStoppedFmJobResumesFromItsCheckpointsAndMatchesAnUninterruptedRun) {
  const std::string name = "fm-resume";
  const std::string spec =
      WriteJob(name, "{type: fm, embeddingSize: 4}", "{type: adagrad, learningRate: 0.05}", 6);
  // 1. Stopped with SIGINT once epoch 3 has been evaluated.
  const std::string log = *dir_ + "/" + name + "-first.log";
  std::unique_ptr<launch::ChildProcess> first = Spawn(spec, log);
  ASSERT_NE(first, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (testing::ReadFile(log).find("epoch 3/6  test AUC") == std::string::npos) {
    ASSERT_TRUE(first->running()) << testing::ReadFile(log);
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << testing::ReadFile(log);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  first->Signal(SIGINT);
  auto stopped = testing::WaitForExit(*first, std::chrono::seconds(60));
  ASSERT_TRUE(stopped.has_value()) << testing::ReadFile(log);
  ASSERT_EQ(stopped->exit_code, 128 + SIGINT) << testing::ReadFile(log);
  ASSERT_THAT(testing::ReadFile(log), Not(HasSubstr("epoch 6/6  test AUC")))
      << "the job finished before it could be stopped";

  // 2. Started again: both shards' sparse tables restored, epochs 1-3 not repeated.
  const Outcome resumed = RunRingtrain(*dir_, name + "-resumed", {"run", "--no-progress", spec});
  ASSERT_TRUE(resumed.success) << resumed.log;
  EXPECT_THAT(resumed.log, HasSubstr("ps-0 continues from its checkpoint at step"));
  EXPECT_THAT(resumed.log, HasSubstr("ps-1 continues from its checkpoint at step"));
  EXPECT_THAT(resumed.log, HasSubstr("2 of 2 shards from checkpoints"));
  for (int epoch = 1; epoch <= 3; ++epoch) {
    EXPECT_THAT(resumed.log, Not(HasSubstr("epoch " + std::to_string(epoch) + "/6  test AUC")));
  }
  EXPECT_THAT(resumed.log, HasSubstr("epoch 6/6  test AUC"));
  EXPECT_THAT(resumed.log, HasSubstr("pushes lost          0 (ps-0 0, ps-1 0;"));

  // 3. Once more: finished, and says so.
  const Outcome again = RunRingtrain(*dir_, name + "-again", {"run", "--no-progress", spec});
  EXPECT_FALSE(again.success) << again.log;
  EXPECT_THAT(again.log, HasSubstr("has already finished: its final checkpoints (step"));

  // 4. --fresh: the same job uninterrupted, from step 0.
  const Outcome fresh =
      RunRingtrain(*dir_, name + "-fresh", {"run", "--no-progress", "--fresh", spec});
  ASSERT_TRUE(fresh.success) << fresh.log;
  EXPECT_THAT(fresh.log, HasSubstr("epoch 1/6  test AUC"));
  const double loss = testing::SummaryLogLoss(resumed.log);
  const double baseline = testing::SummaryLogLoss(fresh.log);
  ASSERT_GT(baseline, 0) << fresh.log;
  EXPECT_LT(baseline, truth_ * 1.08) << fresh.log;
  // Sync rounds over the same batches: the resumed run replays at most the round in progress
  // at the stop (measured: equal to 4 decimals).
  EXPECT_NEAR(loss, baseline, 0.002) << resumed.log << fresh.log;
  EXPECT_NEAR(testing::SummaryAuc(resumed.log), testing::SummaryAuc(fresh.log), 0.002);
  std::printf("resumed: log-loss %.5f AUC %.5f; uninterrupted: log-loss %.5f AUC %.5f\n", loss,
              testing::SummaryAuc(resumed.log), baseline, testing::SummaryAuc(fresh.log));
}

TEST_F(SparseRecoveryTest, AKilledServersRowsAreServedByItsCopyAndComeBackWithNothingLost) {
  const std::string name = "lr-failover";
  const std::string spec = WriteJob(name, "{type: logistic}", "{type: ftrl, learningRate: 2.0}", 12,
                                    "  runPolicy: {restartPolicy: OnFailure, backoffLimit: 3}\n");
  // replication: 1 in the parameterServers line; gradients sent as fp16 (decoded where they
  // arrive, so the copies forwarded to the backup are float32).
  std::string text = testing::ReadFile(spec);
  text = std::regex_replace(text, std::regex("parameterServers: \\{replicas: 2\\}"),
                            "parameterServers: {replicas: 2, replication: 1}");
  text = std::regex_replace(text, std::regex("(    optimizer: .*\n)"),
                            "$1    compression: {type: fp16}\n");
  ASSERT_TRUE(testing::WriteFile(spec, text));
  const std::string log = *dir_ + "/" + name + ".log";
  std::unique_ptr<launch::ChildProcess> run = Spawn(spec, log, {"--replace-delay", "2"});
  ASSERT_NE(run, nullptr);
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (!killed && run->running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!testing::HasCompleteCheckpoint(*dir_ + "/" + name + "/" + name + "/ps-1")) continue;
    const int pid = testing::FindJobProcess(spec, "ps", 1);
    killed = pid > 0 && kill(pid, SIGKILL) == 0;
  }
  auto exit = testing::WaitForExit(*run, std::chrono::seconds(300));
  const std::string out = testing::ReadFile(log);
  ASSERT_TRUE(killed) << "ps-1 was not killed\n" << out;
  ASSERT_TRUE(exit.has_value()) << out;
  ASSERT_EQ(exit->exit_code, 0) << out;
  EXPECT_THAT(out, HasSubstr("ps-1 failed (killed by signal 9 (Killed)); replacing it alone"));
  EXPECT_THAT(out, HasSubstr("it restores its shard from the copy on ps-0"));
  EXPECT_THAT(out, HasSubstr("(the copy on ps-0)"));
  EXPECT_THAT(out, HasSubstr("pushes lost          0 (ps-0 0, ps-1 0;"));
  EXPECT_THAT(out, HasSubstr("takeovers            ps-0 served ps-1's shard 1 time"));
  // Every one of the 8 x 200 values has a row on one of the servers, the killed one's included.
  EXPECT_THAT(out, HasSubstr("sparse table         1600 keys"));
  EXPECT_THAT(out, HasSubstr("fewer than dense float32"));
  const double loss = testing::SummaryLogLoss(out);
  EXPECT_GT(loss, truth_) << out;
  EXPECT_LT(loss, truth_ * 1.05) << out;
  std::cout << out.substr(out.find("summary")) << std::endl;
  std::printf("failover: log-loss %.5f, ground truth %.5f\n", loss, truth_);
}

}  // namespace
}  // namespace ringtrain
