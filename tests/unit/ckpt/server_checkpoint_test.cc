// ServerCore::Snapshot / Restore and ps::RestoreLatest: a server's shard saved and put back,
// exactly, into a core of the same server only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "ckpt_test_util.h"
#include "ringtrain/ckpt/store.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ps/shard_checkpoint.h"
#include "server_fixture.h"

namespace ringtrain::ps {
namespace {

using testing::AllParams;
using testing::AllVersions;
using testing::CoreSpec;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using testing::kModelFingerprint;
using ::testing::SizeIs;
using testing::Workers;

class ServerCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(table_->partitions_of(0).empty());
    ASSERT_FALSE(table_->partitions_of(1).empty());
  }

  std::unique_ptr<ckpt::Store> OpenStore() {
    auto s = ckpt::Store::Open({dir_.path(), 3, nullptr});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  std::shared_ptr<const ring::PartitionTable> table_ = testing::TwoServerTable();
  Workers workers_{table_, 1};
  ckpt::testing::ScratchDir dir_;
};

TEST_F(ServerCheckpointTest, SnapshotHoldsEveryOwnedPartitionAndEveryClock) {
  auto core = workers_.MakeCore({});
  Workers::Accept(*core, workers_.Push(0, 0, 1.0f, 4));
  Workers::Accept(*core, workers_.Push(1, 0, 2.0f, 4));  // round 0 applied
  Workers::Accept(*core, workers_.Push(0, 1, 3.0f, 2));  // round 1: one of two pushes

  const ckpt::ShardState s = core->Snapshot();
  const auto& owned = table_->partitions_of(1);
  ASSERT_THAT(s.partitions, SizeIs(owned.size()));
  for (size_t i = 0; i < owned.size(); ++i) {
    const ckpt::PartitionSnapshot& p = s.partitions[i];
    EXPECT_EQ(p.id, owned[i]);
    EXPECT_THAT(p.params, ElementsAreArray(core->params(owned[i])));
    EXPECT_EQ(p.version, 1);
    EXPECT_EQ(p.optimizer_steps, 1);
    ASSERT_THAT(p.optimizer_state, SizeIs(p.params.size()));  // momentum: one slot
    EXPECT_NE(p.optimizer_state[0], 0.0f);
    // The round in progress: worker 0's push, 2 samples.
    ASSERT_THAT(p.accum, SizeIs(p.params.size()));
    EXPECT_FLOAT_EQ(p.accum[0], 2.0f * 3.0f * (1.0f + static_cast<float>(p.id)));
    EXPECT_EQ(p.round_pushes, 1u);
    EXPECT_EQ(p.round_samples, 2u);
    EXPECT_FLOAT_EQ(p.round_learning_rate, 0.1f);
  }
  ASSERT_THAT(s.workers, SizeIs(2));
  EXPECT_EQ(s.workers[0].clock, 2);
  EXPECT_EQ(s.workers[1].clock, 1);
  EXPECT_EQ(s.step(), 1);
}

TEST_F(ServerCheckpointTest, SnapshotIsACopyThatLaterUpdatesDoNotTouch) {
  auto core = workers_.MakeCore({});
  const std::vector<float> before = AllParams(*core);
  const ckpt::ShardState s = core->Snapshot();
  Workers::Accept(*core, workers_.Push(0, 0, 1.0f, 4));
  Workers::Accept(*core, workers_.Push(1, 0, 1.0f, 4));
  ASSERT_NE(AllParams(*core), before) << "the round changed the parameters";
  std::vector<float> snapshot;
  for (const auto& p : s.partitions)
    snapshot.insert(snapshot.end(), p.params.begin(), p.params.end());
  EXPECT_EQ(snapshot, before);
  EXPECT_EQ(s.partitions[0].version, 0);
  EXPECT_TRUE(s.partitions[0].accum.empty()) << "no push of round 0 had arrived";
}

// The restored core continues exactly as the original: same parameters, bit for bit, after the
// same requests — in sync mode from the middle of a round.
TEST_F(ServerCheckpointTest, RestoredSyncCoreContinuesExactlyFromMidRound) {
  auto original = workers_.MakeCore({});
  Workers::Accept(*original, workers_.Push(0, 0, 1.0f, 4));
  Workers::Accept(*original, workers_.Push(1, 0, 2.0f, 3));
  Workers::Accept(*original, workers_.Push(0, 1, -1.5f, 5));  // round 1 half done

  auto store = OpenStore();
  const ckpt::ShardIdentity id = ShardIdentityOf(*original, kModelFingerprint, "momentum");
  ASSERT_TRUE(store->Write(id, original->Snapshot(), false).ok());

  auto restored = workers_.MakeCore({});
  StatusOr<RestoredCheckpoint> r = RestoreLatest(*store, id, restored.get());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest.step, 1);
  EXPECT_TRUE(r->skipped.empty());
  EXPECT_EQ(AllParams(*restored), AllParams(*original));
  EXPECT_EQ(AllVersions(*restored), AllVersions(*original));
  EXPECT_EQ(restored->clock(0), 2);

