// Streamed rounds (ps/server_core.h): a sync push sent in chunks, each partition's round applied
// once every worker has pushed that partition, and each chunk answered with its partitions'
// next values instead of an acknowledgement.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ringtrain/ckpt/shard_state.h"
#include "ringtrain/ps/server_core.h"
#include "server_core_fixture.h"

namespace ringtrain::ps {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::HasSubstr;

// Three partitions (0: 4 elements, 1: 4, 2: 4) on one server, two workers, SGD at rate 0.5 from
// parameters 1.
class StreamedRoundsTest : public core_test::ServerCoreJoinTest {
 protected:
  void SetUp() override { Make(/*workers=*/2, /*size=*/12, /*partition_size=*/4); }

  // Worker `worker`'s chunk of its push at `clock`: gradient g on the listed partitions,
  // answered with their pull (pull_back).
  transport::Message Chunk(uint32_t worker, int64_t clock, std::vector<uint32_t> ids, float g,
                           uint32_t samples = 1) {
    transport::Message whole = Push(worker, clock, g, samples);
    transport::Message m;
    m.header = whole.header;
    m.header.clear_partitions();
    m.header.set_partial(true);
    m.header.set_pull_back(true);
    m.codec = whole.codec;
    for (int i = 0; i < whole.header.partitions_size(); ++i) {
      const uint32_t id = whole.header.partitions(i).id();
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
      *m.header.add_partitions() = whole.header.partitions(i);
      m.payloads.push_back(std::move(whole.payloads[static_cast<size_t>(i)]));
    }
    return m;
  }

  static std::vector<uint32_t> Ids(const Reply& r) {
    std::vector<uint32_t> ids;
    for (const proto::PartitionSlice& s : r.header.partitions()) ids.push_back(s.id());
    return ids;
  }
  static float First(const Reply& r, size_t i) {
    return static_cast<const float*>(r.payloads[i].data())[0];
  }
};

TEST_F(StreamedRoundsTest, APartitionIsAppliedOnceEveryWorkerPushedItAndEachChunkGetsItsPull) {
  transport::Message a0 = Chunk(0, 0, {0}, 1.0f);
  const uint64_t a0_id = a0.header.request_id();
  EXPECT_TRUE(Handle("a", std::move(a0)).empty()) << "parked until partition 0's round applies";
  EXPECT_EQ(core_->version(0), 0);
  EXPECT_TRUE(core_->mid_push());

  transport::Message b0 = Chunk(1, 0, {0}, 3.0f);
  const uint64_t b0_id = b0.header.request_id();
  std::vector<Reply> r = Handle("b", std::move(b0));
  // Partition 0 is done; 1 and 2 wait for the rest of the chunks; no clock has moved.
  EXPECT_EQ(core_->version(0), 1);
  EXPECT_EQ(core_->version(1), 0);
  EXPECT_EQ(core_->clock(0), 0);
  EXPECT_EQ(core_->clock(1), 0);
  ASSERT_EQ(r.size(), 2u) << "both chunks answered, no PUSH_ACK";
  for (const Reply& reply : r) {
    EXPECT_EQ(reply.header.kind(), proto::PULL_REPLY);
    EXPECT_THAT(Ids(reply), ElementsAre(0u));
    EXPECT_EQ(reply.header.partitions(0).version(), 1);
    EXPECT_FLOAT_EQ(First(reply, 0), 0.0f);  // 1 - 0.5 * (1 + 3) / 2
  }
  EXPECT_EQ(r[0].peer == "a" ? r[0].header.request_id() : r[1].header.request_id(), a0_id);
  EXPECT_EQ(r[0].peer == "b" ? r[0].header.request_id() : r[1].header.request_id(), b0_id);

  EXPECT_TRUE(Handle("a", Chunk(0, 0, {1, 2}, 1.0f)).empty());
  EXPECT_EQ(core_->clock(0), 1) << "its last chunk is in";
  r = Handle("b", Chunk(1, 0, {1, 2}, 1.0f));
  EXPECT_EQ(core_->clock(1), 1);
  EXPECT_FALSE(core_->mid_push());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(Ids(r[0]), ElementsAre(1u, 2u));
  EXPECT_EQ(core_->version(2), 1);
  EXPECT_THAT(core_->params(2), Each(FloatEq(0.5f)));
  EXPECT_EQ(core_->stats().push_chunks(), 4u);
  EXPECT_EQ(core_->stats().pushes_accepted(), 2u) << "a push counts once, when complete";
  EXPECT_EQ(core_->stats().messages_dropped(), 0u);
}

TEST_F(StreamedRoundsTest, AChunkSentAgainIsAnsweredAgainAndNotApplied) {
  Handle("a", Chunk(0, 0, {0}, 1.0f));
  EXPECT_TRUE(Handle("a", Chunk(0, 0, {0}, 1.0f)).empty()) << "its pull is parked again";
  EXPECT_EQ(core_->stats().pushes_duplicate(), 1u);
  Handle("a", Chunk(0, 0, {1, 2}, 1.0f));
  std::vector<Reply> r = Handle("b", Push(1, 0, 1.0f, 1));
  // The whole push's ACK, and the three pulls the first chunk (twice) and the second ask for.
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].header.kind(), proto::PUSH_ACK);
  EXPECT_THAT(core_->params(0), Each(FloatEq(0.5f))) << "the gradient counted once";
  // Once the push is complete, a chunk of it is a step already applied: its pull is answered.
  r = Handle("a", Chunk(0, 0, {0}, 1.0f));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::PULL_REPLY);
  EXPECT_EQ(r[0].header.partitions(0).version(), 1);
  EXPECT_EQ(core_->stats().pushes_duplicate(), 2u);
  EXPECT_THAT(core_->params(0), Each(FloatEq(0.5f)));
}

