// transport::CopyBulk against memcpy (issue 15): the copies of a synchronous step (parameters
// into and out of shared memory, pushes read from it, a batch's rows) at the sizes they have,
// for every offset (in steps of 4 bytes) by which the destination may be ahead of the source
// within a 64-byte line. glibc's memcpy moves ~2 KiB to ~1 MiB with `rep movsb`, whose speed on
// some CPUs (AMD's Zen) depends on that offset; CopyBulk's should not.
//
// For each size and offset the two copies alternate `--trials` times, each timing as many
// copies as fit in ~20 ms between two buffers (64-byte aligned, plus the offset on the
// destination; and six cases with the source, or both, 1 byte past that, as a small frame
// inside libzmq's receive buffer is), and each side's best trial is kept: GB/s (bytes copied per
// second). The working set (twice the size) stays in the core's caches up to 256 KiB, not at
// 1 MiB. Before timing, each case's CopyBulk is checked once against a patterned source.
//
// Usage: bulk_copy_bench [--trials 3] [--smoke] [--json PATH]
#include <algorithm>
#include <chrono>
#include <cstdint>
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
    for (int i = 0; i < 16; ++i) {
      copy(dst, src, bytes);
      asm volatile("" : : "r"(dst) : "memory");  // each copy is made, none merged or dropped
    }
    n += 16;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(n) / elapsed;
}

char* Aligned(std::vector<char>& v) {
  const auto p = reinterpret_cast<uintptr_t>(v.data());
  return v.data() + ((64 - p % 64) % 64);
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 3;
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
  // Each case: where the destination starts within a line (offset), and how many bytes the
  // source (from the line's start) and the destination (from offset) are shifted, 1 making them
  // not float-aligned, as a frame inside libzmq's receive buffer is. Labelled by how far the
  // destination is ahead; "+1" when both are shifted, "s1" when the source only (a received
  // frame copied into a worker's parameters).
  struct Case {
    size_t offset;
    size_t src_skew;
    size_t dst_skew;
  };
  std::vector<Case> cases;
  for (size_t o = 0; o < 64; o += smoke ? 16 : 4) cases.push_back({o, 0, 0});
  for (size_t o : {size_t{4}, size_t{16}, size_t{28}}) cases.push_back({o, 1, 1});
  for (size_t o : {size_t{4}, size_t{16}, size_t{28}}) cases.push_back({o, 1, 0});
  const double seconds = smoke ? 0.002 : 0.02;
  if (smoke) trials = 1;
  const size_t largest = *std::max_element(sizes.begin(), sizes.end());
  std::vector<char> src_store(largest + 128);
  std::vector<char> dst_store(largest + 128);
  char* const src_base = Aligned(src_store);
  char* dst_base = Aligned(dst_store);
  for (size_t i = 0; i < largest + 1; ++i) src_base[i] = static_cast<char>(i * 131 + 7);

  std::printf("GB/s, memcpy / CopyBulk, by how far the destination is ahead within a line\n");
  std::printf("%-7s", "offset");
  for (size_t bytes : sizes) std::printf(" %19zu B", bytes);
  std::printf("\n");
  std::string json = "[";
  double slowed_memcpy = 1e9;  // the lowest memcpy rate of all
  double lowest_bulk = 1e9;    // and CopyBulk's
  for (const auto& [offset, src_skew, dst_skew] : cases) {
    const char* src = src_base + src_skew;
    char* dst = dst_base + offset + dst_skew;
    const size_t ahead = offset + dst_skew - src_skew;
    const std::string label = std::to_string(ahead) + (src_skew == 0   ? ""
                                                       : dst_skew == 0 ? "s1"
                                                                       : "+1");
    std::printf("%-7s", label.c_str());
    for (size_t bytes : sizes) {
      std::memset(dst_base, 0, largest + 65);
      ringtrain::transport::CopyBulk(dst, src, bytes);
      if (std::memcmp(dst, src, bytes) != 0) {
        std::fprintf(stderr, "bulk_copy_bench: CopyBulk of %zu bytes at offset %s differs\n", bytes,
                     label.c_str());
        return 1;
      }
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
      const double gb_memcpy = best_memcpy * static_cast<double>(bytes) / 1e9;
      const double gb_bulk = best_bulk * static_cast<double>(bytes) / 1e9;
      slowed_memcpy = std::min(slowed_memcpy, gb_memcpy);
      lowest_bulk = std::min(lowest_bulk, gb_bulk);
      std::printf(" %9.1f / %9.1f", gb_memcpy, gb_bulk);
      json += std::string(json.size() > 1 ? ", " : "") + "{\"bytes\": " + std::to_string(bytes) +
              ", \"offset\": " + std::to_string(offset) + ", \"ahead\": " + std::to_string(ahead) +
              ", \"src_skew\": " + std::to_string(src_skew) +
              ", \"dst_skew\": " + std::to_string(dst_skew) +
              ", \"memcpy_gbps\": " + std::to_string(gb_memcpy) +
              ", \"bulk_gbps\": " + std::to_string(gb_bulk) + "}";
    }
    std::printf("\n");
  }
  json += "]";
  std::printf("lowest of all: memcpy %.1f GB/s, CopyBulk %.1f GB/s\n", slowed_memcpy, lowest_bulk);
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