  for (ServerCore* core : {original.get(), restored.get()}) {
    Workers::Accept(*core, workers_.Push(1, 1, 0.5f, 2));  // completes round 1
    Workers::Accept(*core, workers_.Push(0, 2, 0.25f, 1));
    Workers::Accept(*core, workers_.Done(1));  // completes round 2 without worker 1
  }
  EXPECT_EQ(AllVersions(*restored), AllVersions(*original));
  EXPECT_EQ(AllVersions(*restored)[0], 3);
  EXPECT_EQ(AllParams(*restored), AllParams(*original));
  EXPECT_FALSE(restored->finished());
  Workers::Accept(*restored, workers_.Done(0));
  EXPECT_TRUE(restored->finished());
}

TEST_F(ServerCheckpointTest, RestoredAsyncAdamCoreContinuesExactly) {
  CoreSpec spec;
  spec.consistency = Consistency::kAsync;
  spec.optimizer = {optim::OptimizerKind::kAdam, 0, 0.01};  // Adam reads the optimizer steps
  auto original = workers_.MakeCore(spec);
  Workers::Accept(*original, workers_.Push(0, 0, 1.0f, 4));
  Workers::Accept(*original, workers_.Push(1, 0, 2.0f, 3, 0));
  Workers::Accept(*original, workers_.Push(0, 1, -0.5f, 3, 1));
  const ckpt::ShardState snapshot = original->Snapshot();
  EXPECT_EQ(snapshot.partitions[0].optimizer_steps, 3);
  EXPECT_THAT(snapshot.partitions[0].optimizer_state,
              SizeIs(2 * snapshot.partitions[0].params.size()));

  auto restored = workers_.MakeCore(spec);
  ASSERT_TRUE(restored->Restore(snapshot).ok());
  for (ServerCore* core : {original.get(), restored.get()}) {
    Workers::Accept(*core, workers_.Push(1, 1, 0.75f, 2, 2));
    Workers::Accept(*core, workers_.Push(0, 2, 0.125f, 2, 3));
  }
  EXPECT_EQ(AllVersions(*restored), AllVersions(*original));
  EXPECT_EQ(AllParams(*restored), AllParams(*original));
}

TEST_F(ServerCheckpointTest, RestoreRefusesAnotherServersShardAndChangesNothing) {
  auto server1 = workers_.MakeCore({});
  Workers::Accept(*server1, workers_.Push(0, 0, 1.0f, 4));
  const ckpt::ShardState of_server1 = server1->Snapshot();

  CoreSpec spec;
  spec.server = 0;
  auto server0 = workers_.MakeCore(spec);
  const std::vector<float> before = AllParams(*server0);
  const Status s = server0->Restore(of_server1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("restoring server 0"));
  EXPECT_EQ(AllParams(*server0), before);
  EXPECT_EQ(server0->clock(0), 0);
}

TEST_F(ServerCheckpointTest, RestoreChecksEverythingBeforeChangingAnything) {
  auto core = workers_.MakeCore({});
  const ckpt::ShardState good = core->Snapshot();
  Workers::Accept(*core, workers_.Push(0, 0, 1.0f, 4));
  const std::vector<float> params = AllParams(*core);

  struct Case {
    const char* message;
    void (*damage)(ckpt::ShardState*);
  };
  const Case cases[] = {
      {"optimizer floats",
       [](ckpt::ShardState* s) { s->partitions.back().optimizer_state.pop_back(); }},
      {"parameters", [](ckpt::ShardState* s) { s->partitions.back().params.push_back(1); }},
      {"worker clocks", [](ckpt::ShardState* s) { s->workers.pop_back(); }},
      {"negative clock", [](ckpt::ShardState* s) { s->workers.back().clock = -1; }},
      {"are not 0 <= steps <= version",
       [](ckpt::ShardState* s) { s->partitions.back().optimizer_steps = 5; }},
      {"a round in progress that does not fit",
       [](ckpt::ShardState* s) { s->partitions.back().round_pushes = 3; }},
  };
  for (const Case& c : cases) {
    ckpt::ShardState bad = good;
    c.damage(&bad);
    const Status s = core->Restore(bad);
    ASSERT_FALSE(s.ok()) << c.message;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
    EXPECT_EQ(AllParams(*core), params) << c.message;
    EXPECT_EQ(core->clock(0), 1) << c.message;
  }
  ASSERT_TRUE(core->Restore(good).ok());
  EXPECT_EQ(core->clock(0), 0);
}

