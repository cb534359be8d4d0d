// The sparse tables in a shard's state (ServerCore::Snapshot and Restore, the shard file, the
// replica wire): a server restored from it continues exactly where the original was — rows,
// optimizer state, a sync round in progress, admission counts and expiry steps — and a state
// that does not fit (another server's keys, a key twice, out of range, another dim) is refused
// with nothing changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "process_helpers.h"
#include "ringtrain/ckpt/shard_file.h"
#include "ringtrain/ps/replica_wire.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ps/shard_checkpoint.h"
#include "sparse_server_fixture.h"

namespace ringtrain::ps {
namespace {

using sparse_test::kDim;
using sparse_test::Keyed;
using sparse_test::kKeyLimit;
using sparse_test::SparseServerTest;
using ::testing::HasSubstr;

class SparseCheckpointTest : public SparseServerTest {
 protected:
  // The values of `keys` as worker `worker` pulls them from `core` at `clock`.
  std::vector<std::vector<float>> PullFrom(ServerCore* core, uint32_t worker, int64_t clock,
                                           const std::vector<uint64_t>& keys) {
    std::vector<Reply> out = HandleOn(core, Pull(worker, clock, keys));
    EXPECT_EQ(out.size(), 1u);
    if (out.empty()) return {};
    return Values(out[0]);
  }

  proto::MessageKind PushTo(ServerCore* core, uint32_t worker, int64_t clock,
                            const std::vector<Keyed>& rows) {
    std::vector<Reply> out = HandleOn(core, Push(worker, clock, rows, 2, 0.5f, clock));
    return out.empty() ? proto::KIND_UNSPECIFIED : out[0].header.kind();
  }

