// ServerCheckpointer: when checkpoints are taken (steps, time, only after a change), that a
// checkpoint falling due during a write waits instead of piling up, and that what is written
// is the state at the moment of the copy while the server goes on.
#include "ringtrain/ps/checkpointer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ckpt_test_util.h"
#include "ringtrain/ckpt/store.h"
#include "ringtrain/ps/shard_checkpoint.h"
#include "server_fixture.h"
#include "write_gate.h"

namespace ringtrain::ps {
namespace {

using testing::AllParams;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kModelFingerprint;
using ::testing::SizeIs;
using testing::Workers;
using namespace std::chrono_literals;

using Gate = ckpt::testing::WriteGate;

class CheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override { core_ = workers_.MakeCore({}); }

  std::unique_ptr<ServerCheckpointer> Make(int64_t every_steps, std::chrono::milliseconds every,
                                           std::function<void()> before_write = {}) {
    auto store = ckpt::Store::Open({dir_.path(), 10, nullptr});
    EXPECT_TRUE(store.ok());
    auto writer =
        ckpt::AsyncWriter::Start(std::move(store).value(), Identity(), std::move(before_write));
    EXPECT_TRUE(writer.ok());
    CheckpointPolicy policy;
    policy.every_steps = every_steps;
    policy.every = every;
    policy.now = [this] { return now_; };
    policy.log = [this](const std::string& line) { log_.push_back(line); };
    policy.written = [this](const LastCheckpoint& c) { written_.push_back(c); };
    policy.restored = restored_;
    auto c = ServerCheckpointer::Make(std::move(policy), std::move(writer).value());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }

  ckpt::ShardIdentity Identity() const {
    return ShardIdentityOf(*core_, kModelFingerprint, "momentum");
  }

  // One sync round of both workers.
  void Round() {
    const int64_t clock = core_->clock(0);
    Workers::Accept(*core_, workers_.Push(0, clock, 1.0f + static_cast<float>(clock), 2));
    Workers::Accept(*core_, workers_.Push(1, clock, 0.5f, 2));
  }

  // The steps of the checkpoints on disk, oldest first.
  std::vector<int64_t> StepsOnDisk() {
    auto store = ckpt::Store::Open({dir_.path(), 10, nullptr});
    EXPECT_TRUE(store.ok());
    auto refs = (*store)->List();
    EXPECT_TRUE(refs.ok());
    std::vector<int64_t> steps;
    for (auto it = refs->rbegin(); it != refs->rend(); ++it) steps.push_back(it->step);
    return steps;
  }

