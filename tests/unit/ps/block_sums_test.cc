// ServerCore in feature-wise sharding: rounds that sum the blocks' gradients, pushes that list
// only some partitions, no exclusion, and the sums of partial margins (MARGINS).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "server_core_fixture.h"

namespace ringtrain::ps::core_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class BlockSumsTest : public ServerCoreTest {
 protected:
  // 2 workers, 6 parameters in partitions [0, 4) and [4, 6), SGD, lr 0.5, initial 1.
  void SetUp() override {
    Mode mode;
    mode.block_sums = true;
    mode.margin_cols = 2;
    Make(2, 6, 4, mode);
  }

  // `m` listing only the partitions `ids` (a block's push).
  static transport::Message Only(transport::Message m, const std::vector<uint32_t>& ids) {
    proto::Header h = m.header;
    h.clear_partitions();
    std::vector<zmq::message_t> payloads;
    for (int i = 0; i < m.header.partitions_size(); ++i) {
      if (std::find(ids.begin(), ids.end(), m.header.partitions(i).id()) == ids.end()) continue;
      *h.add_partitions() = m.header.partitions(i);
      payloads.push_back(std::move(m.payloads[static_cast<size_t>(i)]));
    }
    m.header = h;
    m.payloads = std::move(payloads);
    return m;
  }

  transport::Message Margins(uint32_t worker, int64_t step, uint32_t rows,
                             const std::vector<float>& v, uint32_t cols = 2) {
    transport::Message m;
    m.header = Request(proto::MARGINS, worker, step);
    m.header.clear_partitions();
    m.header.set_margin_rows(rows);
    m.header.set_margin_cols(cols);
    m.payloads.emplace_back(v.data(), v.size() * sizeof(float));
    return m;
  }

  static std::vector<float> Floats(const Reply& r) {
    const auto* f = static_cast<const float*>(r.payloads.at(0).data());
    return {f, f + r.payloads.at(0).size() / sizeof(float)};
  }

  std::vector<float> Params(uint32_t id) const {
    return {core_->params(id).begin(), core_->params(id).end()};
  }
};

TEST_F(BlockSumsTest, ARoundSumsTheBlocksGradientsInsteadOfAveragingThem) {
  auto a = Handle("w0", Only(Push(0, 0, 1.0f, 8), {0}));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].header.kind(), proto::PUSH_ACK) << a[0].header.error();
  EXPECT_EQ(core_->version(0), 0);
  auto b = Handle("w1", PushOf(
                            1, 0, [](size_t) { return 3.0f; }, 8));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].header.kind(), proto::PUSH_ACK) << b[0].header.error();
  // Partition 0: 1 - 0.5 * (1 + 3); partition 1 had only worker 1's gradient: 1 - 0.5 * 3.
  EXPECT_THAT(Params(0), ElementsAre(-1, -1, -1, -1));
  EXPECT_THAT(Params(1), ElementsAre(-0.5, -0.5));
  EXPECT_EQ(core_->version(0), 1);
  EXPECT_EQ(core_->version(1), 1);
}

TEST_F(BlockSumsTest, APushThatTouchesNoPartitionHereStillMovesTheClock) {
  auto a = Handle("w0", Only(Push(0, 0, 1.0f, 8), {}));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].header.kind(), proto::PUSH_ACK) << a[0].header.error();
  EXPECT_EQ(core_->clock(0), 1);
  Handle("w1", Only(Push(1, 0, 2.0f, 8), {1}));
  EXPECT_THAT(Params(0), ElementsAre(1, 1, 1, 1));
  EXPECT_THAT(Params(1), ElementsAre(0, 0));
  EXPECT_EQ(core_->version(0), 1);

  // Outside feature-wise sharding a push covers every partition.
  Make(2, 6, 4);
  auto refused = Handle("w0", Only(Push(0, 0, 1.0f, 8), {}));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].header.kind(), proto::ERROR);
  EXPECT_THAT(refused[0].header.error(), HasSubstr("lists no partitions"));
  auto partial = Handle("w0", Only(Push(0, 0, 1.0f, 8), {0}));
  EXPECT_THAT(partial.at(0).header.error(), HasSubstr("it must cover all 2"));
}