TEST_F(StreamedRoundsTest, ChunksThatOverlapOrDoNotFitTheModeAreRefusedAndChangeNothing) {
  Handle("a", Chunk(0, 0, {0}, 1.0f));
  std::vector<Reply> r = Handle("a", Chunk(0, 0, {0, 1}, 1.0f));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::ERROR);
  EXPECT_THAT(r[0].header.error(), HasSubstr("partition 0, which an earlier chunk"));
  // A whole push of the same clock would push it again too.
  r = Handle("a", Push(0, 0, 1.0f, 1));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::ERROR);
  EXPECT_THAT(r[0].header.error(), HasSubstr("is whole, but chunks of that push are in"));
  EXPECT_EQ(core_->stats().messages_dropped(), 2u);
  EXPECT_EQ(core_->clock(0), 0);

  Make(2, 12, 4, core_test::Mode{Consistency::kAsync});
  r = Handle("a", Chunk(0, 0, {0}, 1.0f));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::ERROR);
  EXPECT_THAT(r[0].header.error(), HasSubstr("only a dense model's sync rounds"));
  EXPECT_THAT(core_->params(0), Each(FloatEq(1.0f)));
}

TEST_F(StreamedRoundsTest, ASnapshotMidPushSaysWhichChunksAreInAndARestoredCopyCompletesIt) {
  Handle("a", Chunk(0, 0, {0, 2}, 1.0f));
  Handle("b", Push(1, 0, 3.0f, 1));
  ckpt::ShardState state = core_->Snapshot();
  EXPECT_THAT(state.workers[0].partial, ElementsAre(0u, 2u));
  EXPECT_TRUE(state.workers[1].partial.empty());

  // A copy (a replica's) continues: the chunks in are answered again, not applied again.
  Make(2, 12, 4);
  ASSERT_TRUE(core_->Restore(state).ok());
  EXPECT_TRUE(core_->mid_push());
  EXPECT_EQ(core_->version(0), 1);
  EXPECT_EQ(core_->version(1), 0);
  EXPECT_TRUE(Handle("a", Chunk(0, 0, {0, 2}, 1.0f)).size() == 1u);
  EXPECT_EQ(core_->stats().pushes_duplicate(), 1u);
  std::vector<Reply> r = Handle("a", Chunk(0, 0, {1}, 1.0f));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(Ids(r[0]), ElementsAre(1u));
  EXPECT_EQ(core_->clock(0), 1);
  for (uint32_t id : {0u, 1u, 2u}) {
    EXPECT_THAT(core_->params(id), Each(FloatEq(0.0f))) << "partition " << id;
  }

  // A state whose chunks do not fit the shard is refused, naming the worker.
  state.workers[0].partial = {0, 1, 2};  // all of them: the push would be complete
  Make(2, 12, 4);
  Status s = core_->Restore(state);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("worker 0's push in chunks"));
}

