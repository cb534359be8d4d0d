#include "ringtrain/ckpt/async_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>

#include "ckpt_test_util.h"
#include "write_gate.h"

namespace ringtrain::ckpt {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::SameState;
using testing::ScratchDir;
using testing::TestIdentity;
using testing::TestState;
using namespace std::chrono_literals;

using Gate = testing::WriteGate;

class AsyncWriterTest : public ::testing::Test {
 protected:
  std::unique_ptr<AsyncWriter> Start(std::function<void()> before_write = {}) {
    auto store = Store::Open({dir_.path(), 2, nullptr});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto w = AsyncWriter::Start(std::move(store).value(), id_, std::move(before_write));
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return std::move(w).value();
  }

  StatusOr<LoadedCheckpoint> Latest() {
    auto store = Store::Open({dir_.path(), 2, nullptr});
    EXPECT_TRUE(store.ok());
    return (*store)->LoadLatest(id_);
  }

  ScratchDir dir_;
  ShardIdentity id_ = TestIdentity();
};

TEST_F(AsyncWriterTest, WritesInTheBackground) {
  auto writer = Start();
  ASSERT_TRUE(writer->Submit(TestState(id_, 7), /*final=*/false).ok());
  ASSERT_TRUE(writer->WaitIdle(30s).ok());
  const WriterStats s = writer->stats();
  EXPECT_EQ(s.submitted, 1u);
  EXPECT_EQ(s.written, 1u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.last.step, 7);
  EXPECT_GT(s.last_bytes, 0u);
  EXPECT_TRUE(s.last_error.ok());
  StatusOr<LoadedCheckpoint> back = Latest();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(SameState(back->state, TestState(id_, 7)));
}

TEST_F(AsyncWriterTest, AtMostOneWriteInFlightTheRestIsRefusedAndCounted) {
  Gate gate;
  auto writer = Start([&] { gate.Wait(); });
  ASSERT_TRUE(writer->Submit(TestState(id_, 1), false).ok());
  gate.WaitEntered();  // the first write is in flight
  EXPECT_TRUE(writer->busy());
  const Status second = writer->Submit(TestState(id_, 2), false);
  EXPECT_EQ(second.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.message(), HasSubstr("still in flight"));
  EXPECT_FALSE(writer->Submit(TestState(id_, 3), false).ok());
  EXPECT_EQ(writer->WaitIdle(20ms).code(), StatusCode::kDeadlineExceeded);
  gate.Open();
  ASSERT_TRUE(writer->WaitIdle(30s).ok());
  EXPECT_FALSE(writer->busy());
  const WriterStats s = writer->stats();
  EXPECT_EQ(s.submitted, 1u);
  EXPECT_EQ(s.rejected_busy, 2u);
  EXPECT_EQ(s.written, 1u);
  EXPECT_EQ(s.last.step, 1);
  // Idle again: the next one is taken.
  ASSERT_TRUE(writer->Submit(TestState(id_, 4), true).ok());
  ASSERT_TRUE(writer->WaitIdle(30s).ok());
  EXPECT_EQ(writer->stats().written, 2u);
  EXPECT_TRUE(writer->stats().last_final);
}

TEST_F(AsyncWriterTest, FailedWriteIsCountedAndTheNextOneTriesAgain) {
  auto writer = Start();
  fs::remove_all(dir_.path());
  testing::WriteAll(dir_.path(), "in the way");
  ASSERT_TRUE(writer->Submit(TestState(id_, 1), false).ok());
  ASSERT_TRUE(writer->WaitIdle(30s).ok());
  WriterStats s = writer->stats();
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.last_error.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.last_error.message(), HasSubstr(dir_.path()));

  fs::remove(dir_.path());
  fs::create_directories(dir_.path());
  ASSERT_TRUE(writer->Submit(TestState(id_, 2), false).ok());
  ASSERT_TRUE(writer->WaitIdle(30s).ok());
  s = writer->stats();
  EXPECT_EQ(s.written, 1u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.last.step, 2);
}

