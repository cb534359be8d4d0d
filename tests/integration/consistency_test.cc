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

  testing::ClusterJob Job(ps::Consistency consistency) const {
    testing::ClusterJob job;
    job.num_ps = 2;
    job.num_workers = 4;
    job.partition_size = 64;  // many partitions over both servers
    job.model = {model::ModelKind::kMlp, {16}, kSide * kSide, kClasses};
    job.optimizer = {optim::OptimizerKind::kMomentum, 0.9, 0};
    job.schedule.base_lr = 0.05;
    job.epochs = 2;
    job.batch_size = 10;
    job.consistency = consistency;
    return job;
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

// Runs `job` with worker 2 slowed by 4 ms a step and `recorder` watching every push.
StatusOr<testing::ClusterResult> RunWithSlowWorker(testing::ClusterJob job,
                                                   const data::Dataset& train,
                                                   const data::Dataset& test,
                                                   LeadRecorder* recorder) {
  job.before_push = [recorder](int rank, int64_t step) {
    if (rank == 2) std::this_thread::sleep_for(std::chrono::milliseconds(4));
    recorder->BeforePush(rank, step);
  };
  return testing::RunCluster(job, train, &test);
}

TEST_F(ConsistencyTest, SspKeepsEveryWorkerWithinStalenessClocksOfTheSlowest) {
  constexpr int64_t kStaleness = 3;
  testing::ClusterJob job = Job(ps::Consistency::kSsp);
  job.staleness = kStaleness;
  LeadRecorder recorder(job.num_workers);
  auto r = RunWithSlowWorker(job, train_, test_, &recorder);
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
  testing::ClusterJob job = Job(ps::Consistency::kSync);
  LeadRecorder recorder(job.num_workers);
  auto r = RunWithSlowWorker(job, train_, test_, &recorder);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(recorder.max_lead.load(), 0) << "a worker started a step before all finished the last";
  for (const proto::ServerStats& s : r->servers) EXPECT_EQ(s.max_clock_lead(), 0u);
  EXPECT_GE(r->test_accuracy, 0.9);
}

TEST_F(ConsistencyTest, AsyncLetsFastWorkersRunFreeOfTheSlowOne) {
  testing::ClusterJob job = Job(ps::Consistency::kAsync);
  LeadRecorder recorder(job.num_workers);
  auto r = RunWithSlowWorker(job, train_, test_, &recorder);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(recorder.max_lead.load(), 10) << "async should not hold the fast workers back";
  for (const proto::ServerStats& s : r->servers) {
    EXPECT_EQ(s.pulls_parked(), 0u);
    EXPECT_GT(s.staleness_max(), 0u) << "with four workers, gradients arrive stale";
  }
  EXPECT_GE(r->test_accuracy, 0.9);
}

TEST_F(ConsistencyTest, AsyncWithStalenessAwareRatesConverges) {
  testing::ClusterJob job = Job(ps::Consistency::kAsync);
  job.staleness_aware_lr = true;
  auto r = testing::RunCluster(job, train_, &test_);
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
  testing::ClusterJob job = Job(ps::Consistency::kSsp);
  job.staleness = 0;
  job.epochs = 1;
  job.before_push = [](int rank, int64_t step) {
    if (rank == 0 && step % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  auto r = testing::RunCluster(job, train_, &test_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& w : r->workers) EXPECT_EQ(w.steps, r->workers[0].steps);
}

// Each codec, with and without error feedback where it applies, trains in every mode.
struct CodecCase {
  compress::CodecType codec;
  bool error_feedback;
  ps::Consistency consistency;
};

class CodecTrainingTest : public ConsistencyTest,
                          public ::testing::WithParamInterface<CodecCase> {};

TEST_P(CodecTrainingTest, TrainsAndSendsFewerBytes) {
  const CodecCase c = GetParam();
  testing::ClusterJob job = Job(c.consistency);
  job.staleness = 2;
  job.codec.type = c.codec;
  job.codec.ratio = 0.05;
  job.codec.block = 32;
  job.error_feedback = c.error_feedback;
  job.partition_size = 512;  // 3 partitions: codec overheads per partition stay small
  auto r = testing::RunCluster(job, train_, &test_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->test_accuracy, 0.9);
  for (const proto::ServerStats& s : r->servers) EXPECT_EQ(s.messages_dropped(), 0u);
  const double ratio =
      static_cast<double>(r->bytes_pushed_dense) / static_cast<double>(r->bytes_pushed);
  switch (c.codec) {
    case compress::CodecType::kFp16:
      EXPECT_DOUBLE_EQ(ratio, 2.0);
      break;
    case compress::CodecType::kInt8:
      EXPECT_GT(ratio, 3.5);
      break;
    case compress::CodecType::kOneBit:
      EXPECT_GT(ratio, 14.0);  // 32 * block / (block + 32) = 16 for full partitions
      break;
    case compress::CodecType::kTopK:
      EXPECT_GT(ratio,
                9.0);  // 5% at 6 bytes a pair (8 above 65536 elements): 10-13x, less rounding
      break;
    case compress::CodecType::kNone:
      EXPECT_DOUBLE_EQ(ratio, 1.0);
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, CodecTrainingTest,
    ::testing::Values(CodecCase{compress::CodecType::kFp16, false, ps::Consistency::kSync},
                      CodecCase{compress::CodecType::kInt8, false, ps::Consistency::kSync},
                      CodecCase{compress::CodecType::kOneBit, true, ps::Consistency::kSync},
                      CodecCase{compress::CodecType::kTopK, true, ps::Consistency::kSync},
                      CodecCase{compress::CodecType::kTopK, true, ps::Consistency::kAsync},
                      CodecCase{compress::CodecType::kTopK, true, ps::Consistency::kSsp},
                      CodecCase{compress::CodecType::kInt8, true, ps::Consistency::kSsp},
                      CodecCase{compress::CodecType::kOneBit, true, ps::Consistency::kAsync}),
    [](const auto& p) {
      return std::string(compress::CodecName(p.param.codec)) +
             (p.param.error_feedback ? "_feedback_" : "_") +
             ps::ConsistencyName(p.param.consistency);
    });

}  // namespace
}  // namespace ringtrain
