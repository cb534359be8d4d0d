#include "ringtrain/ps/server_core.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ring/hash_ring.h"

namespace ringtrain::ps {
namespace {

using ::testing::HasSubstr;

constexpr char kJob[] = "job";

std::shared_ptr<const ring::PartitionTable> OneServerTable(int64_t size, int64_t partition_size) {
  auto r = ring::HashRing::Make({"ps-0"});
  auto t = ring::PartitionTable::Build({{"w", 0, size}}, partition_size, *r);
  return std::make_shared<const ring::PartitionTable>(std::move(t).value());
}

class ServerCoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(/*workers=*/2, /*size=*/6, /*partition_size=*/4); }

  void Make(int workers, int64_t size, int64_t partition_size) {
    table_ = OneServerTable(size, partition_size);
    ServerCoreConfig c;
    c.job = kJob;
    c.server_index = 0;
    c.num_workers = workers;
    c.table = table_;
    c.optimizer = optim::MakeOptimizer({optim::OptimizerKind::kSgd, 0, 0}).value();
    initial_.assign(static_cast<size_t>(size), 1.0f);
    core_ = ServerCore::Make(std::move(c), initial_).value();
  }

  proto::Header Request(proto::MessageKind kind, uint32_t worker, int64_t clock) {
    proto::Header h;
    h.set_wire_version(proto::WIRE_VERSION_1);
    h.set_kind(kind);
    h.set_job(kJob);
    h.set_sender(worker);
    h.set_request_id(++next_id_);
    h.set_clock(clock);
    h.set_layout_fingerprint(table_->fingerprint());
    for (const ring::Partition& p : table_->partitions()) {
      proto::PartitionSlice* s = h.add_partitions();
      s->set_id(p.id);
      s->set_num_elements(static_cast<uint64_t>(p.size));
      if (kind == proto::PUSH) s->set_payload_bytes(static_cast<uint64_t>(p.size) * 4);
    }
    return h;
  }

  // A push of a constant gradient `g` on every element.
  transport::Message Push(uint32_t worker, int64_t clock, float g, uint32_t samples,
                          float lr = 0.5f) {
    transport::Message m;
    m.header = Request(proto::PUSH, worker, clock);
    m.header.set_num_samples(samples);
    m.header.set_learning_rate(lr);
    for (const ring::Partition& p : table_->partitions()) {
      std::vector<float> v(static_cast<size_t>(p.size), g);
      m.payloads.push_back(transport::CopyFrame(v.data(), v.size()));
    }
    return m;
  }

  transport::Message Pull(uint32_t worker, int64_t min_version) {
    transport::Message m;
    m.header = Request(proto::PULL, worker, min_version);
    return m;
  }

  std::vector<Reply> Handle(const std::string& peer, transport::Message m) {
    std::vector<Reply> out;
    core_->Handle(peer, std::move(m), &out);
    return out;
  }

  std::shared_ptr<const ring::PartitionTable> table_;
  std::vector<float> initial_;
  std::unique_ptr<ServerCore> core_;
  uint64_t next_id_ = 0;
};

TEST_F(ServerCoreTest, OwnsEveryPartitionOfASingleServerWithInitialValues) {
  ASSERT_EQ(table_->partitions().size(), 2u);  // 6 elements in chunks of 4: 4 + 2
  EXPECT_EQ(core_->owned_elements(), 6);
  EXPECT_THAT(core_->params(0), ::testing::Each(1.0f));
  EXPECT_EQ(core_->version(0), 0);
}