  // A restored copy of core_.
  std::unique_ptr<ServerCore> Restored() {
    std::unique_ptr<ServerCore> copy = NewCore();
    Status s = copy->Restore(core_->Snapshot());
    EXPECT_TRUE(s.ok()) << s.ToString();
    return copy;
  }
};

// Adagrad keeps per-key state; worker 0 has pushed round 1, worker 1 not yet: the restored
// core finishes the round and gives bit for bit the values the original does.
TEST_F(SparseCheckpointTest, ASyncRoundInProgressContinuesExactlyAfterARestore) {
  optimizer_.kind = optim::OptimizerKind::kAdagrad;
  Make(2, Consistency::kSync);
  PullFrom(core_.get(), 0, 0, {1, 2, 3});
  PullFrom(core_.get(), 1, 0, {2, 3});
  ASSERT_EQ(PushTo(core_.get(), 0, 0, {{1, {1, 2}}, {2, {3, 4}}, {3, {5, 6}}}), proto::PUSH_ACK);
  ASSERT_EQ(PushTo(core_.get(), 1, 0, {{2, {-1, 1}}, {3, {2, 2}}}), proto::PUSH_ACK);
  PullFrom(core_.get(), 0, 1, {2, 4});
  ASSERT_EQ(PushTo(core_.get(), 0, 1, {{2, {1, 1}}, {4, {7, -7}}}), proto::PUSH_ACK);

  ckpt::ShardState state = core_->Snapshot();
  ASSERT_TRUE(state.sparse.has_value());
  EXPECT_EQ(state.sparse->version, 1);
  EXPECT_EQ(state.sparse->round_pushes, 1u);
  EXPECT_EQ(state.sparse->rows(), 3);
  EXPECT_EQ(state.sparse->tables[0].round_keys.size(), 2u);       // keys 2 and 4 of round 1
  EXPECT_EQ(state.sparse->tables[0].rows.size(), 3u * 2 * kDim);  // value and Adagrad's sum

  std::unique_ptr<ServerCore> copy = Restored();
  for (ServerCore* core : {core_.get(), copy.get()}) {
    PullFrom(core, 1, 1, {3, 4});
    ASSERT_EQ(PushTo(core, 1, 1, {{3, {1, 0}}, {4, {0, 1}}}), proto::PUSH_ACK);
  }
  const std::vector<uint64_t> keys = {1, 2, 3, 4, 5};
  const auto original = PullFrom(core_.get(), 0, 2, keys);
  EXPECT_EQ(PullFrom(copy.get(), 0, 2, keys), original);
  EXPECT_NE(original[3], PullFrom(NewCore().get(), 0, 0, {4})[0]);  // updated
  EXPECT_EQ(copy->stats().sparse_rows(), core_->stats().sparse_rows());
  EXPECT_EQ(copy->stats().sparse_rows(), 4u);
}

// The same state through a shard file: written, read back against the server's identity,
// restored.
TEST_F(SparseCheckpointTest, TheShardFileHoldsTheSparseTables) {
  optimizer_.kind = optim::OptimizerKind::kAdagrad;
  Make(1, Consistency::kAsync, 1, 0, /*admit_after=*/2, /*expire_after=*/16);
  for (int64_t step = 0; step < 3; ++step) {
    PullFrom(core_.get(), 0, step, {3, 8, 9, 10});
    ASSERT_EQ(
        PushTo(core_.get(), 0, step, {{3, {1, 1}}, {8 + static_cast<uint64_t>(step), {2, 1}}}),
        proto::PUSH_ACK);
  }
  const ckpt::ShardIdentity id = ShardIdentityOf(*core_, 7, "adagrad");
  ASSERT_EQ(id.sparse_dims, std::vector<uint32_t>{kDim});
  const std::string dir = testing::MakeTempDir("sparse-ckpt");
  const std::string path = dir + "/shard.bin";
  const ckpt::ShardState state = core_->Snapshot();
  StatusOr<ckpt::FileEntry> entry = ckpt::WriteShardFile(path, state, id);
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  StatusOr<ckpt::ShardState> back = ckpt::ReadShardFile(path, *entry, id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->sparse, state.sparse);
  EXPECT_EQ(back->sparse->admission.size(), AdmissionCounter().bytes());
  EXPECT_EQ(back->sparse->tables[0].steps.size(), back->sparse->tables[0].keys.size());

  // A dense server's identity does not read it, nor a sparse one's a file without the tables.
  ckpt::ShardIdentity dense = id;
  dense.sparse_dims.clear();
  StatusOr<ckpt::ShardState> refused = ckpt::ReadShardFile(path, *entry, dense);
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  ckpt::ShardState without = state;
  without.sparse.reset();
  EXPECT_THAT(ckpt::WriteShardFile(dir + "/other.bin", without, id).status().message(),
              HasSubstr("no sparse tables"));

  std::unique_ptr<ServerCore> copy = NewCore();
  ASSERT_TRUE(copy->Restore(std::move(back).value()).ok());
  const std::vector<uint64_t> keys = {3, 8, 9, 10};
  EXPECT_EQ(PullFrom(copy.get(), 0, 3, keys), PullFrom(core_.get(), 0, 3, keys));
  std::filesystem::remove_all(dir);
}

// Admission counts survive: a key updated admit_after - 1 times before the checkpoint gets its
// row at its next update after it.
TEST_F(SparseCheckpointTest, AdmissionCountsSurviveARestore) {
  Make(1, Consistency::kAsync, 1, 0, /*admit_after=*/3);
  for (int64_t step = 0; step < 2; ++step) {
    PullFrom(core_.get(), 0, step, {5});
    ASSERT_EQ(PushTo(core_.get(), 0, step, {{5, {1, 1}}}), proto::PUSH_ACK);
  }
  ASSERT_EQ(core_->stats().sparse_rows(), 0u);
  std::unique_ptr<ServerCore> copy = Restored();
  PullFrom(copy.get(), 0, 2, {5});
  ASSERT_EQ(PushTo(copy.get(), 0, 2, {{5, {1, 1}}}), proto::PUSH_ACK);
  EXPECT_EQ(copy->stats().sparse_rows(), 1u);

  // Without the sketch (a checkpoint of a job that had no admission) counting starts over.
  ckpt::ShardState state = core_->Snapshot();
  state.sparse->admission.clear();
  std::unique_ptr<ServerCore> fresh = NewCore();
  ASSERT_TRUE(fresh->Restore(std::move(state)).ok());
  PullFrom(fresh.get(), 0, 2, {5});
  ASSERT_EQ(PushTo(fresh.get(), 0, 2, {{5, {1, 1}}}), proto::PUSH_ACK);
  EXPECT_EQ(fresh->stats().sparse_rows(), 0u);
}

// Expiry steps survive: a row idle since before the checkpoint expires after it at the same
// update as it would have without the restore.
TEST_F(SparseCheckpointTest, ExpiryStepsSurviveARestore) {
  Make(1, Consistency::kSync, 1, 0, /*admit_after=*/1, /*expire_after=*/8);
  PullFrom(core_.get(), 0, 0, {4, 6});
  PushTo(core_.get(), 0, 0, {{4, {1, 1}}, {6, {1, 1}}});
  for (int64_t step = 1; step <= 4; ++step) {
    PullFrom(core_.get(), 0, step, {6});
    PushTo(core_.get(), 0, step, {{6, {1, 1}}});
  }
  std::unique_ptr<ServerCore> copy = Restored();
  for (int64_t step = 5; step <= 8; ++step) {
    for (ServerCore* core : {core_.get(), copy.get()}) {
      PullFrom(core, 0, step, {6});
      PushTo(core, 0, step, {{6, {1, 1}}});
    }
    EXPECT_EQ(copy->stats().sparse_rows(), core_->stats().sparse_rows()) << "step " << step;
  }
  EXPECT_EQ(copy->stats().sparse_rows(), 1u);  // key 4 expired on both
}

// After a restore the worker's pull went to another server: its first push is taken with any
// keys this server owns; once it has pulled here, pushes are checked against that pull again.
TEST_F(SparseCheckpointTest, PushesAreCheckedAgainstPullsAgainOnceTheWorkerHasPulledHere) {
  Make(1, Consistency::kAsync);
  PullFrom(core_.get(), 0, 0, {1});
  ASSERT_EQ(PushTo(core_.get(), 0, 0, {{1, {1, 1}}}), proto::PUSH_ACK);
  std::unique_ptr<ServerCore> copy = Restored();
  EXPECT_EQ(PushTo(copy.get(), 0, 1, {{1, {1, 1}}, {2, {1, 1}}}), proto::PUSH_ACK);
  PullFrom(copy.get(), 0, 2, {1});
  std::vector<Reply> out = HandleOn(copy.get(), Push(0, 2, {{2, {1, 1}}}, 1, 0.5f, 2));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].header.kind(), proto::ERROR);
  EXPECT_THAT(out[0].header.error(), HasSubstr("not in the worker's latest pull"));
}

