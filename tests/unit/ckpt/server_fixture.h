// Helpers of the server checkpoint tests: a parameter server's core over a two-server ring, and
// the requests its workers send, built as the wire would deliver them.
#ifndef RINGTRAIN_TESTS_UNIT_CKPT_SERVER_FIXTURE_H_
#define RINGTRAIN_TESTS_UNIT_CKPT_SERVER_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "request_header.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/ring/partition_table.h"
#include "ringtrain/transport/message.h"

namespace ringtrain::ps::testing {

inline constexpr char kJob[] = "ckpt-job";
inline constexpr uint64_t kModelFingerprint = 0xabcdef;

// 40 parameters of one tensor in partitions of 4, placed on "ps-0" and "ps-1".
inline std::shared_ptr<const ring::PartitionTable> TwoServerTable() {
  auto r = ring::HashRing::Make({"ps-0", "ps-1"});
  auto t = ring::PartitionTable::Build({{"w", 0, 28}, {"b", 28, 12}}, 4, *r);
  return std::make_shared<const ring::PartitionTable>(std::move(t).value());
}

struct CoreSpec {
  int server = 1;
  int workers = 2;
  Consistency consistency = Consistency::kSync;
  optim::OptimizerConfig optimizer{optim::OptimizerKind::kMomentum, 0.9, 0.0};
};

class Workers {
 public:
  explicit Workers(std::shared_ptr<const ring::PartitionTable> table, int server)
      : table_(std::move(table)), server_(server) {}

  std::unique_ptr<ServerCore> MakeCore(const CoreSpec& spec) const {
    ServerCoreConfig c;
    c.job = kJob;
    c.server_index = spec.server;
    c.num_workers = spec.workers;
    c.table = table_;
    c.optimizer = optim::MakeOptimizer(spec.optimizer).value();
    c.consistency = spec.consistency;
    std::vector<float> initial(static_cast<size_t>(table_->total_size()));
    for (size_t i = 0; i < initial.size(); ++i) initial[i] = 0.01f * static_cast<float>(i);
    return ServerCore::Make(std::move(c), initial).value();
  }

  // A dense push from `worker` at `clock` on every partition of the server, element k of
  // partition p carrying g * (1 + p + k / 8), computed at `version` (the clock when < 0).
  transport::Message Push(uint32_t worker, int64_t clock, float g, uint32_t samples,
                          int64_t version = -1) {
    transport::Message m;
    m.header = Header(proto::PUSH, worker, clock);
    m.header.set_num_samples(samples);
    m.header.set_learning_rate(0.1f);
    m.header.set_codec(proto::CODEC_NONE);
    m.codec = compress::SpecOf({compress::CodecType::kNone, 0, 0});
    for (int i = 0; i < m.header.partitions_size(); ++i) {
      proto::PartitionSlice* s = m.header.mutable_partitions(i);
      s->set_version(version < 0 ? clock : version);
      std::vector<float> v(s->num_elements());
      for (size_t k = 0; k < v.size(); ++k) {
        v[k] = g * (1.0f + static_cast<float>(s->id()) + static_cast<float>(k) / 8.0f);
      }
      s->set_payload_bytes(v.size() * sizeof(float));
      m.payloads.emplace_back(v.data(), v.size() * sizeof(float));
    }
    return m;
  }

  transport::Message Done(uint32_t worker) {
    transport::Message m;
    m.header = Header(proto::WORKER_DONE, worker, 0);
    return m;
  }

  // Handles `m` and expects it accepted (no ERROR reply).
  static void Accept(ServerCore& core, transport::Message m) {
    std::vector<Reply> out;
    core.Handle("peer-" + std::to_string(m.header.sender()), std::move(m), &out);
    for (const Reply& r : out) {
      ASSERT_NE(r.header.kind(), proto::ERROR) << r.header.error();
    }
  }

 private:
  proto::Header Header(proto::MessageKind kind, uint32_t worker, int64_t clock) {
    proto::Header h = ringtrain::testing::RequestHeader(kind, kJob, worker, ++next_id_, clock,
                                                        table_->fingerprint());
    for (uint32_t id : table_->partitions_of(server_)) {
      proto::PartitionSlice* s = h.add_partitions();
      s->set_id(id);
      s->set_num_elements(static_cast<uint64_t>(table_->partition(id).size));
    }
    return h;
  }

  std::shared_ptr<const ring::PartitionTable> table_;
  int server_;
  uint64_t next_id_ = 0;
};

// Every owned partition's parameters, concatenated in id order, and versions.
inline std::vector<float> AllParams(const ServerCore& core) {
  std::vector<float> out;
  for (uint32_t id : core.config().table->partitions_of(core.config().server_index)) {
    const auto p = core.params(id);
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

inline std::vector<int64_t> AllVersions(const ServerCore& core) {
  std::vector<int64_t> out;
  for (uint32_t id : core.config().table->partitions_of(core.config().server_index)) {
    out.push_back(core.version(id));
  }
  return out;
}

}  // namespace ringtrain::ps::testing

#endif  // RINGTRAIN_TESTS_UNIT_CKPT_SERVER_FIXTURE_H_
