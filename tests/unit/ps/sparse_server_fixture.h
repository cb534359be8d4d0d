// SparseServerTest: a ServerCore with one dense tensor and one sparse table, and the requests
// the sparse tests send it (ps/sparse_shard.h).
#ifndef RINGTRAIN_TESTS_UNIT_PS_SPARSE_SERVER_FIXTURE_H_
#define RINGTRAIN_TESTS_UNIT_PS_SPARSE_SERVER_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "request_header.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ring/hash_ring.h"

namespace ringtrain::ps::sparse_test {

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
    workers_ = workers;
    consistency_ = consistency;
    index_ = index;
    admit_after_ = admit_after;
    expire_after_ = expire_after;
    core_ = NewCore();
  }

  // Another core made as Make made core_, in its initial state.
  std::unique_ptr<ServerCore> NewCore() const {
    ServerCoreConfig c;
    c.job = kJob;
    c.server_index = index_;
    c.num_workers = workers_;
    c.table = table_;
    c.optimizer = optim::MakeOptimizer(optimizer_).value();
    c.consistency = consistency_;
    c.sparse_init = {SparseInit{kScale}};
    c.sparse_seed = kSeed;
    c.sparse_admit_after = admit_after_;
    c.sparse_expire_after = expire_after_;
    return ServerCore::Make(std::move(c), std::vector<float>{0.0f}).value();
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
    proto::Header h = ringtrain::testing::RequestHeader(kind, kJob, worker, ++next_id_, clock,
                                                        table_->fingerprint());
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
    return HandleOn(core_.get(), std::move(m), peer);
  }
  static std::vector<Reply> HandleOn(ServerCore* core, transport::Message m,
                                     const std::string& peer = "w") {
    std::vector<Reply> out;
    core->Handle(peer, std::move(m), &out);
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
  optim::OptimizerConfig optimizer_{optim::OptimizerKind::kSgd, 0, 0};  // set before Make
  int workers_ = 1;
  Consistency consistency_ = Consistency::kSync;
  int index_ = 0;
  uint32_t admit_after_ = 1;
  int64_t expire_after_ = 0;
  std::unique_ptr<ServerCore> core_;
  uint64_t next_id_ = 0;
};

}  // namespace ringtrain::ps::sparse_test

#endif  // RINGTRAIN_TESTS_UNIT_PS_SPARSE_SERVER_FIXTURE_H_
