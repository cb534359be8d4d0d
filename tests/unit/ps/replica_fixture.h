// The fixture of the ReplicaShard tests (replica_shard_test.cc, replica_takeover_test.cc): a
// primary's core and the copy a backup keeps of it (a ReplicaShard), both of one server's
// shard of a small model (6 parameters in partitions of 4, 2 workers, momentum), and the
// messages a primary and the workers send them.
#ifndef RINGTRAIN_TESTS_UNIT_PS_REPLICA_FIXTURE_H_
#define RINGTRAIN_TESTS_UNIT_PS_REPLICA_FIXTURE_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/replica_shard.h"
#include "ringtrain/ps/replica_wire.h"
#include "ringtrain/ring/hash_ring.h"

namespace ringtrain::ps::replica_test {

using ::testing::ElementsAreArray;

inline constexpr char kJob[] = "job";
inline constexpr uint64_t kEpoch = 77;

class ReplicaShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ring = ring::HashRing::Make({"ps-0"});
    table_ = std::make_shared<const ring::PartitionTable>(
        ring::PartitionTable::Build({{"w", 0, 6}}, 4, *ring).value());
    primary_ = NewCore();
    copy_ = std::make_unique<ReplicaShard>(NewCore(), &counters_,
                                           [this](const std::string& m) { log_.push_back(m); });
  }

  std::unique_ptr<ServerCore> NewCore() {
    ServerCoreConfig c;
    c.job = kJob;
    c.server_index = 0;
    c.num_workers = 2;
    c.table = table_;
    // Momentum: optimizer state that must travel too.
    c.optimizer = optim::MakeOptimizer({optim::OptimizerKind::kMomentum, 0.9, 0}).value();
    c.consistency = Consistency::kSync;
    return ServerCore::Make(std::move(c), std::vector<float>(6, 1.0f)).value();
  }

  transport::Message Push(uint32_t worker, int64_t clock, float g) {
    transport::Message m;
    proto::Header& h = m.header;
    h.set_wire_version(proto::WIRE_VERSION_1);
    h.set_kind(proto::PUSH);
    h.set_job(kJob);
    h.set_sender(worker);
    h.set_request_id(++next_id_);
    h.set_clock(clock);
    h.set_layout_fingerprint(table_->fingerprint());
    h.set_num_samples(4);
    h.set_learning_rate(0.1f);
    for (const ring::Partition& p : table_->partitions()) {
      proto::PartitionSlice* s = h.add_partitions();
      s->set_id(p.id);
      s->set_num_elements(static_cast<uint64_t>(p.size));
      s->set_payload_bytes(static_cast<uint64_t>(p.size) * 4);
      s->set_version(clock);
      std::vector<float> v(static_cast<size_t>(p.size), g + static_cast<float>(p.id));
      m.payloads.push_back(transport::CopyFrame(v.data(), v.size()));
    }
    return m;
  }

  // `m` applied by the primary, and returned as the primary forwards it.
  transport::Message Forwarded(transport::Message m, uint64_t seq, uint64_t epoch = kEpoch,
                               uint32_t server = 0) {
    transport::Message f;
    f.header = m.header;
    for (zmq::message_t& p : m.payloads) {
      zmq::message_t c;
      c.copy(p);
      f.payloads.push_back(std::move(c));
    }
    std::vector<Reply> ignored;
    primary_->Handle("worker", std::move(m), &ignored);
    f.header.mutable_replica()->set_server(server);
    f.header.mutable_replica()->set_epoch(epoch);
    f.header.mutable_replica()->set_seq(seq);
    return f;
  }

  transport::Message Sync(uint64_t seq, uint64_t epoch = kEpoch) {
    transport::Message m;
    m.header.set_kind(proto::REPLICA_SYNC);
    m.header.set_job(kJob);
    m.header.mutable_replica()->set_server(0);
    m.header.mutable_replica()->set_epoch(epoch);
    m.header.mutable_replica()->set_seq(seq);
    EncodeShardState(primary_->Snapshot(), m.header.mutable_replica()->mutable_state(),
                     &m.payloads);
    return m;
  }

  std::vector<Reply> Send(transport::Message m) {
    std::vector<Reply> out;
    copy_->Handle("primary", std::move(m), &out);
    return out;
  }

  static uint64_t AckedSeq(const std::vector<Reply>& out) {
    EXPECT_EQ(out.size(), 1u);
    if (out.size() != 1) return 0;
    EXPECT_EQ(out[0].header.kind(), proto::REPLICA_ACK);
    EXPECT_EQ(out[0].peer, "primary");
    return out[0].header.replica().seq();
  }

  void ExpectCopyEqualsPrimary() {
    const ckpt::ShardState a = primary_->Snapshot();
    const ckpt::ShardState b = copy_->copy().Snapshot();
    ASSERT_EQ(a.partitions.size(), b.partitions.size());
    for (size_t i = 0; i < a.partitions.size(); ++i) {
      EXPECT_THAT(b.partitions[i].params, ElementsAreArray(a.partitions[i].params));
      EXPECT_THAT(b.partitions[i].optimizer_state,
                  ElementsAreArray(a.partitions[i].optimizer_state));
      EXPECT_THAT(b.partitions[i].accum, ElementsAreArray(a.partitions[i].accum));
      EXPECT_EQ(b.partitions[i].version, a.partitions[i].version);
      EXPECT_EQ(b.partitions[i].round_pushes, a.partitions[i].round_pushes);
    }
    ASSERT_EQ(a.workers.size(), b.workers.size());
    for (size_t w = 0; w < a.workers.size(); ++w) {
      EXPECT_EQ(b.workers[w].clock, a.workers[w].clock) << "worker " << w;
      EXPECT_EQ(b.workers[w].excluded, a.workers[w].excluded) << "worker " << w;
    }
  }

  std::shared_ptr<const ring::PartitionTable> table_;
  std::unique_ptr<ServerCore> primary_;
  proto::ServerStats counters_;
  std::vector<std::string> log_;
  std::unique_ptr<ReplicaShard> copy_;
  uint64_t next_id_ = 0;
};

}  // namespace ringtrain::ps::replica_test

#endif  // RINGTRAIN_TESTS_UNIT_PS_REPLICA_FIXTURE_H_