// A round in which no push lists a partition applies a zero gradient to it, not what the
// round before summed (the accumulator is not zeroed between rounds, it is overwritten by a
// round's first sum), and a checkpoint of such a round in progress holds zeros.
TEST_F(BlockSumsTest, APartitionNoPushListsGetsNoLeftoverOfTheRoundBefore) {
  Handle("w0", Push(0, 0, 1.0f, 8));
  Handle("w1", Push(1, 0, 1.0f, 8));
  EXPECT_THAT(Params(0), ElementsAre(0, 0, 0, 0));  // 1 - 0.5 * (1 + 1)
  EXPECT_THAT(Params(1), ElementsAre(0, 0));
  Handle("w0", Only(Push(0, 1, 1.0f, 8), {1}));
  ckpt::ShardState mid;
  core_->SnapshotInto(&mid);
  ASSERT_EQ(mid.partitions.size(), 2u);
  EXPECT_EQ(mid.partitions[0].round_pushes, 1u);
  EXPECT_THAT(mid.partitions[0].accum, ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(mid.partitions[1].accum, ElementsAre(1, 1));
  Handle("w1", Only(Push(1, 1, 2.0f, 8), {1}));
  EXPECT_EQ(core_->version(0), 2);
  EXPECT_THAT(Params(0), ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(Params(1), ElementsAre(-1.5, -1.5));  // 0 - 0.5 * (1 + 2)
}

TEST_F(BlockSumsTest, NoWorkerIsExcluded) {
  Handle("w0", Push(0, 0, 1.0f, 8));
  std::vector<Reply> out;
  core_->Exclude(1, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(core_->excluded(1));
  EXPECT_EQ(core_->version(0), 0);
  EXPECT_EQ(core_->stats().workers_excluded(), 0u);
  EXPECT_THAT(core_->WorkersWaitedFor(), ElementsAre(1));
}

TEST_F(BlockSumsTest, MarginsAreAnsweredWithTheirSumOnceEveryWorkersAreIn) {
  EXPECT_TRUE(Handle("w0", Margins(0, 0, 1, {1, 2})).empty());
  EXPECT_THAT(core_->WorkersWaitedFor(), ElementsAre(1));
  auto out = Handle("w1", Margins(1, 0, 1, {3, 4}));
  ASSERT_EQ(out.size(), 2u);
  for (const Reply& r : out) {
    EXPECT_EQ(r.header.kind(), proto::MARGINS_REPLY) << r.header.error();
    EXPECT_EQ(r.header.clock(), 0);
    EXPECT_EQ(r.header.margin_rows(), 1u);
    EXPECT_EQ(r.header.margin_cols(), 2u);
    EXPECT_THAT(Floats(r), ElementsAre(4, 6));
  }
  EXPECT_EQ(out[0].peer, "w0");
  EXPECT_EQ(out[1].peer, "w1");
  EXPECT_EQ(core_->stats().margin_rounds(), 1u);
  EXPECT_TRUE(core_->WorkersWaitedFor().empty());
  // Sent again (a worker that rejoined): answered at once from the kept round.
  auto again = Handle("w0b", Margins(0, 0, 1, {9, 9}));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_THAT(Floats(again[0]), ElementsAre(4, 6));
  EXPECT_EQ(core_->stats().margins_repeated(), 1u);
}

TEST_F(BlockSumsTest, MarginsThatDoNotFitAreRefusedAndCounted) {
  auto cols = Handle("w0", Margins(0, 0, 1, {1, 2, 3}, 3));
  ASSERT_EQ(cols.size(), 1u);
  EXPECT_EQ(cols[0].header.kind(), proto::ERROR);
  EXPECT_THAT(cols[0].header.error(), HasSubstr("3 columns; the model has 2 classes"));
  transport::Message wrong_layout = Margins(0, 0, 1, {1, 2});
  wrong_layout.header.set_layout_fingerprint(1);
  EXPECT_THAT(Handle("w0", std::move(wrong_layout)).at(0).header.error(), HasSubstr("fingerprint"));
  Handle("w0", Margins(0, 3, 1, {1, 2}));
  EXPECT_THAT(Handle("w1", Margins(1, 4, 1, {1, 2})).at(0).header.error(),
              HasSubstr("while step 3 is being summed"));
  EXPECT_EQ(core_->stats().messages_dropped(), 3u);

  // A server that does not sum margins refuses them.
  Mode mode;
  mode.block_sums = true;
  Make(2, 6, 4, mode);
  auto refused = Handle("w0", Margins(0, 0, 1, {1, 2}));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_THAT(refused[0].header.error(), HasSubstr("does not sum margins"));
}

TEST_F(BlockSumsTest, AWorkerThatFinishesCompletesTheRoundItNoLongerHolds) {
  Handle("w0", Margins(0, 0, 1, {1, 2}));
  auto out = Handle("w1", Done(1));
  ASSERT_EQ(out.size(), 2u);
  // Worker 0's sum (to w0), then worker 1's acknowledgement.
  EXPECT_EQ(out[0].header.kind(), proto::MARGINS_REPLY);
  EXPECT_EQ(out[0].peer, "w0");
  EXPECT_THAT(Floats(out[0]), ElementsAre(1, 2));
  EXPECT_EQ(out[1].header.kind(), proto::DONE_ACK);
}

TEST(BlockSumsConfigTest, FeatureWiseShardingNeedsSync) {
  auto make = [](Consistency consistency, bool block_sums, int margin_cols) {
    ServerCoreConfig c;
    c.job = kJob;
    c.table = OneServerTable(6, 4);
    c.optimizer = optim::MakeOptimizer({optim::OptimizerKind::kSgd, 0, 0}).value();
    c.consistency = consistency;
    c.block_sums = block_sums;
    c.margin_cols = margin_cols;
    std::vector<float> params(6, 0.0f);
    return ServerCore::Make(std::move(c), params).status();
  };
  EXPECT_TRUE(make(Consistency::kSync, true, 3).ok());
  EXPECT_THAT(make(Consistency::kAsync, true, 0).message(), HasSubstr("needs sync"));
  EXPECT_THAT(make(Consistency::kSync, false, 3).message(), HasSubstr("only with block sums"));
}

}  // namespace
}  // namespace ringtrain::ps::core_test
