// ServerCore with sparse tables: pulls and pushes of keys beside the dense partitions, in sync
// rounds and async, and the requests it refuses (ps/sparse_shard.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ring/hash_ring.h"

namespace ringtrain::ps {
namespace {

using ::testing::HasSubstr;

constexpr char kJob[] = "job";
constexpr int kDim = 2;
constexpr uint64_t kKeyLimit = uint64_t{1} << 20;
constexpr float kScale = 0.1f;
constexpr uint64_t kSeed = 99;

struct Keyed {
  uint64_t key;
  std::vector<float> grad;  // kDim floats (pushes)
};

class SparseServerTest : public ::testing::Test {
 protected:
  // A model of one dense tensor "bias" (1 float) and one sparse table "emb" (dim 2) on
  // `servers` servers; the core is server `index`'s.
  void Make(int workers, Consistency consistency, int servers = 1, int index = 0,
            uint32_t admit_after = 1, int64_t expire_after = 0) {
    std::vector<std::string> ids;
    for (int i = 0; i < servers; ++i) ids.push_back("ps-" + std::to_string(i));
    auto ring = ring::HashRing::Make(ids).value();
    table_ = std::make_shared<const ring::PartitionTable>(
        ring::PartitionTable::Build({{"bias", 0, 1}}, 16, ring, {{"emb", kDim, kKeyLimit, 64}})
            .value());
    ServerCoreConfig c;
    c.job = kJob;
    c.server_index = index;
    c.num_workers = workers;
    c.table = table_;
    c.optimizer = optim::MakeOptimizer({optim::OptimizerKind::kSgd, 0, 0}).value();
    c.consistency = consistency;
    c.sparse_init = {SparseInit{kScale}};
    c.sparse_seed = kSeed;
    c.sparse_admit_after = admit_after;
    c.sparse_expire_after = expire_after;
    core_ = ServerCore::Make(std::move(c), std::vector<float>{0.0f}).value();
  }

  bool OwnsBias() const { return table_->partition(0).server == core_->config().server_index; }

  // Keys of `count` that server `server` owns, ascending.
  std::vector<uint64_t> KeysOf(int server, size_t count, uint64_t from = 1) const {
    std::vector<uint64_t> keys;
    for (uint64_t k = from; keys.size() < count; ++k) {
      if (table_->sparse().ServerOf(0, k) == server) keys.push_back(k);
    }
    return keys;
  }

  proto::Header Header(proto::MessageKind kind, uint32_t worker, int64_t clock) {
    proto::Header h;
    h.set_wire_version(proto::WIRE_VERSION_1);
    h.set_kind(kind);
    h.set_job(kJob);
    h.set_sender(worker);
    h.set_request_id(++next_id_);
    h.set_clock(clock);
    h.set_layout_fingerprint(table_->fingerprint());
    if (OwnsBias()) {
      proto::PartitionSlice* s = h.add_partitions();
      s->set_id(0);
      s->set_num_elements(1);
      if (kind == proto::PUSH) {
        s->set_payload_bytes(4);
        s->set_version(clock);
      }
    }
    return h;
  }

  // Frames -> DecodeMessage, as the server's socket thread gets them.
  static transport::Message Decode(const proto::Header& h, std::vector<zmq::message_t> payloads) {
    std::vector<zmq::message_t> frames;
    const std::string head = h.SerializeAsString();
    frames.emplace_back(head.data(), head.size());
    for (auto& p : payloads) frames.push_back(std::move(p));
    StatusOr<transport::Message> m = transport::DecodeMessage(std::move(frames));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return std::move(m).value();
  }

  static void AddSlice(proto::Header* h, uint32_t table, size_t keys, uint32_t dim,
                       int64_t version) {
    proto::SparseSlice* s = h->add_sparse();
    s->set_table(table);
    s->set_num_keys(keys);
    s->set_dim(dim);
    s->set_version(version);
  }

  transport::Message Pull(uint32_t worker, int64_t clock, const std::vector<uint64_t>& keys) {
    proto::Header h = Header(proto::PULL, worker, clock);
    std::vector<zmq::message_t> payloads;
    if (!keys.empty()) {
      AddSlice(&h, 0, keys.size(), kDim, 0);
      payloads.emplace_back(keys.data(), keys.size() * 8);
    }
    return Decode(h, std::move(payloads));
  }

