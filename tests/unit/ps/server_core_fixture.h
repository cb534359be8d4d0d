// The fixture of the ServerCore tests: one server owning every partition of a small model,
// and requests built the way a worker builds them (sync rounds, pushes of constant or computed
// gradients in any codec, pulls, WORKER_DONE, JOIN).
#ifndef RINGTRAIN_TESTS_UNIT_PS_SERVER_CORE_FIXTURE_H_
#define RINGTRAIN_TESTS_UNIT_PS_SERVER_CORE_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "request_header.h"
#include "ringtrain/compress/codec.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ring/hash_ring.h"

namespace ringtrain::ps::core_test {

inline constexpr char kJob[] = "job";

inline std::shared_ptr<const ring::PartitionTable> OneServerTable(int64_t size,
                                                                  int64_t partition_size) {
  auto r = ring::HashRing::Make({"ps-0"});
  auto t = ring::PartitionTable::Build({{"w", 0, size}}, partition_size, *r);
  return std::make_shared<const ring::PartitionTable>(std::move(t).value());
}

struct Mode {
  Consistency consistency = Consistency::kSync;
  int64_t staleness = 0;
  bool staleness_aware_lr = false;
  compress::CodecType codec = compress::CodecType::kNone;
  bool block_sums = false;  // feature-wise sharding
  int margin_cols = 0;
  optim::OptimizerConfig optimizer = {optim::OptimizerKind::kSgd, 0, 0};
};

class ServerCoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(/*workers=*/2, /*size=*/6, /*partition_size=*/4); }

  void Make(int workers, int64_t size, int64_t partition_size, Mode mode = {}) {
    table_ = OneServerTable(size, partition_size);
    mode_ = mode;
    ServerCoreConfig c;
    c.job = kJob;
    c.server_index = 0;
    c.num_workers = workers;
    c.table = table_;
    c.optimizer = optim::MakeOptimizer(mode.optimizer).value();
    c.consistency = mode.consistency;
    c.staleness = mode.staleness;
    c.staleness_aware_lr = mode.staleness_aware_lr;
    c.codec = mode.codec;
    c.block_sums = mode.block_sums;
    c.margin_cols = mode.margin_cols;
    initial_.assign(static_cast<size_t>(size), 1.0f);
    core_ = ServerCore::Make(std::move(c), initial_).value();
  }

  proto::Header Request(proto::MessageKind kind, uint32_t worker, int64_t clock) {
    proto::Header h = ringtrain::testing::RequestHeader(kind, kJob, worker, ++next_id_, clock,
                                                        table_->fingerprint());
    for (const ring::Partition& p : table_->partitions()) {
      proto::PartitionSlice* s = h.add_partitions();
      s->set_id(p.id);
      s->set_num_elements(static_cast<uint64_t>(p.size));
      if (kind == proto::PUSH) s->set_payload_bytes(static_cast<uint64_t>(p.size) * 4);
    }
    return h;
  }

  static constexpr int64_t kVersionIsClock = -1;

  // A push of the gradient g(element index within the partition) on every partition,
  // computed from parameters at `version` (default: the clock, as in sync mode), encoded with
  // `codec` (ratio 0.5 for topk, block 2 for int8 and onebit).
  transport::Message PushOf(uint32_t worker, int64_t clock, const std::function<float(size_t)>& g,
                            uint32_t samples, float lr = 0.5f, int64_t version = kVersionIsClock,
                            compress::CodecType codec = compress::CodecType::kNone) {
    transport::Message m;
    m.header = Request(proto::PUSH, worker, clock);
    m.header.set_num_samples(samples);
    m.header.set_learning_rate(lr);
    m.header.set_codec(transport::ToProto(codec));
    compress::CodecOptions o{codec, 0.5, 2};
    if (codec == compress::CodecType::kInt8 || codec == compress::CodecType::kOneBit) {
      m.header.set_codec_block(2);
    }
    m.codec = compress::SpecOf(o);  // what DecodeMessage parses from the header
    for (int i = 0; i < m.header.partitions_size(); ++i) {
      const ring::Partition& p = table_->partition(m.header.partitions(i).id());
      m.header.mutable_partitions(i)->set_version(version == kVersionIsClock ? clock : version);
      std::vector<float> v(static_cast<size_t>(p.size));
      for (size_t k = 0; k < v.size(); ++k) v[k] = g(k);
      std::vector<uint8_t> bytes;
      EXPECT_TRUE(compress::Encode(o, v, {}, &bytes).ok());
      m.header.mutable_partitions(i)->set_payload_bytes(bytes.size());
      m.payloads.emplace_back(bytes.data(), bytes.size());
    }
    return m;
  }

  // A dense push of a constant gradient `g` on every element.
  transport::Message Push(uint32_t worker, int64_t clock, float g, uint32_t samples,
                          float lr = 0.5f, int64_t version = kVersionIsClock) {
    return PushOf(
        worker, clock, [g](size_t) { return g; }, samples, lr, version);
  }

  transport::Message Done(uint32_t worker) {
    transport::Message m;
    m.header = Request(proto::WORKER_DONE, worker, 0);
    return m;
  }

  transport::Message Pull(uint32_t worker, int64_t min_version) {
    transport::Message m;
    m.header = Request(proto::PULL, worker, min_version);
    return m;
  }

  std::vector<Reply> Handle(const std::string& peer, transport::Message m) {
    std::vector<Reply> out;
    core_->Handle(peer, std::move(m), &out);
    return out;
  }

  Mode mode_;
  std::shared_ptr<const ring::PartitionTable> table_;
  std::vector<float> initial_;
  std::unique_ptr<ServerCore> core_;
  uint64_t next_id_ = 0;
};

// JOIN: where a (re)starting worker stands, and moving its clock up on a shard that is behind.
class ServerCoreJoinTest : public ServerCoreTest {
 protected:
  transport::Message Join(uint32_t worker, int64_t clock) {
    transport::Message m;
    m.header = Request(proto::JOIN, worker, clock);
    m.header.clear_partitions();
    return m;
  }
};

}  // namespace ringtrain::ps::core_test

#endif  // RINGTRAIN_TESTS_UNIT_PS_SERVER_CORE_FIXTURE_H_
