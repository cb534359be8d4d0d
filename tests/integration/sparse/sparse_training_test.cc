// Sparse models trained by real parameter servers and workers (threads of this process over
// loopback TCP: ps::ParameterServer, worker::PsClient, worker::SparseTrainer) on data from
// `ringtrain generate ctr`'s generator, whose ground-truth model is known: the learned model's
// test log-loss comes close to the truth's, in every sync mode and with 1 or 2 servers.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <future>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/data/ctr_generator.h"
#include "ringtrain/data/sparse_data.h"
#include "ringtrain/model/sparse_model.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/optim/schedule.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/storage/storage.h"
#include "ringtrain/transport/event_sink.h"
#include "ringtrain/worker/sparse_trainer.h"
#include "server_thread.h"

namespace ringtrain {
namespace {

constexpr char kJob[] = "ctr";

struct RunSpec {
  model::SparseModelConfig model;
  optim::OptimizerConfig optimizer;
  double learning_rate = 0.1;
  ps::Consistency consistency = ps::Consistency::kSync;
  int servers = 2;
  int workers = 2;
  int epochs = 3;
  int64_t batch = 64;
  float init_scale = 0.0f;
};

// Server `index` of `table` for a run of `setup`, its dense part starting at `dense`.
std::unique_ptr<testing::ServerThread> StartServer(
    const RunSpec& setup, std::shared_ptr<const ring::PartitionTable> table, int index,
    const std::vector<float>& dense) {
  return testing::StartSparseServer({.job = kJob,
                                     .workers = setup.workers,
                                     .optimizer = setup.optimizer,
                                     .consistency = setup.consistency,
                                     .init_scale = setup.init_scale,
                                     .init_seed = 5},
                                    std::move(table), index, dense);
}

class SparseTrainingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // 60000 rows of 8 fields, 200 values each (Zipf 1.05); the last 10000 rows are the test set.
    data::CtrGeneratorOptions g;
    g.rows = 60000;
    g.fields = 8;
    g.keys_per_field = 200;
    g.weight_scale = 0.6;
    g.bias = -0.5;
    g.seed = 11;
    const std::string path =
        ::testing::TempDir() + "/sparse-training-" + std::to_string(getpid()) + ".libsvm.gz";
    ASSERT_TRUE(data::GenerateCtr(g, path).ok());
    storage::Storage storage{storage::StorageOptions{}};
    StatusOr<data::SparseBatch> all = data::ReadSparseLibsvm(&storage, path);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_EQ(all->rows(), 60000);
    std::vector<int64_t> order(50000);
    std::iota(order.begin(), order.end(), 0);
    train_ = new data::SparseBatch;
    test_ = new data::SparseBatch;
    data::GatherSparseRows(*all, 0, order, train_);
    order.resize(10000);
    data::GatherSparseRows(*all, 50000, order, test_);
    // The ground-truth model's log-loss on the test rows.
    double loss = 0;
    for (int64_t r = 0; r < test_->rows(); ++r) {
      double z = g.bias;
      for (int64_t e = test_->offsets[r]; e < test_->offsets[r + 1]; ++e) {
        z += data::TruthWeight(g.seed, test_->keys[e], g.weight_scale);
      }
      loss += model::LogLoss(static_cast<float>(z), test_->labels[r]);
    }
    truth_log_loss_ = loss / static_cast<double>(test_->rows());
    std::remove(path.c_str());
  }
  static void TearDownTestSuite() {
    delete train_;
    delete test_;
  }

  // Trains with `setup`; returns worker 0's last evaluation.
  worker::SparseTrainerResult Train(const RunSpec& setup) {
    auto model0 = model::MakeSparseModel(setup.model).value();
    std::vector<std::string> ids;
    for (int i = 0; i < setup.servers; ++i) ids.push_back("ps-" + std::to_string(i));
    auto ring = ring::HashRing::Make(ids).value();
    auto table = std::make_shared<const ring::PartitionTable>(
        ring::PartitionTable::Build({{"bias", 0, model0->num_dense()}}, 1024, ring,
                                    {{"features", model0->row_dim(), ~uint64_t{0} - 1, 256}})
            .value());
    std::vector<float> dense(static_cast<size_t>(model0->num_dense()));
    model0->InitializeDense(1, dense.data());
    std::vector<std::unique_ptr<testing::ServerThread>> servers;
    std::vector<std::string> endpoints;
    for (int i = 0; i < setup.servers; ++i) {
      servers.push_back(StartServer(setup, table, i, dense));
      endpoints.push_back(servers.back()->endpoint());
    }
    zmq::context_t context(1);
    const optim::LearningRateSchedule schedule =
        optim::LearningRateSchedule::Create(
            {optim::ScheduleKind::kConstant, setup.learning_rate, 0, 1000000})
            .value();
    auto run = [&](int rank) -> StatusOr<worker::SparseTrainerResult> {
      worker::PsClientOptions o;
      o.job = kJob;
      o.rank = rank;
      o.endpoints = endpoints;
      o.table = table;
      o.consistency = setup.consistency;
      o.timeout = std::chrono::seconds(60);
      RT_ASSIGN_OR_RETURN(std::unique_ptr<worker::PsClient> client,
                          worker::PsClient::Connect(context, o));
      auto model = model::MakeSparseModel(setup.model).value();
      data::SparseBatches batches(train_, setup.workers, rank, setup.batch, 42, true);
      transport::NullEventSink others_sink;
      worker::SparseTrainerOptions options;
      options.rank = rank;
      options.epochs = setup.epochs;
      worker::SparseTrainer trainer(
          options, model.get(), client.get(), &batches, rank == 0 ? test_ : nullptr, &schedule,
          rank == 0 ? static_cast<transport::EventSink*>(&events_) : &others_sink);
      return trainer.Run();
    };
    std::vector<std::future<StatusOr<worker::SparseTrainerResult>>> others;
    for (int w = 1; w < setup.workers; ++w)
      others.push_back(std::async(std::launch::async, run, w));
    StatusOr<worker::SparseTrainerResult> mine = run(0);
    for (auto& f : others) {
      StatusOr<worker::SparseTrainerResult> r = f.get();
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    }
    EXPECT_TRUE(mine.ok()) << mine.status().ToString();
    return mine.ok() ? *mine : worker::SparseTrainerResult{};
  }

