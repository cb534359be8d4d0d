// transport::CopyBulk against memcpy (issue 15): the copies of a synchronous step (parameters
// into and out of shared memory, pushes read from it, a batch's rows) at the sizes they have and
// at every offset the two addresses may differ by within a 64-byte line. glibc's memcpy moves
// anything above ~2 KiB with `rep movsb`, whose speed on some CPUs (AMD's Zen) depends on that
// offset; CopyBulk's should not.
//
// For each size and offset: both copies alternate, `--trials` times, each timing as many
// copies as fit in ~20 ms from a buffer to another (both 64-byte aligned plus the offset on the
// destination), and each side's best trial is kept; GB/s (copied bytes / second) and CopyBulk's
// ratio to memcpy. The buffers stay in the caches at these sizes, as a step's copies mostly are.
//
// Usage: bulk_copy_bench [--trials 5] [--smoke] [--json PATH]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ringtrain/transport/bulk_copy.h"

namespace {

using Clock = std::chrono::steady_clock;

// Copies per second of `bytes`, over about `seconds`.
template <typename Copy>
double Rate(Copy copy, char* dst, const char* src, size_t bytes, double seconds) {
  long n = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 16; ++i) copy(dst, src, bytes);
    n += 16;
    asm volatile("" : : "r"(dst) : "memory");  // the copies are not optimized away
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(n) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 5;
  bool smoke = false;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--trials" && i + 1 < argc) {
      trials = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--smoke") {
      smoke = true;
    } else if (a == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bulk_copy_bench [--trials N] [--smoke] [--json PATH]\n");
      return 2;
    }
  }
  const std::vector<size_t> sizes =
      smoke ? std::vector<size_t>{4096} : std::vector<size_t>{3136, 65536, 262144, 1048576};
  const std::vector<size_t> offsets =
      smoke ? std::vector<size_t>{0, 16} : std::vector<size_t>{0, 4, 8, 16, 32, 48};
  const double seconds = smoke ? 0.002 : 0.02;
  if (smoke) trials = 1;
  const size_t largest = *std::max_element(sizes.begin(), sizes.end());
  std::vector<char> src_store(largest + 128, 1);
  std::vector<char> dst_store(largest + 128, 0);
  auto aligned = [](std::vector<char>& v) {
    const auto p = reinterpret_cast<uintptr_t>(v.data());
    return v.data() + ((64 - p % 64) % 64);
  };
  const char* src = aligned(src_store);
  char* dst_base = aligned(dst_store);
  std::printf("%-10s %7s %14s %14s %8s\n", "bytes", "offset", "memcpy GB/s", "CopyBulk GB/s",
              "ratio");
  std::string json = "[";
  double lowest = 1e9;
  for (size_t bytes : sizes) {
    for (size_t offset : offsets) {
      char* dst = dst_base + offset;
      double best_memcpy = 0;
      double best_bulk = 0;
      for (int t = 0; t < trials; ++t) {
        best_memcpy = std::max(
            best_memcpy, Rate([](char* d, const char* s, size_t n) { std::memcpy(d, s, n); }, dst,
                              src, bytes, seconds));
        best_bulk = std::max(
            best_bulk,
            Rate([](char* d, const char* s, size_t n) { ringtrain::transport::CopyBulk(d, s, n); },
                 dst, src, bytes, seconds));
      }
      if (std::memcmp(dst, src, bytes) != 0) {
        std::fprintf(stderr, "bulk_copy_bench: a copy of %zu bytes differs\n", bytes);
        return 1;
      }
      const double gb_memcpy = best_memcpy * static_cast<double>(bytes) / 1e9;
      const double gb_bulk = best_bulk * static_cast<double>(bytes) / 1e9;
      lowest = std::min(lowest, gb_bulk / gb_memcpy);
      std::printf("%-10zu %7zu %14.1f %14.1f %7.2fx\n", bytes, offset, gb_memcpy, gb_bulk,
                  gb_bulk / gb_memcpy);
      json += std::string(json.size() > 1 ? ", " : "") + "{\"bytes\": " + std::to_string(bytes) +
              ", \"offset\": " + std::to_string(offset) +
              ", \"memcpy_gbps\": " + std::to_string(gb_memcpy) +
              ", \"bulk_gbps\": " + std::to_string(gb_bulk) + "}";
    }
  }
  json += "]";
  std::printf("CopyBulk / memcpy, lowest: %.2fx\n", lowest);
  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "bulk_copy_bench: cannot write %s\n", json_path.c_str());
      return 1;
    }
    std::fprintf(f, "%s\n", json.c_str());
    std::fclose(f);
  }
  return 0;
}
