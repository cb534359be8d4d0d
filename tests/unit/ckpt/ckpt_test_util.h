// Helpers of the checkpoint tests: a small shard's identity and state with distinct values,
// scratch directories, and byte-level damage to files.
#ifndef RINGTRAIN_TESTS_UNIT_CKPT_CKPT_TEST_UTIL_H_
#define RINGTRAIN_TESTS_UNIT_CKPT_CKPT_TEST_UTIL_H_

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>

#include "ringtrain/ckpt/shard_identity.h"
#include "ringtrain/ckpt/shard_state.h"

namespace ringtrain::ckpt::testing {

// Server 1 of 2 owns partitions 1 (3 elements), 4 (5) and 6 (2); momentum-like optimizer (one
// state slot); 3 workers.
inline ShardIdentity TestIdentity() {
  ShardIdentity id;
  id.job = "fashion";
  id.server_index = 1;
  id.ring_servers = {"ps-0", "ps-1"};
  id.layout_fingerprint = 0x1234567890abcdefULL;
  id.model_fingerprint = 0xfedcba0987654321ULL;
  id.sync_mode = "sync";
  id.optimizer = "momentum";
  id.state_slots = 1;
  id.num_workers = 3;
  id.partitions = {{1, 3}, {4, 5}, {6, 2}};
  return id;
}

// A state of `id` whose floats all differ and depend on `seed`; partition 4 has a sync round in
// progress; worker 2 is done.
inline ShardState TestState(const ShardIdentity& id, int64_t step, float seed = 1.0f) {
  ShardState s;
  float v = seed;
  for (const PartitionShape& shape : id.partitions) {
    PartitionSnapshot p;
    p.id = shape.id;
    p.version = step;
    p.optimizer_steps = step > 0 ? step - 1 : 0;
    for (int64_t i = 0; i < shape.size; ++i) p.params.push_back(v += 0.25f);
    for (int64_t i = 0; i < shape.size * id.state_slots; ++i)
      p.optimizer_state.push_back(-(v += 0.5f));
    if (shape.id == 4) {
      for (int64_t i = 0; i < shape.size; ++i) p.accum.push_back(v += 1.0f);
      p.round_pushes = 2;
      p.round_samples = 96;
      p.round_learning_rate = 0.05f;
    }
    s.partitions.push_back(std::move(p));
  }
  s.workers.resize(static_cast<size_t>(id.num_workers));
  for (size_t w = 0; w < s.workers.size(); ++w) s.workers[w].clock = step + static_cast<int64_t>(w);
  s.workers.back().done = true;
  s.workers[1].excluded = true;
  return s;
}

// Equal field by field, floats bit for bit.
inline ::testing::AssertionResult SameState(const ShardState& a, const ShardState& b) {
  if (a.partitions.size() != b.partitions.size()) {
    return ::testing::AssertionFailure()
           << a.partitions.size() << " vs " << b.partitions.size() << " partitions";
  }
  for (size_t i = 0; i < a.partitions.size(); ++i) {
    const PartitionSnapshot& x = a.partitions[i];
    const PartitionSnapshot& y = b.partitions[i];
    if (x.id != y.id || x.version != y.version || x.optimizer_steps != y.optimizer_steps ||
        x.params != y.params || x.optimizer_state != y.optimizer_state || x.accum != y.accum ||
        x.round_pushes != y.round_pushes || x.round_samples != y.round_samples ||
        x.round_learning_rate != y.round_learning_rate) {
      return ::testing::AssertionFailure()
             << "partition record " << i << " (id " << x.id << " vs " << y.id << ") differs";
    }
  }
  if (a.workers.size() != b.workers.size()) {
    return ::testing::AssertionFailure() << "worker counts differ";
  }
  for (size_t w = 0; w < a.workers.size(); ++w) {
    if (a.workers[w].clock != b.workers[w].clock || a.workers[w].done != b.workers[w].done ||
        a.workers[w].excluded != b.workers[w].excluded) {
      return ::testing::AssertionFailure() << "worker " << w << " differs";
    }
  }
  if (a.sparse != b.sparse) return ::testing::AssertionFailure() << "the sparse tables differ";
  return ::testing::AssertionSuccess();
}

// A fresh directory under the test temp dir, removed with the object.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    path_ = (std::filesystem::temp_directory_path() /
             ("ringtrain-ckpt-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd())))
                .string();
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Flips every bit of the byte at `offset` (from the end if negative).
inline void FlipByte(const std::string& path, int64_t offset) {
  std::string bytes = ReadAll(path);
  const size_t at =
      static_cast<size_t>(offset >= 0 ? offset : static_cast<int64_t>(bytes.size()) + offset);
  bytes.at(at) = static_cast<char>(~bytes.at(at));
  WriteAll(path, bytes);
}

// A manifest of `body` with a correct header, as a tool that rewrote the body and recomputed
// the checksum would leave it: only the field checks stand between it and the loader.
inline std::string WithHeader(const std::string& body) {
  char crc[16];
  std::snprintf(crc, sizeof(crc), "%08lx",
                crc32_z(0L, reinterpret_cast<const Bytef*>(body.data()), body.size()));
  return "ringtrain-checkpoint-manifest 1 crc32=" + std::string(crc) +
         " bytes=" + std::to_string(body.size()) + "\n" + body;
}

inline void Truncate(const std::string& path, int64_t drop_bytes) {
  std::filesystem::resize_file(
      path, std::filesystem::file_size(path) - static_cast<uint64_t>(drop_bytes));
}

}  // namespace ringtrain::ckpt::testing

#endif  // RINGTRAIN_TESTS_UNIT_CKPT_CKPT_TEST_UTIL_H_