  std::shared_ptr<const ring::PartitionTable> table_ = testing::TwoServerTable();
  Workers workers_{table_, 1};
  std::unique_ptr<ServerCore> core_;
  ckpt::testing::ScratchDir dir_;
  std::chrono::steady_clock::time_point now_{};
  std::vector<std::string> log_;
  std::vector<LastCheckpoint> written_;     // told by policy.written
  std::optional<LastCheckpoint> restored_;  // policy.restored of the next Make
};

TEST_F(CheckpointerTest, NeedsAPeriodAndAWriter) {
  auto store = ckpt::Store::Open({dir_.path(), 1, nullptr});
  auto writer = ckpt::AsyncWriter::Start(std::move(store).value(), Identity());
  EXPECT_EQ(ServerCheckpointer::Make({}, std::move(writer).value()).status().code(),
            StatusCode::kInvalidArgument);
  CheckpointPolicy p;
  p.every_steps = 1;
  EXPECT_EQ(ServerCheckpointer::Make(p, nullptr).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CheckpointerTest, EveryNSteps) {
  auto c = Make(/*every_steps=*/2, 0ms);
  c->Tick(*core_);  // notes the start: step 0
  for (int i = 0; i < 5; ++i) {
    Round();
    c->Tick(*core_);
    ASSERT_TRUE(c->WaitIdle(30s).ok());
  }
  EXPECT_THAT(StepsOnDisk(), ElementsAre(2, 4));
  EXPECT_EQ(c->stats().snapshots, 2u);
  EXPECT_EQ(c->stats().delayed_busy, 0u);
  EXPECT_GT(c->stats().longest_copy_seconds, 0.0);
  c->Tick(*core_);  // reports the last write
  ASSERT_THAT(log_, SizeIs(2));
  EXPECT_THAT(log_[0], HasSubstr("checkpoint at step 2 written to " + dir_.path() +
                                 "/ckpt-0000000001-step-000000000002"));
  EXPECT_THAT(log_[1], HasSubstr("checkpoint at step 4 written"));
}

// Streamed rounds: a checkpoint that falls due while a worker's push is partly in (which a file
// cannot hold) is taken by the first Tick after the push completed, and holds it whole.
TEST_F(CheckpointerTest, APushPartlyInHoldsTheCheckpointBackUntilItCompletes) {
  auto c = Make(/*every_steps=*/1, 0ms);
  c->Tick(*core_);
  Round();
  // Worker 0's next push in two chunks; the first is in.
  transport::Message whole = workers_.Push(0, 1, 1.0f, 2);
  ASSERT_GE(whole.header.partitions_size(), 2);
  transport::Message first;
  first.header = whole.header;
  first.header.set_partial(true);
  first.header.clear_partitions();
  *first.header.add_partitions() = whole.header.partitions(0);
  first.payloads.push_back(std::move(whole.payloads[0]));
  transport::Message rest;
  rest.header = whole.header;
  rest.header.set_partial(true);
  rest.header.mutable_partitions()->DeleteSubrange(0, 1);
  for (size_t i = 1; i < whole.payloads.size(); ++i)
    rest.payloads.push_back(std::move(whole.payloads[i]));
  Workers::Accept(*core_, std::move(first));
  ASSERT_TRUE(core_->mid_push());
  c->Tick(*core_);
  ASSERT_TRUE(c->WaitIdle(30s).ok());
  EXPECT_EQ(c->stats().snapshots, 0u) << "due at step 1, but a push is partly in";
  Workers::Accept(*core_, std::move(rest));
  c->Tick(*core_);
  ASSERT_TRUE(c->WaitIdle(30s).ok());
  EXPECT_EQ(c->stats().snapshots, 1u);
  EXPECT_THAT(StepsOnDisk(), ElementsAre(1));
  EXPECT_TRUE(std::none_of(log_.begin(), log_.end(), [](const std::string& line) {
    return line.find("not taken") != std::string::npos;
  }));
}

// A worker whose share of the data held no records finishes at step 0; the other's steps
// still bring checkpoints (the shard's step, the smallest clock of all, stays 0).
TEST_F(CheckpointerTest, AWorkerThatFinishedEarlyDoesNotHoldCheckpointsBack) {
  auto c = Make(/*every_steps=*/2, 0ms);
  c->Tick(*core_);
  Workers::Accept(*core_, workers_.Done(1));
  for (int64_t clock = 0; clock < 5; ++clock) {
    Workers::Accept(*core_, workers_.Push(0, clock, 1.0f, 2));
    c->Tick(*core_);
    ASSERT_TRUE(c->WaitIdle(30s).ok());
  }
  EXPECT_EQ(core_->step(), 0);
  EXPECT_EQ(core_->active_step(), 5);
  EXPECT_EQ(c->stats().snapshots, 2u);  // at active steps 2 and 4
}

TEST_F(CheckpointerTest, EveryNSecondsButOnlyAfterAChange) {
  auto c = Make(0, /*every=*/10s);
  c->Tick(*core_);
  now_ += 11s;
  c->Tick(*core_);
  EXPECT_EQ(c->stats().snapshots, 0u) << "nothing changed: nothing to save";
  Round();
  c->Tick(*core_);
  EXPECT_EQ(c->stats().snapshots, 1u);
  ASSERT_TRUE(c->WaitIdle(30s).ok());
  now_ += 5s;
  Round();
  c->Tick(*core_);
  EXPECT_EQ(c->stats().snapshots, 1u) << "5 s of 10";
  now_ += 6s;
  c->Tick(*core_);
  EXPECT_EQ(c->stats().snapshots, 2u);
  ASSERT_TRUE(c->WaitIdle(30s).ok());
  EXPECT_THAT(StepsOnDisk(), ElementsAre(1, 2));
}

// The server never waits for the disk: a checkpoint that falls due during a write is taken by
// the first Tick after the write, counted once; and what was written is the state at the
// moment of its copy, though the core went on changing while it was written.
TEST_F(CheckpointerTest, DueDuringAWriteWaitsForItAndTheWriteHoldsTheStateOfItsCopy) {
  Gate gate;
  auto c = Make(/*every_steps=*/1, 0ms, [&] { gate.Wait(); });
  c->Tick(*core_);
  Round();
  const std::vector<float> at_step1 = AllParams(*core_);
  c->Tick(*core_);  // snapshot of step 1, its write held at the gate
  gate.WaitEntered();
  EXPECT_EQ(c->stats().snapshots, 1u);

  Round();
  c->Tick(*core_);  // due, writer busy
  Round();
  c->Tick(*core_);  // still busy: the same delayed checkpoint
  EXPECT_EQ(c->stats().snapshots, 1u);
  EXPECT_EQ(c->stats().delayed_busy, 1u);
  EXPECT_EQ(c->writer_stats().rejected_busy, 0u) << "no copy made for nothing";
  ASSERT_NE(AllParams(*core_), at_step1);

  gate.Open();
  ASSERT_TRUE(c->WaitIdle(30s).ok());
  c->Tick(*core_);  // writer idle: takes the delayed checkpoint now, at step 3
  ASSERT_TRUE(c->WaitIdle(30s).ok());
  EXPECT_EQ(c->stats().snapshots, 2u);
  EXPECT_THAT(StepsOnDisk(), ElementsAre(1, 3));

  auto store = ckpt::Store::Open({dir_.path(), 10, nullptr});
  ASSERT_TRUE(store.ok());
  auto refs = (*store)->List();
  ASSERT_TRUE(refs.ok());
  auto first = (*store)->Load(refs->back(), Identity());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::vector<float> written;
  for (const auto& p : first->state.partitions) {
    written.insert(written.end(), p.params.begin(), p.params.end());
  }
  EXPECT_EQ(written, at_step1);
}

// Every snapshot but none copies into the state of the previous write, handed back only once
// that write is done; the server keeps training while a slow writer writes (ThreadSanitizer
// watches this test), and every checkpoint on disk is exactly the state at its copy.
TEST_F(CheckpointerTest, SnapshotsReuseTheLastWrittenStateAndEachFileHoldsItsCopy) {
  auto c = Make(/*every_steps=*/1, 0ms, [] { std::this_thread::sleep_for(2ms); });
  c->Tick(*core_);
  std::map<int64_t, ckpt::ShardState> copied;  // step -> the state when it was copied
  for (int i = 0; i < 5000 && copied.size() < 6; ++i) {
    Round();
    const uint64_t before = c->stats().snapshots;
    c->Tick(*core_);
    if (c->stats().snapshots != before) copied[core_->clock(1)] = core_->Snapshot();
    std::this_thread::sleep_for(200us);
  }
  ASSERT_TRUE(c->WaitIdle(30s).ok());
  ASSERT_EQ(copied.size(), 6u);
  EXPECT_GT(c->stats().delayed_busy, 0u) << "the writer was slower than the rounds";
  EXPECT_EQ(c->stats().reused_buffers, c->stats().snapshots) << "the first into the prepared one";
  EXPECT_EQ(c->writer_stats().rejected_busy, 0u);

  auto store = ckpt::Store::Open({dir_.path(), 10, nullptr});
  ASSERT_TRUE(store.ok());
  auto refs = (*store)->List();
  ASSERT_TRUE(refs.ok());
  ASSERT_FALSE(refs->empty());
  for (const ckpt::CheckpointRef& ref : *refs) {
    auto loaded = (*store)->Load(ref, Identity());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_EQ(copied.count(ref.step), 1u) << ref.step;
    EXPECT_TRUE(ckpt::testing::SameState(loaded->state, copied[ref.step])) << "step " << ref.step;
  }
}

TEST_F(CheckpointerTest, FinishWritesAFinalCheckpointAndWaitsForIt) {
  auto c = Make(/*every_steps=*/100, 0ms);
  c->Tick(*core_);
  Round();
  Round();
  Workers::Accept(*core_, workers_.Done(0));
  Workers::Accept(*core_, workers_.Done(1));
  ASSERT_TRUE(core_->finished());
  ASSERT_TRUE(c->Finish(*core_, 30s).ok());
  auto store = ckpt::Store::Open({dir_.path(), 10, nullptr});
  ASSERT_TRUE(store.ok());
  auto latest = (*store)->LoadLatest(Identity());
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_TRUE(latest->manifest.final);
  EXPECT_EQ(latest->manifest.step, 2);
  EXPECT_TRUE(latest->state.workers[0].done);
  EXPECT_TRUE(latest->state.workers[1].done);
  ASSERT_THAT(log_, SizeIs(1));
  EXPECT_THAT(log_[0], HasSubstr("final checkpoint at step 2 written"));
}

// The newest checkpoint, for the server's status socket (any thread) and its CHECKPOINT
// events (the server's thread): the one restored until one is written, then each written.
TEST_F(CheckpointerTest, LastCheckpointIsTheRestoredOneUntilOneIsWrittenAndEachIsTold) {
  EXPECT_FALSE(Make(2, 0ms)->last_checkpoint().has_value()) << "nothing restored, none written";
  restored_ = LastCheckpoint{1, 1764806400000, "/old/ckpt-0000000003-step-000000000001", false};
  auto c = Make(/*every_steps=*/2, 0ms);
  EXPECT_EQ(c->last_checkpoint(), restored_);
  // Another thread asks all along, as the status socket does while the server trains.
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) {
      std::optional<LastCheckpoint> last = c->last_checkpoint();
      ASSERT_TRUE(last.has_value());
      ASSERT_FALSE(last->path.empty());
    }
  });
  const int64_t before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  c->Tick(*core_);
  Round();
  Round();
  c->Tick(*core_);  // step 2: due
  ASSERT_TRUE(c->WaitIdle(30s).ok());
  std::optional<LastCheckpoint> last = c->last_checkpoint();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->step, 2);
  EXPECT_EQ(last->path, dir_.path() + "/ckpt-0000000001-step-000000000002");
  EXPECT_FALSE(last->final);
  EXPECT_GE(last->unix_ms, before_ms - 1000) << "the manifest's time, in ms since the epoch";
  EXPECT_TRUE(written_.empty()) << "told by the next Tick on the server's thread";
  c->Tick(*core_);
  EXPECT_THAT(written_, ElementsAre(*last));
  Workers::Accept(*core_, workers_.Done(0));
  Workers::Accept(*core_, workers_.Done(1));
  ASSERT_TRUE(c->Finish(*core_, 30s).ok());
  stop = true;
  reader.join();
  ASSERT_THAT(written_, SizeIs(2));
  EXPECT_TRUE(written_[1].final);
  EXPECT_EQ(written_[1].step, 2);
  EXPECT_EQ(c->last_checkpoint(), written_[1]);
}

