// Consistency models with N workers and M parameter servers as threads over real ZeroMQ TCP
// sockets (tests/support/thread_cluster.h): a slowed worker shows that SSP bounds how far the
// others run ahead, that BSP keeps everyone in lock-step and that async lets them run free;
// every mode and every codec still trains.
//
// Instrumentation: each worker stores "steps pushed" in a shared counter just before each push
// leaves (so the counters are never behind what the servers have seen). When worker w is about
// to push step c, its pull for step c has been answered, so under ssp(s) every counter must be
// >= c - s, under sync >= c.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "ringtrain/app/job_plan.h"
#include "ringtrain/job/spec.h"
#include "synthetic_data.h"
#include "thread_cluster.h"

namespace ringtrain {
namespace {

constexpr int kSide = 8;
constexpr int kClasses = 5;

class ConsistencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    train_ = testing::MakeSyntheticImages(1200, kSide, kClasses, 11);
    test_ = testing::MakeSyntheticImages(400, kSide, kClasses, 12);
  }

  // The job every test varies: a TrainingJob as a user writes it.
  static job::TrainingJob Job(job::SyncMode mode) {
    job::TrainingJob job;
    job.metadata.name = "consistency";
    job.spec.parameter_servers.replicas = 2;
    job.spec.workers.replicas = 4;
    job.spec.parameter_servers.partition_size = 64;  // many partitions over both servers
    job.spec.model = {job::ModelType::kMlp, {16}};
    job.spec.training.optimizer.type = job::OptimizerType::kMomentum;
    job.spec.training.optimizer.momentum = 0.9;
    job.spec.training.optimizer.learning_rate = 0.05;
    job.spec.training.epochs = 2;
    job.spec.training.batch_size = 10;
    job.spec.training.sync_mode = mode;
    return job;
  }

  // Plans `job` as the pods would and runs it on the cluster of threads.
  StatusOr<testing::ClusterResult> Run(const job::TrainingJob& job,
                                       const testing::ClusterOptions& options) const {
    RT_ASSIGN_OR_RETURN(app::JobPlan plan, testing::PlanFor(job, train_, kClasses));
    return testing::RunCluster(plan, train_, &test_, options);
  }

  data::Dataset train_;
  data::Dataset test_;
};

// Records, for every push, how far the pushing worker is ahead of the slowest counter.
struct LeadRecorder {
  explicit LeadRecorder(int workers) : pushed(static_cast<size_t>(workers)) {}

  void BeforePush(int rank, int64_t step) {
    pushed[static_cast<size_t>(rank)].store(step + 1);
    int64_t slowest = INT64_MAX;
    for (const auto& p : pushed) slowest = std::min(slowest, p.load());
    // The worker is in step `step`; the slowest has pushed `slowest` steps.
    const int64_t lead = step - slowest;
    int64_t seen = max_lead.load();
    while (lead > seen && !max_lead.compare_exchange_weak(seen, lead)) {
    }
  }

  std::vector<std::atomic<int64_t>> pushed;
  std::atomic<int64_t> max_lead{INT64_MIN};
};

// Options that slow worker 2 by 4 ms a step and let `recorder` watch every push.
testing::ClusterOptions SlowWorker(LeadRecorder* recorder) {
  testing::ClusterOptions options;
  options.before_push = [recorder](int rank, int64_t step) {
    if (rank == 2) std::this_thread::sleep_for(std::chrono::milliseconds(4));
    recorder->BeforePush(rank, step);
  };
  return options;
}

TEST_F(ConsistencyTest, SspKeepsEveryWorkerWithinStalenessClocksOfTheSlowest) {
  constexpr int64_t kStaleness = 3;
  job::TrainingJob job = Job(job::SyncMode::kSsp);
  job.spec.training.staleness = kStaleness;
  LeadRecorder recorder(job.spec.workers.replicas);
  auto r = Run(job, SlowWorker(&recorder));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(recorder.max_lead.load(), kStaleness) << "a worker ran more than s clocks ahead";
  EXPECT_GE(recorder.max_lead.load(), 1) << "the fast workers never ran ahead at all";
  for (const proto::ServerStats& s : r->servers) {
    // The servers saw the fast workers reach the bound exactly, and parked them there.
    EXPECT_EQ(s.max_clock_lead(), static_cast<uint64_t>(kStaleness));
    EXPECT_GT(s.pulls_parked(), 0u);
    EXPECT_EQ(s.messages_dropped(), 0u);
    EXPECT_EQ(s.workers_done(), 4u);
  }
  EXPECT_GE(r->test_accuracy, 0.9);
}

TEST_F(ConsistencyTest, SyncKeepsWorkersInLockStep) {
  const job::TrainingJob job = Job(job::SyncMode::kSync);
  LeadRecorder recorder(job.spec.workers.replicas);
  auto r = Run(job, SlowWorker(&recorder));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(recorder.max_lead.load(), 0) << "a worker started a step before all finished the last";
  for (const proto::ServerStats& s : r->servers) EXPECT_EQ(s.max_clock_lead(), 0u);
  EXPECT_GE(r->test_accuracy, 0.9);
  // Worker 0 evaluated in the background (the cluster's default) and its last evaluation is in
  // the result; every worker timed its loop.
  for (const worker::TrainerResult& w : r->workers) {
    EXPECT_GT(w.train_seconds, 0.0);
    EXPECT_LE(w.train_seconds, r->seconds + 1.0);
  }
}