  transport::Message Push(uint32_t worker, int64_t clock, const std::vector<Keyed>& rows,
                          uint32_t samples, float lr = 0.5f, int64_t version = -1,
                          float bias_grad = 0.0f) {
    proto::Header h = Header(proto::PUSH, worker, clock);
    h.set_num_samples(samples);
    h.set_learning_rate(lr);
    std::vector<zmq::message_t> payloads;
    if (OwnsBias()) payloads.emplace_back(&bias_grad, 4);
    if (!rows.empty()) {
      AddSlice(&h, 0, rows.size(), kDim, version < 0 ? clock : version);
      std::vector<uint64_t> keys;
      std::vector<float> values;
      for (const Keyed& r : rows) {
        keys.push_back(r.key);
        values.insert(values.end(), r.grad.begin(), r.grad.end());
      }
      payloads.emplace_back(keys.data(), keys.size() * 8);
      payloads.emplace_back(values.data(), values.size() * 4);
    }
    return Decode(h, std::move(payloads));
  }

  std::vector<Reply> Handle(transport::Message m, const std::string& peer = "w") {
    std::vector<Reply> out;
    core_->Handle(peer, std::move(m), &out);
    return out;
  }

  static std::vector<float> Init(uint64_t key) {
    std::vector<float> v(kDim);
    InitialValue(kSeed, 0, key, kScale, v);
    return v;
  }

  // The sparse values of a PULL_REPLY, key by key.
  static std::vector<std::vector<float>> Values(const Reply& r) {
    EXPECT_EQ(r.header.kind(), proto::PULL_REPLY) << r.header.error();
    EXPECT_EQ(r.header.sparse_size(), 1);
    const zmq::message_t& frame = r.payloads.back();
    const auto* f = static_cast<const float*>(frame.data());
    std::vector<std::vector<float>> rows;
    for (size_t k = 0; k < frame.size() / 4 / kDim; ++k)
      rows.emplace_back(f + k * kDim, f + (k + 1) * kDim);
    return rows;
  }

  std::shared_ptr<const ring::PartitionTable> table_;
  std::unique_ptr<ServerCore> core_;
  uint64_t next_id_ = 0;
};

TEST_F(SparseServerTest, KeysWithoutRowsReadAsTheirInitialValues) {
  Make(1, Consistency::kSync);
  std::vector<Reply> out = Handle(Pull(0, 0, {3, 10, 77}));
  ASSERT_EQ(out.size(), 1u);
  const auto rows = Values(out[0]);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], Init(3));
  EXPECT_EQ(rows[2], Init(77));
  EXPECT_NE(rows[0], rows[1]);
  for (float v : rows[1]) EXPECT_LE(std::abs(v), kScale);
  EXPECT_EQ(core_->stats().sparse_rows(), 0u);  // pulls create no rows
  EXPECT_EQ(core_->stats().sparse_keys_pulled(), 3u);
}

// Two workers whose batches share key 2: one round applies sum_i(n_i g_i) / sum_i(n_i) once
// per key, and a pull for the next round waits for it.
TEST_F(SparseServerTest, ASyncRoundAveragesEachKeysGradientsOverTheRoundsSamples) {
  Make(2, Consistency::kSync);
  ASSERT_EQ(Handle(Pull(0, 0, {1, 2})).size(), 1u);
  ASSERT_EQ(Handle(Pull(1, 0, {2, 3})).size(), 1u);
  EXPECT_EQ(Handle(Push(0, 0, {{1, {1, 1}}, {2, {1, 1}}}, 2))[0].header.kind(), proto::PUSH_ACK);
  // Worker 0's pull of round 1 is parked until worker 1 has pushed.
  EXPECT_TRUE(Handle(Pull(0, 1, {1, 2, 3})).empty());
  EXPECT_EQ(core_->WorkersWaitedFor(), std::vector<int>{1});
  std::vector<Reply> out = Handle(Push(1, 0, {{2, {3, 3}}, {3, {3, -1}}}, 2));
  ASSERT_EQ(out.size(), 2u);  // the ack and the parked pull
  EXPECT_EQ(out[0].header.kind(), proto::PUSH_ACK);
  const auto rows = Values(out[1]);
  EXPECT_EQ(out[1].header.sparse(0).version(), 1);
  const float lr = 0.5f;
  EXPECT_FLOAT_EQ(rows[0][0], Init(1)[0] - lr * 2 * 1 / 4);
  EXPECT_FLOAT_EQ(rows[1][1], Init(2)[1] - lr * (2 * 1 + 2 * 3) / 4);
  EXPECT_FLOAT_EQ(rows[2][0], Init(3)[0] - lr * 2 * 3 / 4);
  EXPECT_FLOAT_EQ(rows[2][1], Init(3)[1] + lr * 2 * 1 / 4);
  EXPECT_EQ(core_->stats().sparse_rows(), 3u);
  EXPECT_EQ(core_->stats().sparse_rows_created(), 3u);
  EXPECT_EQ(core_->stats().sparse_keys_pushed(), 4u);
  EXPECT_GE(core_->stats().sparse_table_bytes(), core_->stats().sparse_raw_bytes());
  EXPECT_EQ(core_->stats().sparse_raw_bytes(), 3u * (8 + 4 * kDim));  // SGD keeps no state
}

