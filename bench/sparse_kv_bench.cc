// Sparse key-value benchmark: push and pull throughput of sparse rows in keys per second, the
// workload of ps-lite's test_kv_app_benchmark, on loopback TCP.
//
// Servers (ps::ParameterServer over ServerCore, plain SGD, async: every push applied on arrival,
// as ps-lite's default handle adds it into its store) and workers (PsClient) run as threads of
// this process, one context each. A sparse table of dim 1 (a float per key, as ps-lite's
// benchmark pushes) spread over the servers' hash buckets; a dense model of one float beside it.
// Each worker, per iteration: pulls the rows of its batch's keys (PullRows), then pushes a
// gradient for each (PushPullRows, whose pull is of the one dense float only). Every key is
// distinct within a batch; workers use disjoint keys. Two workloads:
//   batches of 1000 keys, repeated (the keys of a batch drawn from a space of 2^24);
//   one batch of 10^7 keys (0 .. 10^7 - 1 spread over the space), pushed and pulled 3 times:
//   the first push creates every row, the later ones update them.
// keys/s = keys pushed (or pulled) by all workers / wall seconds of those calls, the median
// of the trials. Plaintext TCP (spec.security.authentication: none); CURVE's cost on the raw
// transport is in transport_bench.
//
// The peer: with --peer CMD (`make bench`: bash bench/pslite_peer.sh) ps-lite runs the same
// workloads as processes, and each line is followed by ps-lite's rates and ringtrain's ratio to
// them. The 1 + 1 batch of 10M keys is also compared with issue 14's reference for ps-lite on a
// machine like this one: one 10M-key batch pushed at about 53M keys/s and pulled at about 25M
// keys/s.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/worker/ps_client.h"
#include "server_thread.h"