  // Worker 0's events.
  struct Recorder final : transport::EventSink {
    void Send(const proto::Event& e) override { events.push_back(e); }
    std::vector<proto::Event> events;
  } events_;

  static data::SparseBatch* train_;
  static data::SparseBatch* test_;
  static double truth_log_loss_;
};

data::SparseBatch* SparseTrainingTest::train_ = nullptr;
data::SparseBatch* SparseTrainingTest::test_ = nullptr;
double SparseTrainingTest::truth_log_loss_ = 0;

TEST_F(SparseTrainingTest, LogisticRegressionWithFtrlApproachesTheTruth) {
  RunSpec s;
  s.model = {model::SparseModelKind::kLogistic, 0};
  s.optimizer.kind = optim::OptimizerKind::kFtrl;
  s.optimizer.l1 = 0.0;
  s.optimizer.l2 = 0.0;
  s.learning_rate = 2.0;
  s.epochs = 4;
  const worker::SparseTrainerResult r = Train(s);
  std::printf("logistic ftrl sync: test log-loss %.4f (truth %.4f), AUC %.4f\n", r.test_log_loss,
              truth_log_loss_, r.test_auc);
  // A maximum-likelihood fit of the truth's 1600 weights from 50000 rows is expected to lose
  // about 1600 / (2 x 50000) = 0.016 to the truth on new rows.
  EXPECT_LT(r.test_log_loss, truth_log_loss_ * 1.05);
  EXPECT_GT(r.test_auc, 0.8);
  // Worker 0 reported every epoch's evaluation as an AUC and a log-loss, with no accuracy.
  int evals = 0;
  for (const proto::Event& e : events_.events) {
    if (e.type() != proto::EVAL) continue;
    ++evals;
    EXPECT_TRUE(e.has_test_auc());
    EXPECT_GT(e.test_auc(), 0.5);
    EXPECT_GT(e.test_loss(), 0.0);
    EXPECT_LT(e.accuracy(), 0.0);
  }
  EXPECT_EQ(evals, s.epochs);
}

TEST_F(SparseTrainingTest, LogisticRegressionWithAdagradAsyncOnOneServer) {
  RunSpec s;
  s.model = {model::SparseModelKind::kLogistic, 0};
  s.optimizer = {optim::OptimizerKind::kAdagrad};
  s.optimizer.epsilon = 1e-10;
  s.learning_rate = 0.5;
  s.consistency = ps::Consistency::kAsync;
  s.servers = 1;
  const worker::SparseTrainerResult r = Train(s);
  std::printf("logistic adagrad async: test log-loss %.4f (truth %.4f), AUC %.4f\n",
              r.test_log_loss, truth_log_loss_, r.test_auc);
  EXPECT_LT(r.test_log_loss, truth_log_loss_ * 1.05);
}

// A factorization machine learns the linear truth too (its pairwise terms are noise here), in
// bounded-staleness mode.
TEST_F(SparseTrainingTest, AFactorizationMachineTrainsInSsp) {
  RunSpec s;
  s.model = {model::SparseModelKind::kFm, 4};
  s.optimizer = {optim::OptimizerKind::kAdagrad};
  s.optimizer.epsilon = 1e-10;
  s.learning_rate = 0.2;
  s.consistency = ps::Consistency::kSsp;
  s.init_scale = 0.01f;
  const worker::SparseTrainerResult r = Train(s);
  std::printf("fm adagrad ssp: test log-loss %.4f (truth %.4f), AUC %.4f\n", r.test_log_loss,
              truth_log_loss_, r.test_auc);
  EXPECT_LT(r.test_log_loss, truth_log_loss_ * 1.08);
}

}  // namespace
}  // namespace ringtrain
