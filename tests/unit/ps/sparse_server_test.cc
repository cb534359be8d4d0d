// ServerCore with sparse tables: pulls and pushes of keys beside the dense partitions, in sync
// rounds and async, and the requests it refuses (ps/sparse_shard.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/ps/server_core.h"
#include "sparse_server_fixture.h"

namespace ringtrain::ps {
namespace {

using sparse_test::kDim;
using sparse_test::Keyed;
using sparse_test::kKeyLimit;
using sparse_test::kScale;
using sparse_test::SparseServerTest;
using ::testing::HasSubstr;

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