TEST_F(SparseServerTest, AsyncAppliesEachPushOnArrivalWithTheRateSharedByTheWorkers) {
  Make(2, Consistency::kAsync);
  Handle(Pull(0, 0, {5}));
  EXPECT_EQ(Handle(Push(0, 0, {{5, {2, 0}}}, 1, 0.5f, 0))[0].header.kind(), proto::PUSH_ACK);
  const auto rows = Values(Handle(Pull(1, 0, {5}))[0]);
  EXPECT_FLOAT_EQ(rows[0][0], Init(5)[0] - 0.5f / 2 * 2);
  EXPECT_FLOAT_EQ(rows[0][1], Init(5)[1]);
  EXPECT_EQ(core_->stats().updates_applied(), 2u);  // the bias and the sparse tables
}

// Admission: a key's first admit_after - 1 updates are dropped (it keeps reading as its initial
// value), the admit_after-th creates its row; a key updated once stays out.
TEST_F(SparseServerTest, AKeyGetsARowOnlyAtItsAdmitAfterThUpdate) {
  Make(1, Consistency::kAsync, 1, 0, /*admit_after=*/3);
  for (int64_t step = 0; step < 3; ++step) {
    Handle(Pull(0, step, {5, 9}));
    std::vector<Keyed> rows = {{5, {1, 1}}};
    if (step == 0) rows.push_back({9, {1, 1}});
    ASSERT_EQ(Handle(Push(0, step, rows, 1, 0.5f, step))[0].header.kind(), proto::PUSH_ACK);
    const auto values = Values(Handle(Pull(0, step + 1, {5, 9}))[0]);
    if (step < 2) {
      EXPECT_EQ(values[0], Init(5)) << "step " << step;
    } else {
      EXPECT_FLOAT_EQ(values[0][0], Init(5)[0] - 0.5f);  // only the third update applied
    }
    EXPECT_EQ(values[1], Init(9));
  }
  EXPECT_EQ(core_->stats().sparse_rows(), 1u);
  EXPECT_EQ(core_->stats().sparse_rows_created(), 1u);
  EXPECT_EQ(core_->stats().sparse_updates_not_admitted(), 3u);  // key 5 twice, key 9 once
}

// Expiry: a row not updated in the last expire_after updates is dropped by the next sweep
// (every expire_after / 8 updates) and reads as its initial value again; rows in use stay.
TEST_F(SparseServerTest, RowsLeftIdleExpireAndReadAsTheirInitialValuesAgain) {
  Make(1, Consistency::kSync, 1, 0, /*admit_after=*/1, /*expire_after=*/8);
  Handle(Pull(0, 0, {4, 6}));
  Handle(Push(0, 0, {{4, {1, 1}}, {6, {1, 1}}}, 1));
  int64_t step = 1;
  for (; step <= 7; ++step) {  // key 6 is updated every round, key 4 never again
    Handle(Pull(0, step, {6}));
    Handle(Push(0, step, {{6, {1, 1}}}, 1));
  }
  EXPECT_EQ(core_->stats().sparse_rows(), 2u);  // key 4 idle in the last 7 updates: kept
  Handle(Pull(0, step, {6}));
  Handle(Push(0, step, {{6, {1, 1}}}, 1));  // idle in the last 8: dropped
  EXPECT_EQ(core_->stats().sparse_rows(), 1u);
  EXPECT_EQ(core_->stats().sparse_rows_expired(), 1u);
  const auto values = Values(Handle(Pull(0, step + 1, {4, 6}))[0]);
  EXPECT_EQ(values[0], Init(4));
  EXPECT_NE(values[1], Init(6));
}