TEST_F(ServerCoreTest, RoundAppliesSampleWeightedMeanOnceAllWorkersPushed) {
  auto r1 = Handle("a", Push(0, 0, /*g=*/1.0f, /*samples=*/3));
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0].header.kind(), proto::PUSH_ACK);
  EXPECT_EQ(core_->version(0), 0) << "one of two workers pushed: no update yet";

  auto r2 = Handle("b", Push(1, 0, /*g=*/3.0f, /*samples=*/1));
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(core_->version(0), 1);
  EXPECT_EQ(core_->version(1), 1);
  // mean gradient = (3*1 + 1*3) / 4 = 1.5; sgd with lr 0.5: 1 - 0.75 = 0.25
  EXPECT_THAT(core_->params(0), ::testing::Each(::testing::FloatEq(0.25f)));
  EXPECT_THAT(core_->params(1), ::testing::Each(::testing::FloatEq(0.25f)));
  EXPECT_EQ(core_->stats().updates_applied(), 2u);
}

TEST_F(ServerCoreTest, PullWaitsForTheVersionItAsksFor) {
  auto r = Handle("a", Pull(0, 1));
  EXPECT_TRUE(r.empty()) << "version 1 does not exist yet: the pull is parked";
  Handle("a", Push(0, 0, 1.0f, 1));
  auto replies = Handle("b", Push(1, 0, 1.0f, 1));
  ASSERT_EQ(replies.size(), 2u) << "ack for b and the parked pull for a";
  const Reply& pull = replies[1];
  EXPECT_EQ(pull.peer, "a");
  EXPECT_EQ(pull.header.kind(), proto::PULL_REPLY);
  ASSERT_EQ(pull.header.partitions_size(), 2);
  EXPECT_EQ(pull.header.partitions(0).version(), 1);
  ASSERT_EQ(pull.payloads.size(), 2u);
  EXPECT_EQ(pull.payloads[0].size(), 4 * sizeof(float));
  const float* v = static_cast<const float*>(pull.payloads[0].data());
  EXPECT_FLOAT_EQ(v[0], 0.5f);
}

// Regression (review): a PULL for a version far ahead was parked forever.
TEST_F(ServerCoreTest, PullBeyondTheNextVersionIsRejected) {
  auto r = Handle("a", Pull(0, 2));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::ERROR);
  EXPECT_THAT(r[0].header.error(), HasSubstr("PULL of version 2"));
  EXPECT_EQ(core_->stats().messages_dropped(), 1u);
}

TEST_F(ServerCoreTest, PullOfCurrentVersionIsAnsweredAtOnce) {
  auto r = Handle("a", Pull(0, 0));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::PULL_REPLY);
  EXPECT_EQ(core_->stats().pulls_answered(), 1u);
}

TEST_F(ServerCoreTest, WorkerDoneCompletesRoundsWaitingForIt) {
  Handle("a", Push(0, 0, 2.0f, 2));
  EXPECT_EQ(core_->version(0), 0);
  auto r = Handle("b", [&] {
    transport::Message m;
    m.header = Request(proto::WORKER_DONE, 1, 0);
    return m;
  }());
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].header.kind(), proto::DONE_ACK);
  EXPECT_EQ(core_->version(0), 1) << "the round no longer waits for the finished worker";
  EXPECT_THAT(core_->params(0), ::testing::Each(::testing::FloatEq(0.0f)));  // 1 - 0.5*2
  EXPECT_FALSE(core_->finished());
  // Further rounds need only worker 0.
  Handle("a", Push(0, 1, 1.0f, 1));
  EXPECT_EQ(core_->version(0), 2);
}

TEST_F(ServerCoreTest, RoundWithNoSamplesAdvancesVersionWithoutUpdate) {
  Handle("a", Push(0, 0, 5.0f, 0));
  Handle("b", Push(1, 0, 5.0f, 0));
  EXPECT_EQ(core_->version(0), 1);
  EXPECT_THAT(core_->params(0), ::testing::Each(1.0f));
}

struct BadRequestCase {
  std::string name;
  std::function<void(transport::Message&)> corrupt;
  std::string expected;
};