TEST_F(ConsistencyTest, AsyncLetsFastWorkersRunFreeOfTheSlowOne) {
  const job::TrainingJob job = Job(job::SyncMode::kAsync);
  LeadRecorder recorder(job.spec.workers.replicas);
  auto r = Run(job, SlowWorker(&recorder));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(recorder.max_lead.load(), 10) << "async should not hold the fast workers back";
  for (const proto::ServerStats& s : r->servers) {
    EXPECT_EQ(s.pulls_parked(), 0u);
    EXPECT_GT(s.staleness_max(), 0u) << "with four workers, gradients arrive stale";
  }
  EXPECT_GE(r->test_accuracy, 0.9);
}

TEST_F(ConsistencyTest, AsyncWithStalenessAwareRatesConverges) {
  job::TrainingJob job = Job(job::SyncMode::kAsync);
  job.spec.training.staleness_aware_lr = true;
  auto r = Run(job, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  uint64_t sum = 0, count = 0;
  for (const proto::ServerStats& s : r->servers) {
    sum += s.staleness_sum();
    count += s.staleness_count();
  }
  ASSERT_GT(count, 0u);
  EXPECT_GT(sum, 0u) << "some gradients were stale, so some rates were scaled";
  EXPECT_GE(r->test_accuracy, 0.9);
}

// Every worker but one finishes quickly and says WORKER_DONE; the last goes on alone.
TEST_F(ConsistencyTest, SspWithStalenessZeroDoesNotDeadlockWhenWorkersFinishApart) {
  job::TrainingJob job = Job(job::SyncMode::kSsp);
  job.spec.training.staleness = 0;
  job.spec.training.epochs = 1;
  testing::ClusterOptions options;
  options.before_push = [](int rank, int64_t step) {
    if (rank == 0 && step % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  auto r = Run(job, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& w : r->workers) EXPECT_EQ(w.steps, r->workers[0].steps);
}

// Each codec, with and without error feedback where it applies, trains in every mode.
struct CodecCase {
  job::CompressionType codec;
  bool error_feedback;
  job::SyncMode mode;
};

class CodecTrainingTest : public ConsistencyTest,
                          public ::testing::WithParamInterface<CodecCase> {};

TEST_P(CodecTrainingTest, TrainsAndSendsFewerBytes) {
  const CodecCase c = GetParam();
  job::TrainingJob job = Job(c.mode);
  if (c.mode == job::SyncMode::kSsp) job.spec.training.staleness = 2;
  job.spec.training.compression.type = c.codec;
  job.spec.training.compression.ratio = 0.05;  // kTopK only
  job.spec.training.compression.block = 32;    // kInt8 and kOneBit only
  job.spec.training.compression.error_feedback = c.error_feedback;
  job.spec.parameter_servers.partition_size = 512;  // 3 partitions: small overheads per partition
  auto r = Run(job, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->test_accuracy, 0.9);
  for (const proto::ServerStats& s : r->servers) EXPECT_EQ(s.messages_dropped(), 0u);
  const double ratio =
      static_cast<double>(r->bytes_pushed_dense) / static_cast<double>(r->bytes_pushed);
  switch (c.codec) {
    case job::CompressionType::kFp16:
      EXPECT_DOUBLE_EQ(ratio, 2.0);
      break;
    case job::CompressionType::kInt8:
      EXPECT_GT(ratio, 3.5);
      break;
    case job::CompressionType::kOneBit:
      EXPECT_GT(ratio, 14.0);  // 32 * block / (block + 32) = 16 for full partitions
      break;
    case job::CompressionType::kTopK:
      EXPECT_GT(ratio,
                9.0);  // 5% at 6 bytes a pair (8 above 65536 elements): 10-13x, less rounding
      break;
    case job::CompressionType::kNone:
      EXPECT_DOUBLE_EQ(ratio, 1.0);
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, CodecTrainingTest,
    ::testing::Values(CodecCase{job::CompressionType::kFp16, false, job::SyncMode::kSync},
                      CodecCase{job::CompressionType::kInt8, false, job::SyncMode::kSync},
                      CodecCase{job::CompressionType::kOneBit, true, job::SyncMode::kSync},
                      CodecCase{job::CompressionType::kTopK, true, job::SyncMode::kSync},
                      CodecCase{job::CompressionType::kTopK, true, job::SyncMode::kAsync},
                      CodecCase{job::CompressionType::kTopK, true, job::SyncMode::kSsp},
                      CodecCase{job::CompressionType::kInt8, true, job::SyncMode::kSsp},
                      CodecCase{job::CompressionType::kOneBit, true, job::SyncMode::kAsync}),
    [](const auto& p) {
      return std::string(job::Name(p.param.codec)) + (p.param.error_feedback ? "_feedback_" : "_") +
             job::Name(p.param.mode);
    });

}  // namespace
}  // namespace ringtrain