TEST_F(CheckpointerTest, StopWritesTheCurrentStateUnmarkedOnlyWhenSomethingChanged) {
  auto c = Make(/*every_steps=*/2, 0ms);
  c->Tick(*core_);
  Round();
  Round();
  c->Tick(*core_);  // step 2: due
  ASSERT_TRUE(c->WaitIdle(30s).ok());
  ASSERT_THAT(StepsOnDisk(), ElementsAre(2));
  ASSERT_TRUE(c->Stop(*core_, 30s).ok());
  EXPECT_THAT(StepsOnDisk(), ElementsAre(2)) << "nothing new since step 2: no second copy";

  Round();                                                // step 3, stopped before the next period
  Workers::Accept(*core_, workers_.Push(0, 3, 1.0f, 2));  // and half of round 3
  ASSERT_TRUE(c->Stop(*core_, 30s).ok());
  EXPECT_THAT(StepsOnDisk(), ElementsAre(2, 3));
  auto store = ckpt::Store::Open({dir_.path(), 10, nullptr});
  ASSERT_TRUE(store.ok());
  auto latest = (*store)->LoadLatest(Identity());
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_FALSE(latest->manifest.final) << "a stopped job continues from it; it is not finished";
  EXPECT_EQ(latest->state.workers[0].clock, 4) << "the round in progress is kept";
  EXPECT_EQ(latest->state.workers[1].clock, 3);
}

TEST_F(CheckpointerTest, FinishReportsAWriteThatFailed) {
  auto c = Make(/*every_steps=*/100, 0ms);
  c->Tick(*core_);
  Round();
  std::filesystem::remove_all(dir_.path());
  ckpt::testing::WriteAll(dir_.path(), "in the way");
  const Status s = c->Finish(*core_, 30s);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  ASSERT_THAT(log_, SizeIs(1));
  EXPECT_THAT(log_[0], HasSubstr("checkpoint write failed, earlier checkpoints kept"));
  std::filesystem::remove(dir_.path());
}

TEST_F(CheckpointerTest, FinishIsBoundedWhenAWriteHangs) {
  Gate gate;
  auto c = Make(/*every_steps=*/1, 0ms, [&] { gate.Wait(); });
  c->Tick(*core_);
  Round();
  c->Tick(*core_);
  gate.WaitEntered();
  const Status s = c->Finish(*core_, 50ms);
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  gate.Open();
  ASSERT_TRUE(c->WaitIdle(30s).ok());
}

}  // namespace
}  // namespace ringtrain::ps