TEST_F(ServerCoreTest, InvalidRequestsAreRejectedCountedAndChangeNothing) {
  const std::vector<BadRequestCase> cases = {
      {"wrong job", [](auto& m) { m.header.set_job("other"); }, "for job \"other\""},
      {"sender out of range", [](auto& m) { m.header.set_sender(7); }, "worker 7"},
      {"fingerprint", [](auto& m) { m.header.set_layout_fingerprint(1); }, "fingerprint"},
      {"partition not owned", [](auto& m) { m.header.mutable_partitions(0)->set_id(99); },
       "partition 99 is not owned"},
      {"element count", [](auto& m) { m.header.mutable_partitions(1)->set_num_elements(3); },
       "has 2 elements, message says 3"},
      {"future clock", [](auto& m) { m.header.set_clock(5); }, "computed at version 5"},
      {"negative lr", [](auto& m) { m.header.set_learning_rate(-1); }, "learning rate"},
      {"duplicate partition",
       [](auto& m) {
         m.header.mutable_partitions(1)->set_id(0);
         m.header.mutable_partitions(1)->set_num_elements(4);
       },
       "listed twice"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const uint64_t dropped = core_->stats().messages_dropped();
    transport::Message m = Push(0, 0, 1.0f, 1);
    c.corrupt(m);
    auto r = Handle("x", std::move(m));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].header.kind(), proto::ERROR);
    EXPECT_THAT(r[0].header.error(), HasSubstr(c.expected));
    EXPECT_EQ(core_->stats().messages_dropped(), dropped + 1);
    EXPECT_EQ(core_->stats().pushes_accepted(), 0u);
  }
  EXPECT_THAT(core_->params(0), ::testing::Each(1.0f));
}

TEST_F(ServerCoreTest, DuplicatePushInTheSameRoundIsRejected) {
  Handle("a", Push(0, 0, 1.0f, 1));
  auto r = Handle("a", Push(0, 0, 1.0f, 1));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::ERROR);
  EXPECT_THAT(r[0].header.error(), HasSubstr("duplicate PUSH"));
  Handle("b", Push(1, 0, 1.0f, 1));
  EXPECT_THAT(core_->params(0), ::testing::Each(::testing::FloatEq(0.5f)))
      << "the duplicate did not count twice";
}

TEST_F(ServerCoreTest, StalePushAfterTheRoundIsRejected) {
  Handle("a", Push(0, 0, 1.0f, 1));
  Handle("b", Push(1, 0, 1.0f, 1));
  auto r = Handle("b", [&] {
    auto m = Push(1, 0, 1.0f, 1);
    return m;
  }());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].header.error(), HasSubstr("duplicate PUSH"));
}

TEST_F(ServerCoreTest, FinishedOnceEveryWorkerIsDone) {
  for (uint32_t w : {0u, 1u}) {
    transport::Message m;
    m.header = Request(proto::WORKER_DONE, w, 0);
    Handle("p", std::move(m));
  }
  EXPECT_TRUE(core_->finished());
  EXPECT_EQ(core_->stats().workers_done(), 2u);
}

TEST_F(ServerCoreTest, StatsRequestIsAnsweredWithCounters) {
  core_->CountUndecodable(10);
  transport::Message m;
  m.header.set_kind(proto::STATS);
  m.header.set_request_id(42);
  auto r = Handle("s", std::move(m));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::STATS_REPLY);
  EXPECT_EQ(r[0].header.request_id(), 42u);
  EXPECT_EQ(r[0].header.stats().messages_dropped(), 1u);
  EXPECT_EQ(r[0].header.stats().partitions_owned(), 2u);
}

TEST(ServerCoreMakeTest, RejectsInconsistentConfig) {
  auto table = OneServerTable(6, 4);
  ServerCoreConfig c;
  c.job = kJob;
  c.table = table;
  c.optimizer = optim::MakeOptimizer({}).value();
  std::vector<float> wrong(5, 0.0f);
  auto s = ServerCore::Make(std::move(c), wrong);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("5 elements"));
}

}  // namespace
}  // namespace ringtrain::ps