TEST_F(StreamedRoundsTest, AnExcludedWorkersChunksStayInTheirRounds) {
  Handle("b", Chunk(1, 0, {0}, 3.0f));
  std::vector<Reply> out;
  core_->Exclude(1, &out);
  EXPECT_TRUE(core_->mid_push()) << "its round has not moved on";
  Handle("a", Push(0, 0, 1.0f, 1));
  EXPECT_FALSE(core_->mid_push()) << "every partition has passed its clock";
  EXPECT_EQ(core_->version(2), 1);
  EXPECT_THAT(core_->params(0), Each(FloatEq(0.0f))) << "both gradients: 1 - 0.5 * 2";
  EXPECT_THAT(core_->params(1), Each(FloatEq(0.5f))) << "worker 0's only";
}

// Regression (review): a push below the worker's clock is a duplicate, answered before the rest
// of validation; with pull_back its partitions were not checked, and a partition not owned
// here crashed the server.
TEST_F(StreamedRoundsTest, ADuplicateAskingForAPullBackIsCheckedLikeAnyPush) {
  Handle("a", Push(0, 0, 1.0f, 1));
  Handle("b", Push(1, 0, 1.0f, 1));
  transport::Message forged = Chunk(0, 0, {0}, 1.0f);
  forged.header.mutable_partitions(0)->set_id(99);
  std::vector<Reply> r = Handle("a", std::move(forged));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::ERROR);
  EXPECT_THAT(r[0].header.error(), HasSubstr("partition 99 is not owned"));
  // Outside sync rounds a pull back is refused even for a step already applied.
  Make(2, 12, 4, core_test::Mode{Consistency::kAsync});
  Handle("a", Push(0, 0, 1.0f, 1));
  transport::Message old = Push(0, 0, 1.0f, 1);
  old.header.set_pull_back(true);
  r = Handle("a", std::move(old));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.kind(), proto::ERROR);
  EXPECT_THAT(r[0].header.error(), HasSubstr("only a dense model's sync rounds"));
  EXPECT_EQ(core_->stats().messages_dropped(), 1u);
}

// Regression (review): exclusion forgot which chunks had come, so a worker taken back before the
// round moved on had the chunk it sent again applied a second time.
TEST_F(StreamedRoundsTest, AWorkerTakenBackBeforeItsRoundMovedOnContinuesItsPush) {
  Handle("b", Chunk(1, 0, {0}, 3.0f));
  std::vector<Reply> out;
  core_->Exclude(1, &out);
  // Worker 0 has not pushed yet: nothing moved. Worker 1 comes back and sends its push again.
  EXPECT_TRUE(Handle("b", Chunk(1, 0, {0}, 3.0f)).empty());
  EXPECT_EQ(core_->stats().workers_returned(), 1u);
  EXPECT_EQ(core_->stats().pushes_duplicate(), 1u);
  Handle("b", Chunk(1, 0, {1, 2}, 3.0f));
  EXPECT_EQ(core_->clock(1), 1);
  Handle("a", Push(0, 0, 1.0f, 1));
  for (uint32_t id : {0u, 1u, 2u}) {
    EXPECT_THAT(core_->params(id), Each(FloatEq(0.0f))) << "partition " << id << ": 1 - 0.5 * 2";
  }
}