TEST_F(SparseServerTest, BadKeysAreRefusedCountedAndChangeNothing) {
  Make(1, Consistency::kSync);
  const auto refuse = [&](transport::Message m, const std::string& why) {
    const uint64_t dropped = core_->stats().messages_dropped();
    std::vector<Reply> out = Handle(std::move(m));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].header.kind(), proto::ERROR);
    EXPECT_THAT(out[0].header.error(), HasSubstr(why));
    EXPECT_EQ(core_->stats().messages_dropped(), dropped + 1);
  };
  refuse(Pull(0, 0, {4, 4}), "not strictly ascending");
  refuse(Pull(0, 0, {9, 4}), "not strictly ascending");
  refuse(Pull(0, 0, {kKeyLimit}), "outside the table's range");
  Handle(Pull(0, 0, {1, 2}));
  refuse(Push(0, 0, {{1, {1, 1}}, {3, {1, 1}}}, 1), "key 3 was not in the worker's latest pull");
  refuse(Push(0, 0, {{1, {1, std::nanf("")}}}, 1), "not finite");
  {
    transport::Message m = Push(0, 0, {{1, {1, 1}}}, 1);
    m.header.mutable_sparse(0)->set_table(1);
    refuse(std::move(m), "the model has 1 sparse tables");
  }
  {
    // A slice claiming dim 1: the frames decode (2 keys x 1), the server knows the table's dim.
    proto::Header h = Header(proto::PULL, 0, 0);
    AddSlice(&h, 0, 2, 1, 0);
    const uint64_t keys[] = {1, 2};
    std::vector<zmq::message_t> payloads;
    payloads.emplace_back(keys, sizeof(keys));
    refuse(Decode(h, std::move(payloads)), "has dim 2");
  }
  EXPECT_EQ(core_->stats().sparse_rows(), 0u);
  EXPECT_EQ(core_->clock(0), 0);
  // The server goes on serving: the worker's valid push is accepted.
  EXPECT_EQ(Handle(Push(0, 0, {{1, {1, 1}}, {2, {1, 1}}}, 1))[0].header.kind(), proto::PUSH_ACK);
  EXPECT_EQ(core_->stats().sparse_rows(), 2u);
}

TEST_F(SparseServerTest, KeysOfAnotherServersBucketsAreRefused) {
  Make(1, Consistency::kSync, /*servers=*/2, /*index=*/0);
  const uint64_t foreign = KeysOf(1, 1)[0];
  std::vector<Reply> out = Handle(Pull(0, 0, {foreign}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(out[0].header.error(), HasSubstr("belongs to server 1, not 0"));
}

// A server that owns no dense partition still runs sync rounds: pushes with keys, or with
// nothing at all, move the workers' clocks, and a pull of keys waits for the round.
TEST_F(SparseServerTest, AServerWithOnlySparseBucketsKeepsTheRounds) {
  for (int index = 0; index < 2; ++index) {
    Make(2, Consistency::kSync, 2, index);
    if (!OwnsBias()) break;
  }
  ASSERT_FALSE(OwnsBias());
  const int me = core_->config().server_index;
  const std::vector<uint64_t> keys = KeysOf(me, 2);
  Handle(Pull(0, 0, keys));
  EXPECT_EQ(Handle(Push(0, 0, {{keys[0], {4, 4}}}, 1))[0].header.kind(), proto::PUSH_ACK);
  EXPECT_TRUE(Handle(Pull(0, 1, keys)).empty());
  EXPECT_EQ(core_->WorkersHoldingRound(), std::vector<int>{1});
  // Worker 1's batch touched no key here: its push carries nothing, and completes the round.
  std::vector<Reply> out = Handle(Push(1, 0, {}, 1));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(core_->round(), 1);
  const auto rows = Values(out[1]);
  EXPECT_FLOAT_EQ(rows[0][0], Init(keys[0])[0] - 0.5f * 4 / 2);
  EXPECT_EQ(rows[1], Init(keys[1]));
}

// A primary checked the keys of the pushes it forwards; its backup never saw the pulls.
TEST_F(SparseServerTest, ForwardedPushesAreNotCheckedAgainstPulls) {
  Make(1, Consistency::kSync);
  std::vector<Reply> out;
  core_->HandleForwarded("primary", Push(0, 0, {{7, {1, 1}}}, 1), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].header.kind(), proto::PUSH_ACK) << out[0].header.error();
  EXPECT_NE(core_->sparse()->row(0, 7), nullptr);
  // Not so for a worker's own push.
  EXPECT_EQ(Handle(Push(0, 1, {{8, {1, 1}}}, 1))[0].header.kind(), proto::ERROR);
}

}  // namespace
}  // namespace ringtrain::ps
