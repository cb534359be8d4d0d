// Sparse rows through real sockets: PsClient::PullRows / PushPullRows against real parameter
// servers (ps::ParameterServer over ServerCore), keys routed to the servers owning their buckets
// and rows put back at the caller's positions; and the routing on its own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/compress/validated_payload.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/worker/ps_client.h"
#include "ringtrain/worker/sparse_routing.h"
#include "server_thread.h"

namespace ringtrain::worker {
namespace {

constexpr char kJob[] = "sparse";
constexpr int kDim = 3;
constexpr float kScale = 0.05f;
constexpr uint64_t kSeed = 7;
constexpr float kRate = 0.1f;

std::shared_ptr<const ring::PartitionTable> Table(int servers) {
  std::vector<std::string> ids;
  for (int i = 0; i < servers; ++i) ids.push_back("ps-" + std::to_string(i));
  auto ring = ring::HashRing::Make(ids).value();
  return std::make_shared<const ring::PartitionTable>(
      ring::PartitionTable::Build({{"bias", 0, 1}}, 16, ring,
                                  {{"emb", kDim, uint64_t{1} << 32, 256}})
          .value());
}

TEST(SparseRoutingTest, EachServerGetsItsKeysInOrderAndTheRowsComeBackToTheirPositions) {
  auto table = Table(3);
  std::vector<uint64_t> keys;
  for (uint64_t k = 5; k < 500; k += 7) keys.push_back(k);
  std::vector<float> values(keys.size() * kDim, -1.0f);
  const SparseRows rows[] = {{0, keys, values}};
  std::vector<SparsePart> parts = RouteRows(table->sparse(), 3, rows);
  size_t total = 0;
  for (int s = 0; s < 3; ++s) {
    ASSERT_EQ(parts[s].slices.size(), 1u) << "server " << s << " got no key";
    const SparsePart::Slice& slice = parts[s].slices[0];
    const auto* k = static_cast<const uint64_t*>(slice.keys.data());
    ASSERT_EQ(slice.positions.size(), slice.keys.size() / 8);
    for (size_t i = 0; i < slice.positions.size(); ++i) {
      EXPECT_EQ(k[i], keys[slice.positions[i]]);
      EXPECT_EQ(table->sparse().ServerOf(0, k[i]), s);
      if (i > 0) {
        EXPECT_GT(k[i], k[i - 1]);
      }
    }
    total += slice.positions.size();
  }
  EXPECT_EQ(total, keys.size());
}

// A push's values encoded per server slice, int8 with a scale per key's row (the block the
// caller gives is not used): each frame has that size and decodes to the slice's gradients; a
// codec that is not for sparse values is refused.
TEST(SparseRoutingTest, GradientsAreEncodedPerServerSliceWithTheCodec) {
  auto table = Table(2);
  std::vector<uint64_t> keys;
  for (uint64_t k = 3; k < 400; k += 5) keys.push_back(k);
  std::vector<float> grads(keys.size() * kDim);
  for (size_t i = 0; i < grads.size(); ++i) grads[i] = 0.01f * static_cast<float>(i % 17) - 0.05f;
  const SparseGradient push[] = {{0, keys, grads}};
  const compress::CodecOptions int8{compress::CodecType::kInt8, 1.0, /*block=*/16};
  StatusOr<std::vector<SparsePart>> parts = RouteGradients(table->sparse(), 2, push, int8);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  size_t total = 0;
  for (const SparsePart& part : *parts) {
    ASSERT_EQ(part.slices.size(), 1u);
    const SparsePart::Slice& slice = part.slices[0];
    const size_t n = slice.keys.size() / 8 * kDim;
    EXPECT_EQ(slice.value_codec.type, compress::CodecType::kInt8);
    EXPECT_EQ(slice.value_codec.block, kDim);
    ASSERT_EQ(slice.values.size(),
              compress::EncodedSize({compress::CodecType::kInt8, 1.0, kDim}, n));
    StatusOr<compress::ValidatedPayload> payload = compress::ValidatePayload(
        slice.value_codec, {static_cast<const uint8_t*>(slice.values.data()), slice.values.size()},
        n);
    ASSERT_TRUE(payload.ok()) << payload.status().ToString();
    std::vector<float> decoded(n);
    compress::Decode(*payload, decoded);
    const auto* k = static_cast<const uint64_t*>(slice.keys.data());
    for (size_t i = 0; i < n; ++i) {
      const size_t at = static_cast<size_t>(
          std::lower_bound(keys.begin(), keys.end(), k[i / kDim]) - keys.begin());
      // Half a step of the row's scale: its largest |gradient| / 127.
      float largest = 0;
      for (int e = 0; e < kDim; ++e) largest = std::max(largest, std::abs(grads[at * kDim + e]));
      EXPECT_NEAR(decoded[i], grads[at * kDim + i % kDim], largest / 254 + 1e-7f) << i;
    }
    total += n;
  }
  EXPECT_EQ(total, grads.size());
  EXPECT_EQ(RouteGradients(table->sparse(), 2, push, {compress::CodecType::kTopK}).status().code(),
            StatusCode::kInvalidArgument);
}

// Server `index` of `table`, serving `workers` workers with plain SGD in sync mode.
std::unique_ptr<testing::ServerThread> StartServer(
    std::shared_ptr<const ring::PartitionTable> table, int index, int workers) {
  return testing::StartSparseServer(
      {.job = kJob, .workers = workers, .init_scale = kScale, .init_seed = kSeed}, std::move(table),
      index, {0.0f});
}

// The batch of worker w at step t: 10 keys shared with the other worker at every step, and 40
// of its own, half of them in its batch of the step before.
std::vector<uint64_t> KeysOf(int w, int t) {
  std::vector<uint64_t> keys;
  for (uint64_t k = 0; k < 10; ++k) keys.push_back(1000 + k);
  for (uint64_t k = 0; k < 40; ++k) {
    keys.push_back(100000 * static_cast<uint64_t>(w + 1) + 20 * static_cast<uint64_t>(t) + k);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

float Grad(int w, uint64_t key, int e) {
  return 0.01f * static_cast<float>((key % 13) + 1) * static_cast<float>(w + 1) -
         0.003f * static_cast<float>(e);
}

// Two workers, two servers, sync, three steps: the rows each worker pulls are exactly what
// the sync rule gives, computed here from the initial values.
TEST(SparseClientTest, TwoWorkersTrainSparseRowsSpreadOverTwoServers) {
  auto table = Table(2);
  std::vector<std::unique_ptr<testing::ServerThread>> servers;
  std::vector<std::string> endpoints;
  for (int i = 0; i < 2; ++i) {
    servers.push_back(StartServer(table, i, 2));
    endpoints.push_back(servers.back()->endpoint());
  }
  constexpr int kSteps = 3;
  constexpr uint32_t kSamples[] = {4, 12};  // per worker
  // The reference: every key's value after each round.
  std::map<uint64_t, std::vector<float>> ref;
  auto value_of = [&](uint64_t key) -> std::vector<float>& {
    auto it = ref.find(key);
    if (it == ref.end()) {
      std::vector<float> v(kDim);
      ps::InitialValue(kSeed, 0, key, kScale, v);
      it = ref.emplace(key, v).first;
    }
    return it->second;
  };
  // pulled[w][t]: what worker w got for its batch of step t.
  std::vector<std::vector<std::vector<float>>> pulled(2,
                                                      std::vector<std::vector<float>>(kSteps + 1));
  std::vector<std::vector<std::vector<float>>> expected = pulled;
  for (int t = 0; t <= kSteps; ++t) {
    for (int w = 0; w < 2; ++w) {
      for (uint64_t key : KeysOf(w, t)) {
        const std::vector<float>& v = value_of(key);
        expected[w][t].insert(expected[w][t].end(), v.begin(), v.end());
      }
    }
    if (t == kSteps) break;
    std::map<uint64_t, std::vector<float>> sum;
    for (int w = 0; w < 2; ++w) {
      for (uint64_t key : KeysOf(w, t)) {
        auto& s = sum[key];
        s.resize(kDim, 0.0f);
        for (int e = 0; e < kDim; ++e) s[e] += static_cast<float>(kSamples[w]) * Grad(w, key, e);
      }
    }
    for (auto& [key, s] : sum) {
      std::vector<float>& v = value_of(key);
      for (int e = 0; e < kDim; ++e) v[e] -= kRate * s[e] / (kSamples[0] + kSamples[1]);
    }
  }

  zmq::context_t context(1);
  auto run = [&](int w) -> Status {
    PsClientOptions o;
    o.job = kJob;
    o.rank = w;
    o.endpoints = endpoints;
    o.table = table;
    o.timeout = std::chrono::seconds(30);
    StatusOr<std::unique_ptr<PsClient>> client = PsClient::Connect(context, o);
    if (!client.ok()) return client.status();
    std::vector<float> params(1);
    std::vector<uint64_t> keys = KeysOf(w, 0);
    pulled[w][0].resize(keys.size() * kDim);
    {
      const SparseRows rows[] = {{0, keys, pulled[w][0]}};
      RT_RETURN_IF_ERROR((*client)->PullRows(0, params, rows));
    }
    for (int t = 0; t < kSteps; ++t) {
      std::vector<float> grads;
      for (uint64_t key : keys) {
        for (int e = 0; e < kDim; ++e) grads.push_back(Grad(w, key, e));
      }
      std::vector<uint64_t> next = KeysOf(w, t + 1);
      pulled[w][t + 1].resize(next.size() * kDim);
      PushRequest push{transport::SharedBuffer<float>(std::vector<float>{0.0f}), t, kSamples[w],
                       kRate};
      push.sparse.push_back({0, keys, grads});
      const SparseRows rows[] = {{0, next, pulled[w][t + 1]}};
      int64_t version = -1;
      RT_RETURN_IF_ERROR((*client)->PushPullRows(push, t + 1, params, rows, &version));
      if (version != t + 1) return Internal("version " + std::to_string(version));
      keys = next;
    }
    return (*client)->Done();
  };
  std::future<Status> other = std::async(std::launch::async, run, 1);
  const Status mine = run(0);
  const Status theirs = other.get();
  ASSERT_TRUE(mine.ok()) << mine.ToString();
  ASSERT_TRUE(theirs.ok()) << theirs.ToString();
  for (int w = 0; w < 2; ++w) {
    for (int t = 0; t <= kSteps; ++t) {
      ASSERT_EQ(pulled[w][t].size(), expected[w][t].size());
      for (size_t i = 0; i < pulled[w][t].size(); ++i) {
        ASSERT_NEAR(pulled[w][t][i], expected[w][t][i], 1e-6)
            << "worker " << w << " step " << t << " element " << i;
      }
    }
  }
}

}  // namespace
}  // namespace ringtrain::worker
