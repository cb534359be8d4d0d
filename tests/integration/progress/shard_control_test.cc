// Failover's first word over real sockets: the operator's ZmqShardControl (and `ringtrain run`'s
// ps::AskToTakeOver) asking a running ParameterServer, the successor of a lost server, to serve
// that server's shard. It refuses, saying why, until it holds a synced copy; it accepts once a
// primary has synced it; a takeover of another job, or where nobody listens, is not answered
// and times out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/launch/loopback_ports.h"
#include "ringtrain/operator/shard_control.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/replica_shard.h"
#include "ringtrain/ps/replica_wire.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/ps/takeover.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/transport/message.h"

namespace ringtrain {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr char kJob[] = "takeover";

std::unique_ptr<ps::ServerCore> Core(std::shared_ptr<const ring::PartitionTable> table, int index) {
  ps::ServerCoreConfig c;
  c.job = kJob;
  c.server_index = index;
  c.num_workers = 1;
  c.table = std::move(table);
  c.optimizer = optim::MakeOptimizer({optim::OptimizerKind::kSgd, 0, 0}).value();
  c.consistency = ps::Consistency::kSync;
  std::vector<float> initial(static_cast<size_t>(c.table->total_size()), 1.0f);
  return ps::ServerCore::Make(std::move(c), initial).value();
}

class ShardControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = ring::HashRing::Make({"ps-0", "ps-1"});
    table_ = std::make_shared<const ring::PartitionTable>(
        ring::PartitionTable::Build({{"w", 0, 64}}, 16, *r).value());
    endpoints_ = launch::FreeLoopbackEndpoints(2).value();
    // Server 1, keeping a copy of server 0's shard; server 0 is gone (nobody at its endpoint).
    std::unique_ptr<ps::ServerCore> core = Core(table_, 1);
    ps::Replication replication;
    ps::BackupLinkOptions link;
    link.server = 1;
    link.successor = 0;
    link.successor_endpoint = endpoints_[0];
    replication.backup = ps::BackupLink::Connect(server_context_, std::move(link)).value();
    replication.replica =
        std::make_unique<ps::ReplicaShard>(Core(table_, 0), &core->mutable_stats(), nullptr);
    ps::ServerOptions options;
    options.bind_endpoint = endpoints_[1];
    options.poll_interval = milliseconds(10);
    server_ =
        ps::ParameterServer::Bind(server_context_, options, std::move(core), std::move(replication))
            .value();
    serving_ = std::thread([this] { EXPECT_TRUE(server_->Serve().ok()); });
  }
  void TearDown() override {
    server_->stop();
    serving_.join();
  }

  // What a primary (server 0) sends its backup when its link comes up: its whole shard.
  void SyncFromServer0() {
    zmq::socket_t primary(client_context_, zmq::socket_type::dealer);
    primary.set(zmq::sockopt::linger, 1000);
    primary.connect(endpoints_[1]);
    proto::Header h;
    h.set_kind(proto::REPLICA_SYNC);
    h.set_job(kJob);
    h.mutable_replica()->set_server(0);
    h.mutable_replica()->set_epoch(42);
    std::vector<zmq::message_t> frames;
    ps::EncodeShardState(Core(table_, 0)->Snapshot(), h.mutable_replica()->mutable_state(),
                         &frames);
    ASSERT_TRUE(transport::SendMessage(primary, nullptr, std::move(h), std::move(frames)).ok());
    // Acknowledged once applied.
    zmq::pollitem_t item{primary.handle(), 0, ZMQ_POLLIN, 0};
    ASSERT_EQ(zmq::poll(&item, 1, milliseconds(5000)), 1) << "the SYNC was not acknowledged";
  }

  std::shared_ptr<const ring::PartitionTable> table_;
  std::vector<std::string> endpoints_;
  zmq::context_t server_context_{1};
  zmq::context_t client_context_{1};
  std::unique_ptr<ps::ParameterServer> server_;
  std::thread serving_;
};

TEST_F(ShardControlTest, TheSuccessorRefusesWithoutACopyAndTakesOverOnceSynced) {
  std::unique_ptr<op::ShardControl> control = op::MakeZmqShardControl();
  Status refused = control->TakeOver(endpoints_[1], kJob, 0, milliseconds(3000), {});
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("no copy of ps-0's shard here: it never synced"));

  ASSERT_NO_FATAL_FAILURE(SyncFromServer0());
  Status taken = control->TakeOver(endpoints_[1], kJob, 0, milliseconds(3000), {});
  EXPECT_TRUE(taken.ok()) << taken.ToString();
  // `ringtrain run`'s side, the same protocol: accepted again (already serving).
  Status again =
      ps::AskToTakeOver(client_context_, endpoints_[1], kJob, 0, milliseconds(3000), 1, nullptr);
  EXPECT_TRUE(again.ok()) << again.ToString();

  // Another job's takeover, or one for a shard this server keeps no copy of, is dropped
  // unanswered; where nobody listens, nobody answers.
  EXPECT_EQ(control->TakeOver(endpoints_[1], "other", 0, milliseconds(300), {}).code(),
            StatusCode::kDeadlineExceeded);
  EXPECT_EQ(control->TakeOver(endpoints_[1], kJob, 1, milliseconds(300), {}).code(),
            StatusCode::kDeadlineExceeded);
  Status nobody = control->TakeOver(endpoints_[0], kJob, 1, milliseconds(300), {});
  EXPECT_EQ(nobody.code(), StatusCode::kDeadlineExceeded) << nobody.ToString();
  EXPECT_THAT(nobody.message(), HasSubstr("the successor of ps-1 at " + endpoints_[0]));
}

}  // namespace
}  // namespace ringtrain
