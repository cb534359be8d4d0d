// ServerCore::SnapshotInto: a state overwritten in place is exactly what Snapshot() returns, as
// the shard changes (a sync round starts and ends) and whatever the state held before, and a
// state of the same shapes is copied into without a new allocation.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "ckpt_test_util.h"
#include "ringtrain/ps/server_core.h"
#include "server_fixture.h"

namespace ringtrain::ps {
namespace {

using ckpt::testing::SameState;
using testing::CoreSpec;
using testing::Workers;

class SnapshotIntoTest : public ::testing::Test {
 protected:
  std::shared_ptr<const ring::PartitionTable> table_ = testing::TwoServerTable();
  Workers workers_{table_, 1};
};

// The buffers of every partition's vectors, to tell reuse from reallocation.
std::vector<const float*> Buffers(const ckpt::ShardState& s) {
  std::vector<const float*> out;
  for (const ckpt::PartitionSnapshot& p : s.partitions) {
    out.push_back(p.params.data());
    out.push_back(p.optimizer_state.data());
  }
  return out;
}

TEST_F(SnapshotIntoTest, AReusedStateFollowsTheShardInPlace) {
  auto core = workers_.MakeCore({});
  ckpt::ShardState s;
  core->SnapshotInto(&s);
  ASSERT_TRUE(SameState(s, core->Snapshot()));
  const std::vector<const float*> buffers = Buffers(s);

  Workers::Accept(*core, workers_.Push(0, 0, 1.0f, 4));  // round 0 in progress
  core->SnapshotInto(&s);
  ASSERT_TRUE(SameState(s, core->Snapshot()));
  ASSERT_FALSE(s.partitions[0].accum.empty());
  const size_t accum_size = s.partitions[0].accum.size();

  Workers::Accept(*core, workers_.Push(1, 0, 2.0f, 3));  // round 0 applied
  core->SnapshotInto(&s);
  EXPECT_TRUE(SameState(s, core->Snapshot())) << "the round's accumulator and counts cleared";
  EXPECT_TRUE(s.partitions[0].accum.empty());
  EXPECT_EQ(s.partitions[0].round_pushes, 0u);
  EXPECT_GE(s.partitions[0].accum.capacity(), accum_size) << "kept for the next round";

  Workers::Accept(*core, workers_.Push(0, 1, -0.5f, 2));
  Workers::Accept(*core, workers_.Push(1, 1, 0.25f, 2));
  Workers::Accept(*core, workers_.Done(1));
  core->SnapshotInto(&s);
  EXPECT_TRUE(SameState(s, core->Snapshot()));
  EXPECT_TRUE(s.workers[1].done);
  EXPECT_EQ(Buffers(s), buffers) << "same shapes: copied into, not reallocated";
}

// Whatever the state held — another server's partitions, another optimizer's slots, another
// worker count, a round in progress of another mode — none of it survives.
TEST_F(SnapshotIntoTest, AStateOfOtherShapesIsReplacedEntirely) {
  CoreSpec sync_server0;
  sync_server0.server = 0;
  sync_server0.workers = 3;
  Workers to_server0{table_, 0};
  auto other = to_server0.MakeCore(sync_server0);
  Workers::Accept(*other, to_server0.Push(0, 0, 1.0f, 4));  // a round in progress

  CoreSpec async_adam;
  async_adam.consistency = Consistency::kAsync;
  async_adam.optimizer = {optim::OptimizerKind::kAdam, 0, 0.01};
  auto core = workers_.MakeCore(async_adam);
  Workers::Accept(*core, workers_.Push(0, 0, 1.0f, 4));

  ckpt::ShardState s = other->Snapshot();
  ASSERT_FALSE(s.partitions[0].accum.empty());
  core->SnapshotInto(&s);
  EXPECT_TRUE(SameState(s, core->Snapshot()));

  // And back: the async Adam state into the sync momentum core of server 0.
  other->SnapshotInto(&s);
  EXPECT_TRUE(SameState(s, other->Snapshot()));

  // A state with more partitions and workers than the core has shrinks to fit.
  ckpt::ShardState big = ckpt::testing::TestState(ckpt::testing::TestIdentity(), 7);
  for (int i = 0; i < 3; ++i) big.partitions.push_back(big.partitions.back());
  big.workers.resize(9);
  core->SnapshotInto(&big);
  EXPECT_TRUE(SameState(big, core->Snapshot()));
}

}  // namespace
}  // namespace ringtrain::ps