namespace {

using namespace ringtrain;
using Clock = std::chrono::steady_clock;

constexpr char kJob[] = "kv";
constexpr uint64_t kKeySpace = uint64_t{1} << 24;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::shared_ptr<const ring::PartitionTable> Table(int servers) {
  std::vector<std::string> ids;
  for (int i = 0; i < servers; ++i) ids.push_back("ps-" + std::to_string(i));
  auto ring = ring::HashRing::Make(ids).value();
  return std::make_shared<const ring::PartitionTable>(
      ring::PartitionTable::Build({{"bias", 0, 1}}, 1024, ring,
                                  {{"kv", 1, uint64_t{1} << 40, ring::kDefaultSparseBuckets}})
          .value());
}

std::unique_ptr<testing::ServerThread> StartServer(
    std::shared_ptr<const ring::PartitionTable> table, int index, int workers) {
  return testing::StartSparseServer(
      {.job = kJob, .workers = workers, .consistency = ps::Consistency::kAsync}, std::move(table),
      index, {0.0f});
}

struct Rates {
  double push = 0;  // keys/s
  double pull = 0;
};

// One worker's batches: `batches` of `keys` distinct keys each, ascending within a batch.
std::vector<std::vector<uint64_t>> Batches(int worker, int batches, size_t keys) {
  std::vector<std::vector<uint64_t>> out(static_cast<size_t>(batches));
  uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(worker + 1);
  for (auto& batch : out) {
    batch.reserve(keys);
    if (keys * 4 > kKeySpace) {
      // A batch as large as the space: every key of a stride, each worker its own offset.
      for (size_t k = 0; k < keys; ++k) batch.push_back(k * 8 + static_cast<uint64_t>(worker));
    } else {
      for (size_t k = 0; k < keys; ++k) {
        x += 0x9e3779b97f4a7c15ULL;
        uint64_t z = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        // Workers on disjoint halves of the space by their low bit.
        batch.push_back(((z ^ (z >> 31)) % kKeySpace) * 2 + static_cast<uint64_t>(worker % 2));
      }
      std::sort(batch.begin(), batch.end());
      batch.erase(std::unique(batch.begin(), batch.end()), batch.end());
    }
  }
  return out;
}

// Runs `workers` workers against `servers` servers; each does the iterations over its
// batches. Returns the rates of the iterations from `measure_from` on.
Rates Run(int servers, int workers, int batches, size_t keys, int measure_from,
          std::vector<Rates>* per_iteration = nullptr) {
  auto table = Table(servers);
  std::vector<std::unique_ptr<testing::ServerThread>> running;
  std::vector<std::string> endpoints;
  for (int i = 0; i < servers; ++i) {
    running.push_back(StartServer(table, i, workers));
    endpoints.push_back(running.back()->endpoint());
  }
  std::vector<std::vector<std::vector<uint64_t>>> work;
  for (int w = 0; w < workers; ++w) work.push_back(Batches(w, batches, keys));
  // Per iteration: the slowest worker's seconds in push and in pull, and keys moved.
  std::vector<double> push_seconds(static_cast<size_t>(batches), 0.0);
  std::vector<double> pull_seconds(static_cast<size_t>(batches), 0.0);
  std::vector<uint64_t> moved(static_cast<size_t>(batches), 0);
  std::mutex mu;
  std::atomic<int> arrived{0};
  auto barrier = [&](int generation) {
    arrived.fetch_add(1);
    while (arrived.load() < generation * workers) std::this_thread::yield();
  };
  zmq::context_t context(1);
  auto worker = [&](int w) {
    worker::PsClientOptions o;
    o.job = kJob;
    o.rank = w;
    o.endpoints = endpoints;
    o.table = table;
    o.consistency = ps::Consistency::kAsync;
    o.timeout = std::chrono::minutes(5);
    auto client = worker::PsClient::Connect(context, o).value();
    std::vector<float> params(1);
    std::vector<float> values;
    std::vector<float> grads;
    int generation = 0;
    for (int i = 0; i < batches; ++i) {
      const std::vector<uint64_t>& batch = work[static_cast<size_t>(w)][static_cast<size_t>(i)];
      values.resize(batch.size());
      grads.assign(batch.size(), 0.001f);
      barrier(++generation);
      const auto t0 = Clock::now();
      const worker::SparseRows rows[] = {{0, batch, values}};
      Status s = client->PullRows(0, params, rows);
      const auto t1 = Clock::now();
      worker::PushRequest push{transport::SharedBuffer<float>(std::vector<float>{0.0f}), i, 1,
                               0.1f};
      push.sparse.push_back({0, batch, grads});
      barrier(++generation);
      const auto t2 = Clock::now();
      if (s.ok()) s = client->PushPullRows(push, 0, params, {});
      const auto t3 = Clock::now();
      if (!s.ok()) {
        std::fprintf(stderr, "worker %d: %s\n", w, s.ToString().c_str());
        std::exit(1);
      }
      std::lock_guard<std::mutex> lock(mu);
      pull_seconds[static_cast<size_t>(i)] =
          std::max(pull_seconds[static_cast<size_t>(i)], Seconds(t0, t1));
      push_seconds[static_cast<size_t>(i)] =
          std::max(push_seconds[static_cast<size_t>(i)], Seconds(t2, t3));
      moved[static_cast<size_t>(i)] += batch.size();
    }
    if (Status s = client->Done(); !s.ok()) std::fprintf(stderr, "%s\n", s.ToString().c_str());
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) threads.emplace_back(worker, w);
  for (auto& t : threads) t.join();
  for (auto& s : running) s->Join();
  uint64_t rows = 0, bytes = 0, raw = 0;
  for (auto& s : running) {
    rows += s->final_stats().sparse_rows();
    bytes += s->final_stats().sparse_table_bytes();
    raw += s->final_stats().sparse_raw_bytes();
  }
  if (keys >= 1000000) {
    std::printf(
        "    server tables: %llu rows in %.1f MiB, %.2f bytes per raw byte (raw = key 8 B "
        "+ value 4 B)\n",
        static_cast<unsigned long long>(rows), static_cast<double>(bytes) / (1 << 20),
        raw > 0 ? static_cast<double>(bytes) / static_cast<double>(raw) : 0.0);
  }
  Rates total;
  double push_time = 0, pull_time = 0;
  uint64_t keys_moved = 0;
  for (int i = measure_from; i < batches; ++i) {
    push_time += push_seconds[static_cast<size_t>(i)];
    pull_time += pull_seconds[static_cast<size_t>(i)];
    keys_moved += moved[static_cast<size_t>(i)];
    if (per_iteration != nullptr) {
      per_iteration->push_back({static_cast<double>(moved[static_cast<size_t>(i)]) /
                                    push_seconds[static_cast<size_t>(i)],
                                static_cast<double>(moved[static_cast<size_t>(i)]) /
                                    pull_seconds[static_cast<size_t>(i)]});
    }
  }
  total.push = static_cast<double>(keys_moved) / push_time;
  total.pull = static_cast<double>(keys_moved) / pull_time;
  return total;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The peer's rates (keys/s) for one configuration and workload; 0 where it gave none.
struct PeerRates {
  double push = 0;
  double pull = 0;
  double first = 0;
};
using PeerKey = std::tuple<int, int, std::string>;  // servers, workers, "big" | "small"

// Runs `command` (bench/pslite_peer.sh) and reads its "peer ..." lines; its stderr passes
// through. An empty map (with the reason printed) when it fails.
std::map<PeerKey, PeerRates> RunPeer(const std::string& command) {
  std::map<PeerKey, PeerRates> rates;
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) return rates;
  char line[512];
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    int servers = 0, workers = 0;
    char workload[16] = {0};
    PeerRates r;
    const int n = std::sscanf(line, "peer %d %d %15s push %lf pull %lf first %lf", &servers,
                              &workers, workload, &r.push, &r.pull, &r.first);
    if (n >= 5) rates[{servers, workers, workload}] = r;
  }
  if (pclose(f) != 0) {
    std::printf(
        "  ps-lite peer: `%s` failed (its reason above); ratios against issue 14's "
        "reference instead\n",
        command.c_str());
    rates.clear();
  }
  return rates;
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  int trials = 3;
  std::string peer_command;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--smoke") smoke = true;
    if (a == "--trials" && i + 1 < argc) trials = std::atoi(argv[++i]);
    if (a == "--peer" && i + 1 < argc) peer_command = argv[++i];
  }
  if (smoke) trials = 1;
  const size_t big = smoke ? 100000 : 10000000;
  const int small_batches = smoke ? 50 : 3000;
  std::printf(
      "sparse push/pull, keys per second (M = 10^6), plaintext TCP on loopback, "
      "threads of one process, %u cores\n",
      std::thread::hardware_concurrency());
  std::map<PeerKey, PeerRates> peer;
  if (!peer_command.empty()) {
    peer = RunPeer(peer_command + (smoke ? " --smoke" : ""));
    if (!peer.empty()) {
      std::printf(
          "  ps-lite peer (bench/pslite_peer.sh: BytePS's ps-lite, its KVServerDefaultHandle, "
          "scheduler, servers and workers as processes, plaintext TCP, no authentication)\n");
    }
  }
  std::printf(
      "  ps-lite reference (issue 14, 1 server + 1 worker, one 10M-key batch): push "
      "53 M/s, pull 25 M/s\n");
  for (const auto& [servers, workers] : {std::pair{1, 1}, std::pair{2, 2}}) {
    std::vector<double> small_push, small_pull, big_push_first, big_push, big_pull;
    for (int t = 0; t < trials; ++t) {
      const Rates small = Run(servers, workers, small_batches, 1000, small_batches / 10);
      small_push.push_back(small.push);
      small_pull.push_back(small.pull);
      std::vector<Rates> each;
      Run(servers, workers, 3, big / static_cast<size_t>(workers), 0, &each);
      big_push_first.push_back(each[0].push);
      big_pull.push_back((each[1].pull + each[2].pull) / 2);
      big_push.push_back((each[1].push + each[2].push) / 2);
    }
    std::printf("  %d server(s), %d worker(s):\n", servers, workers);
    std::printf("    batches of 1000 keys:   push %7.2f M/s   pull %7.2f M/s\n",
                Median(small_push) / 1e6, Median(small_pull) / 1e6);
    const auto small_peer = peer.find({servers, workers, "small"});
    if (small_peer != peer.end()) {
      const PeerRates& p = small_peer->second;
      std::printf(
          "      ps-lite:              push %7.2f M/s   pull %7.2f M/s   (ringtrain: push "
          "%.2fx, pull %.2fx)\n",
          p.push / 1e6, p.pull / 1e6, Median(small_push) / p.push, Median(small_pull) / p.pull);
    }
    std::printf(
        "    one batch of %zu keys: push %7.2f M/s (creating the rows %7.2f M/s)   pull "
        "%7.2f M/s\n",
        big, Median(big_push) / 1e6, Median(big_push_first) / 1e6, Median(big_pull) / 1e6);
    const auto big_peer = peer.find({servers, workers, "big"});
    if (big_peer != peer.end()) {
      const PeerRates& p = big_peer->second;
      std::printf(
          "      ps-lite:              push %7.2f M/s (creating the keys %7.2f M/s)   pull "
          "%7.2f M/s   (ringtrain: push %.2fx, creating %.2fx, pull %.2fx)\n",
          p.push / 1e6, p.first / 1e6, p.pull / 1e6, Median(big_push) / p.push,
          Median(big_push_first) / p.first, Median(big_pull) / p.pull);
    }
    if (servers == 1) {
      std::printf("      (ps-lite's reference: push %.2fx, pull %.2fx)\n", Median(big_push) / 53e6,
                  Median(big_pull) / 25e6);
    }
  }
  return 0;
}