// Regression (review): a replica's copy excluding a worker released a held push asking for a
// pull back as its own request and parked its pull, which then refused the next state sync.
TEST_F(StreamedRoundsTest, AForwardedExclusionParksNoPullForTheHeldPushItReleases) {
  for (const bool forwarded : {false, true}) {
    SCOPED_TRACE(forwarded ? "forwarded" : "own");
    // Three workers: 0 rejoined a restored shard ahead of round 0, 1 pushed round 0, 2 is silent.
    Make(3, 12, 4);
    Handle("a", Join(0, 1));
    EXPECT_TRUE(Handle("a", Chunk(0, 1, {0, 1, 2}, 1.0f)).empty()) << "held";
    Handle("b", Push(1, 0, 1.0f, 1));
    ASSERT_TRUE(core_->has_held_pushes());
    std::vector<Reply> out;
    if (forwarded) {
      core_->ExcludeForwarded(2, &out);
    } else {
      core_->Exclude(2, &out);
    }
    EXPECT_FALSE(core_->has_held_pushes());
    EXPECT_EQ(core_->clock(0), 2);
    EXPECT_EQ(core_->stats().pulls_parked(), forwarded ? 0u : 1u);
    if (forwarded) {
      ASSERT_EQ(out.size(), 1u);
      EXPECT_EQ(out[0].header.kind(), proto::PUSH_ACK);
    }
  }
}

TEST_F(StreamedRoundsTest, ChunksForARoundTheShardHasNotReachedAreHeldAndAppliedInOrder) {
  // A restored shard at round 0; worker 0 rejoins at clock 1 and pushes it in chunks.
  Handle("a", Join(0, 1));
  EXPECT_TRUE(Handle("a", Chunk(0, 1, {0}, 1.0f)).empty());
  EXPECT_TRUE(Handle("a", Chunk(0, 1, {1, 2}, 1.0f)).empty());
  EXPECT_EQ(core_->stats().pushes_held(), 2u);
  EXPECT_TRUE(core_->has_held_pushes());
  // Worker 1's push completes round 0; the held chunks are then applied to round 1.
  Handle("b", Push(1, 0, 2.0f, 1));
  EXPECT_FALSE(core_->has_held_pushes());
  EXPECT_EQ(core_->clock(0), 2);
  EXPECT_THAT(core_->params(0), Each(FloatEq(0.0f)));  // round 0: worker 1's gradient alone
  std::vector<Reply> r = Handle("b", Push(1, 1, 1.0f, 1));
  // The ACK and both held chunks' pulls at round 2.
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].header.kind(), proto::PULL_REPLY);
  EXPECT_EQ(r[1].header.partitions(0).version(), 2);
  EXPECT_THAT(core_->params(1), Each(FloatEq(-0.5f)));
  EXPECT_EQ(core_->stats().messages_dropped(), 0u);
}

