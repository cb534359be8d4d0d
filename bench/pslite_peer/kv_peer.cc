// The ps-lite peer of bench/sparse_kv_bench.cc (issue 14): ps-lite's own key-value store
// (KVServerDefaultHandle<float>: an unordered_map of key -> float, push adds, pull reads) under
// the workload of ps-lite's key-value benchmark — each worker pushes one batch of `keys` keys
// (one float each, spread over the whole key range so every server gets its share), then pulls
// them, `rounds` times. Built by bench/pslite_peer.sh against the ps-lite that BytePS's source
// distribution on PyPI carries (cached outside the repository); not part of the CMake build.
//
// Every worker prints one line per measurement, which the script reads:
//   pslite worker <rank> push <first|again> <keys> keys <seconds> s
//   pslite worker <rank> pull <keys> keys <seconds> s
// Usage (with ps-lite's DMLC_* environment; bench/pslite_peer.sh sets it): kv_peer KEYS ROUNDS
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "ps/ps.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void RunWorker(int keys, int rounds) {
  ps::KVWorker<float> kv(0, 0);
  const int rank = ps::MyRank();
  ps::SArray<ps::Key> k(static_cast<size_t>(keys));
  ps::SArray<float> v(static_cast<size_t>(keys));
  ps::SArray<float> out;
  const ps::Key step = ps::kMaxKey / static_cast<ps::Key>(keys);
  for (int i = 0; i < keys; ++i) {
    k[static_cast<size_t>(i)] = step * static_cast<ps::Key>(i) + static_cast<ps::Key>(rank);
    v[static_cast<size_t>(i)] = static_cast<float>(i % 1000);
  }
  for (int r = 0; r < rounds; ++r) {
    auto start = std::chrono::steady_clock::now();
    kv.Wait(kv.ZPush(k, v));
    std::printf("pslite worker %d push %s %d keys %.6f s\n", rank, r == 0 ? "first" : "again", keys,
                Seconds(start));
    start = std::chrono::steady_clock::now();
    kv.Wait(kv.ZPull(k, &out));
    std::printf("pslite worker %d pull %d keys %.6f s\n", rank, keys, Seconds(start));
    std::fflush(stdout);
    if (out.size() != k.size()) {
      std::fprintf(stderr, "pslite worker %d: pulled %zu values for %d keys\n", rank, out.size(),
                   keys);
      std::exit(1);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: kv_peer KEYS ROUNDS\n");
    return 2;
  }
  const int keys = std::atoi(argv[1]);
  const int rounds = std::atoi(argv[2]);
  ps::Start(0);
  ps::KVServer<float>* server = nullptr;
  if (ps::IsServer()) {
    server = new ps::KVServer<float>(0);
    server->set_request_handle(ps::KVServerDefaultHandle<float>());
  }
  if (ps::IsWorker()) RunWorker(keys, rounds);
  ps::Finalize(0, true);
  delete server;
  return 0;
}