// A state that does not fit is refused naming the problem, and the core keeps what it had.
TEST_F(SparseCheckpointTest, AStateThatDoesNotFitIsRefusedAndChangesNothing) {
  Make(1, Consistency::kSync, /*servers=*/2, /*index=*/0);
  const std::vector<uint64_t> mine = KeysOf(0, 3);
  const uint64_t theirs = KeysOf(1, 1)[0];
  PullFrom(core_.get(), 0, 0, mine);
  PushTo(core_.get(), 0, 0, {{mine[0], {1, 1}}, {mine[1], {2, 2}}});
  const ckpt::ShardState good = core_->Snapshot();
  const auto before = PullFrom(core_.get(), 0, 1, mine);

  const auto refused = [&](const std::function<void(ckpt::SparseState&)>& damage,
                           const std::string& problem) {
    ckpt::ShardState bad = good;
    damage(*bad.sparse);
    Status s = core_->Restore(std::move(bad));
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << problem;
    EXPECT_THAT(s.message(), HasSubstr(problem));
    EXPECT_EQ(PullFrom(core_.get(), 0, 1, mine), before) << problem;
  };
  const auto add_row = [](ckpt::SparseState& s, uint64_t key) {
    s.tables[0].keys.push_back(key);
    s.tables[0].rows.insert(s.tables[0].rows.end(), kDim, 9.0f);
  };
  refused([&](ckpt::SparseState& s) { add_row(s, theirs); },
          "key " + std::to_string(theirs) + " belongs to server 1");
  refused([&](ckpt::SparseState& s) { add_row(s, s.tables[0].keys[0]); }, "has two rows");
  refused([&](ckpt::SparseState& s) { add_row(s, kKeyLimit + 1); }, "outside the table's range");
  refused([&](ckpt::SparseState& s) { s.tables[0].rows.pop_back(); }, "sizes do not fit");
  refused([&](ckpt::SparseState& s) { s.tables.clear(); }, "has 0 tables");
  refused([&](ckpt::SparseState& s) { s.round_learning_rate = -1; }, "pushes at rate -1");
  refused(
      [&](ckpt::SparseState& s) {
        s.round_pushes = 1;
        s.tables[0].round_keys = {theirs};
        s.tables[0].round_sums = {1, 1};
      },
      "round key " + std::to_string(theirs) + " belongs to server 1");

  ckpt::ShardState dense = good;
  dense.sparse.reset();
  EXPECT_THAT(core_->Restore(std::move(dense)).message(), HasSubstr("no sparse tables"));
  EXPECT_EQ(PullFrom(core_.get(), 0, 1, mine), before);
}

// Replication sends the same state as frames (ps/replica_wire.h).
TEST_F(SparseCheckpointTest, TheSparseTablesSurviveTheReplicaWire) {
  optimizer_.kind = optim::OptimizerKind::kAdagrad;
  Make(2, Consistency::kSync, 1, 0, /*admit_after=*/2, /*expire_after=*/64);
  for (int64_t round = 0; round < 2; ++round) {  // key 1 and 2 admitted at their second update
    for (uint32_t w = 0; w < 2; ++w) {
      PullFrom(core_.get(), w, round, {1, 2});
      PushTo(core_.get(), w, round, {{1, {1, 1}}, {2, {2, 2}}});
    }
  }
  PushTo(core_.get(), 0, 0, {{1, {1, 1}}});  // a duplicate: acknowledged, not applied
  PullFrom(core_.get(), 0, 2, {2, 3});
  PushTo(core_.get(), 0, 2, {{2, {1, 1}}, {3, {1, 1}}});  // round 2 in progress
  const ckpt::ShardState state = core_->Snapshot();
  ASSERT_EQ(state.sparse->rows(), 2);
  ASSERT_EQ(state.sparse->round_pushes, 1u);

  proto::ShardStateMeta meta;
  std::vector<zmq::message_t> frames;
  EncodeShardState(state, &meta, &frames);
  StatusOr<ckpt::ShardState> back = DecodeShardState(meta, frames);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->sparse, state.sparse);

  // A frame that does not hold what the header says is refused.
  proto::ShardStateMeta lying = meta;
  lying.mutable_sparse()->mutable_tables(0)->set_rows(state.sparse->tables[0].keys.size() + 1);
  EXPECT_THAT(DecodeShardState(lying, frames).status().message(), HasSubstr("sparse table 0 keys"));
  frames.pop_back();
  EXPECT_THAT(DecodeShardState(meta, frames).status().message(), HasSubstr("sparse tables"));
}

}  // namespace
}  // namespace ringtrain::ps