// Regression (review): a push held for a round the shard has not reached, sent again after a
// broken connection, was refused (ERROR "while its previous one is held"), and its chunks sent
// again overflowed the held bound; each now takes the held one's place and is answered, once,
// on the connection the worker has now, under the request id it was sent with (a resend keeps
// it).
TEST_F(StreamedRoundsTest, AHeldPushSentAgainReplacesTheHeldOneAndIsAnsweredOnTheNewConnection) {
  for (const bool chunks : {false, true}) {
    SCOPED_TRACE(chunks ? "chunks" : "whole push");
    Make(2, 12, 4);
    Handle("a", Join(0, 1));
    std::vector<uint64_t> ids;  // the request ids, as first sent
    auto send = [&](const std::string& peer) {
      std::vector<transport::Message> msgs;
      if (chunks) {
        msgs.push_back(Chunk(0, 1, {0}, 1.0f));
        msgs.push_back(Chunk(0, 1, {1, 2}, 1.0f));
      } else {
        msgs.push_back(Push(0, 1, 1.0f, 1));
      }
      std::vector<Reply> out;
      for (size_t i = 0; i < msgs.size(); ++i) {
        if (ids.size() < msgs.size()) {
          ids.push_back(msgs[i].header.request_id());
        } else {
          msgs[i].header.set_request_id(ids[i]);  // sent again as it was
        }
        for (Reply& r : Handle(peer, std::move(msgs[i]))) out.push_back(std::move(r));
      }
      return out;
    };
    EXPECT_TRUE(send("a").empty()) << "held";
    EXPECT_TRUE(send("a2").empty()) << "held again, not refused";
    EXPECT_EQ(core_->stats().pushes_held(), chunks ? 2u : 1u);
    EXPECT_EQ(core_->stats().pushes_duplicate(), chunks ? 2u : 1u);
    // Worker 1 completes round 0, then round 1 with the held push.
    std::vector<Reply> r = Handle("b", Push(1, 0, 2.0f, 1));
    for (Reply& more : Handle("b", Push(1, 1, 1.0f, 1))) r.push_back(std::move(more));
    EXPECT_FALSE(core_->has_held_pushes());
    EXPECT_EQ(core_->clock(0), 2);
    std::vector<uint64_t> answered;
    for (const Reply& reply : r) {
      EXPECT_NE(reply.peer, "a") << "answered on the broken connection";
      EXPECT_NE(reply.header.kind(), proto::ERROR) << reply.header.error();
      if (reply.peer == "a2") answered.push_back(reply.header.request_id());
    }
    EXPECT_THAT(answered, ::testing::UnorderedElementsAreArray(ids))
        << "each held push or chunk answered once, under its request id";
    // Applied once: round 0 worker 1's 2 alone, round 1 the mean of 1 and 1.
    EXPECT_THAT(core_->params(0), Each(FloatEq(-0.5f)));
    EXPECT_EQ(core_->stats().messages_dropped(), 0u);
  }
}

// A chunk that shares partitions with a held chunk without being it (only a client that does not
// send chunks again as it first did) is refused, and the held chunks stay as they were: applying
// both would apply a partition twice, and taking its place would lose the other partitions.
TEST_F(StreamedRoundsTest, AChunkOverlappingAHeldOneIsRefusedAndTheHeldOnesStay) {
  Handle("a", Join(0, 1));
  EXPECT_TRUE(Handle("a", Chunk(0, 1, {0, 1}, 1.0f)).empty()) << "held";
  for (const std::vector<uint32_t>& ids :
       {std::vector<uint32_t>{0}, std::vector<uint32_t>{1, 2}, std::vector<uint32_t>{0, 1, 2}}) {
    std::vector<Reply> r = Handle("a", Chunk(0, 1, ids, 5.0f));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].header.kind(), proto::ERROR);
    EXPECT_THAT(r[0].header.error(), HasSubstr("sharing partitions with a held chunk"));
  }
  EXPECT_EQ(core_->stats().pushes_held(), 1u);
  EXPECT_TRUE(Handle("a", Chunk(0, 1, {2}, 1.0f)).empty()) << "the rest of the push, held";
  Handle("b", Push(1, 0, 2.0f, 1));
  Handle("b", Push(1, 1, 1.0f, 1));
  EXPECT_FALSE(core_->has_held_pushes());
  EXPECT_EQ(core_->clock(0), 2);
  for (uint32_t id : {0u, 1u, 2u}) {
    EXPECT_THAT(core_->params(id), Each(FloatEq(-0.5f))) << "partition " << id << ": applied once";
  }
}

}  // namespace
}  // namespace ringtrain::ps