TEST_F(AsyncWriterTest, StateThatDoesNotFitIsRefusedAtOnce) {
  auto writer = Start();
  ShardState bad = TestState(id_, 1);
  bad.partitions.pop_back();
  EXPECT_EQ(writer->Submit(std::move(bad), false).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(writer->stats().submitted, 0u);
  EXPECT_FALSE(writer->busy());
}

TEST_F(AsyncWriterTest, CloseLetsTheWriteFinishAndRefusesMore) {
  auto writer = Start();
  ASSERT_TRUE(writer->Submit(TestState(id_, 3), false).ok());
  ASSERT_TRUE(writer->Close(30s).ok());
  EXPECT_EQ(writer->stats().written, 1u);
  EXPECT_EQ(writer->Submit(TestState(id_, 4), false).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(writer->Close(1s).ok());  // idempotent
}

TEST_F(AsyncWriterTest, CloseIsBoundedWhenAWriteHangs) {
  Gate gate;
  auto writer = Start([&] { gate.Wait(); });
  ASSERT_TRUE(writer->Submit(TestState(id_, 5), false).ok());
  gate.WaitEntered();
  const auto start = std::chrono::steady_clock::now();
  const Status closed = writer->Close(50ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(closed.code(), StatusCode::kDeadlineExceeded);
  // The detached thread still finishes its write.
  gate.Open();
  ASSERT_TRUE(writer->WaitIdle(30s).ok());
  EXPECT_EQ(writer->stats().written, 1u);
}

// Copies `from` into `to`'s buffers (as ServerCore::SnapshotInto does). REQUIRES: same shapes.
void OverwriteInPlace(const ShardState& from, ShardState* to) {
  ASSERT_EQ(from.partitions.size(), to->partitions.size());
  for (size_t i = 0; i < from.partitions.size(); ++i) {
    const PartitionSnapshot& f = from.partitions[i];
    PartitionSnapshot& t = to->partitions[i];
    const float* before = t.params.data();
    t.id = f.id;
    t.version = f.version;
    t.optimizer_steps = f.optimizer_steps;
    t.params.assign(f.params.begin(), f.params.end());
    t.optimizer_state.assign(f.optimizer_state.begin(), f.optimizer_state.end());
    t.accum.assign(f.accum.begin(), f.accum.end());
    t.round_pushes = f.round_pushes;
    t.round_samples = f.round_samples;
    t.round_learning_rate = f.round_learning_rate;
    ASSERT_EQ(t.params.data(), before) << "the buffer was reused";
  }
  to->workers = from.workers;
}

TEST_F(AsyncWriterTest, TheFirstSpareIsShapedAfterTheIdentity) {
  auto writer = Start();
  std::optional<ShardState> spare = writer->TakeSpare();
  ASSERT_TRUE(spare.has_value());
  ASSERT_EQ(spare->partitions.size(), id_.partitions.size());
  for (size_t i = 0; i < id_.partitions.size(); ++i) {
    const PartitionSnapshot& p = spare->partitions[i];
    EXPECT_EQ(p.id, id_.partitions[i].id);
    EXPECT_EQ(p.params.size(), static_cast<size_t>(id_.partitions[i].size));
    EXPECT_EQ(p.optimizer_state.size(), p.params.size() * static_cast<size_t>(id_.state_slots));
    EXPECT_TRUE(p.accum.empty());
  }
  EXPECT_EQ(spare->workers.size(), static_cast<size_t>(id_.num_workers));
  EXPECT_FALSE(writer->TakeSpare().has_value()) << "one spare, taken";
}

// The written state comes back as the spare, buffers and all, only once its write is done.
TEST_F(AsyncWriterTest, TheWrittenStateComesBackOnlyAfterItsWrite) {
  Gate gate;
  auto writer = Start([&] { gate.Wait(); });
  std::optional<ShardState> state = writer->TakeSpare();
  ASSERT_TRUE(state.has_value());
  OverwriteInPlace(TestState(id_, 1), &*state);
  const float* buffer = state->partitions[0].params.data();
  ASSERT_TRUE(writer->Submit(std::move(*state), false).ok());
  gate.WaitEntered();
  EXPECT_FALSE(writer->TakeSpare().has_value()) << "its only state is being written";
  gate.Open();
  ASSERT_TRUE(writer->WaitIdle(30s).ok());

  std::optional<ShardState> back = writer->TakeSpare();
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->partitions[0].params.data(), buffer);
  EXPECT_TRUE(SameState(*back, TestState(id_, 1)));
  OverwriteInPlace(TestState(id_, 2, 5.0f), &*back);  // reused for the next checkpoint
  ASSERT_TRUE(writer->Submit(std::move(*back), false).ok());
  ASSERT_TRUE(writer->WaitIdle(30s).ok());
  StatusOr<LoadedCheckpoint> latest = Latest();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_TRUE(SameState(latest->state, TestState(id_, 2, 5.0f)));
  EXPECT_EQ(writer->stats().written, 2u);
}

// A caller that writes into the spare while another state is written never touches that state
// (ThreadSanitizer watches this test): the file holds what was submitted. The spare not taken
// for the write is dropped once the written state replaces it.
TEST_F(AsyncWriterTest, ScribblingOnTheSpareDuringAWriteLeavesTheWriteAlone) {
  Gate gate;
  auto writer = Start([&] { gate.Wait(); });
  ShardState fresh = TestState(id_, 3);
  const float* written_buffer = fresh.partitions[0].params.data();
  ASSERT_TRUE(writer->Submit(std::move(fresh), false).ok());
  gate.WaitEntered();
  std::optional<ShardState> spare = writer->TakeSpare();  // the prepared one
  ASSERT_TRUE(spare.has_value());
  ASSERT_NE(spare->partitions[0].params.data(), written_buffer);
  gate.Open();
  for (int i = 0; i < 50; ++i) OverwriteInPlace(TestState(id_, 9, static_cast<float>(i)), &*spare);
  ASSERT_TRUE(writer->WaitIdle(30s).ok());
  StatusOr<LoadedCheckpoint> latest = Latest();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_TRUE(SameState(latest->state, TestState(id_, 3)));
  std::optional<ShardState> back = writer->TakeSpare();
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->partitions[0].params.data(), written_buffer);
}

TEST_F(AsyncWriterTest, BadArguments) {
  EXPECT_EQ(AsyncWriter::Start(nullptr, id_).status().code(), StatusCode::kInvalidArgument);
  ShardIdentity bad = id_;
  bad.server_index = 5;
  auto store = Store::Open({dir_.path(), 1, nullptr});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(AsyncWriter::Start(std::move(store).value(), bad).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ringtrain::ckpt