TEST_F(ServerCheckpointTest, AsyncCoreRefusesASyncRoundInProgress) {
  auto sync = workers_.MakeCore({});
  Workers::Accept(*sync, workers_.Push(0, 0, 1.0f, 4));
  CoreSpec spec;
  spec.consistency = Consistency::kAsync;
  auto async = workers_.MakeCore(spec);
  const Status s = async->Restore(sync->Snapshot());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("async mode"));
}

TEST_F(ServerCheckpointTest, IdentityComesFromTheCore) {
  auto core = workers_.MakeCore({});
  const ckpt::ShardIdentity id = ShardIdentityOf(*core, kModelFingerprint, "momentum");
  EXPECT_EQ(id.job, testing::kJob);
  EXPECT_EQ(id.server_index, 1);
  EXPECT_EQ(id.ring_servers, (std::vector<std::string>{"ps-0", "ps-1"}));
  EXPECT_EQ(id.layout_fingerprint, table_->fingerprint());
  EXPECT_EQ(id.model_fingerprint, kModelFingerprint);
  EXPECT_EQ(id.sync_mode, "sync");
  EXPECT_EQ(id.state_slots, 1);
  EXPECT_EQ(id.num_workers, 2);
  ASSERT_THAT(id.partitions, SizeIs(table_->partitions_of(1).size()));
  EXPECT_EQ(id.partitions[0].id, table_->partitions_of(1)[0]);
  EXPECT_TRUE(ckpt::ValidateIdentity(id).ok());
}

TEST_F(ServerCheckpointTest, RestoreLatestFallsBackPastADamagedCheckpoint) {
  auto core = workers_.MakeCore({});
  const ckpt::ShardIdentity id = ShardIdentityOf(*core, kModelFingerprint, "momentum");
  auto store = OpenStore();
  Workers::Accept(*core, workers_.Push(0, 0, 1.0f, 4));
  Workers::Accept(*core, workers_.Push(1, 0, 1.0f, 4));
  const std::vector<float> at_step1 = AllParams(*core);
  ASSERT_TRUE(store->Write(id, core->Snapshot(), false).ok());
  Workers::Accept(*core, workers_.Push(0, 1, 1.0f, 4));
  Workers::Accept(*core, workers_.Push(1, 1, 1.0f, 4));
  auto newest = store->Write(id, core->Snapshot(), false);
  ASSERT_TRUE(newest.ok());
  ckpt::testing::FlipByte(newest->ref.path + "/shard.bin", 200);

  auto fresh = workers_.MakeCore({});
  StatusOr<RestoredCheckpoint> r = RestoreLatest(*store, id, fresh.get());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest.step, 1);
  ASSERT_THAT(r->skipped, SizeIs(1));
  EXPECT_THAT(r->skipped[0], HasSubstr(newest->ref.path + "/shard.bin: checksum mismatch"));
  EXPECT_EQ(AllParams(*fresh), at_step1);
  EXPECT_EQ(fresh->clock(1), 1);
}

TEST_F(ServerCheckpointTest, RestoreLatestOfAnotherModelLeavesTheCoreAlone) {
  auto core = workers_.MakeCore({});
  auto store = OpenStore();
  Workers::Accept(*core, workers_.Push(0, 0, 1.0f, 4));
  ASSERT_TRUE(store->Write(ShardIdentityOf(*core, 1, "momentum"), core->Snapshot(), false).ok());
  auto fresh = workers_.MakeCore({});
  const std::vector<float> before = AllParams(*fresh);
  StatusOr<RestoredCheckpoint> r =
      RestoreLatest(*store, ShardIdentityOf(*fresh, 2, "momentum"), fresh.get());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("another model"));
  EXPECT_EQ(AllParams(*fresh), before);
  EXPECT_EQ(fresh->clock(0), 0);
}

}  // namespace
}  // namespace ringtrain::ps
