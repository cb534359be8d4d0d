// Helpers shared by the ring tests: server ids and rings that fail the test on error.
#ifndef RINGTRAIN_TESTS_UNIT_RING_TEST_UTIL_H_
#define RINGTRAIN_TESTS_UNIT_RING_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "ringtrain/ring/hash_ring.h"

namespace ringtrain::ring::testing {

// "ps-0", ..., "ps-<n-1>": the ids the job's servers have.
inline std::vector<std::string> ServerIds(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back("ps-" + std::to_string(i));
  return ids;
}

// The ring of `ids`; a test failure (and an abort) when HashRing::Make refuses them.
inline HashRing MustRing(std::vector<std::string> ids,
                         int vnodes = HashRing::kDefaultVnodesPerServer) {
  StatusOr<HashRing> ring = HashRing::Make(std::move(ids), vnodes);
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return std::move(ring).value();
}

}  // namespace ringtrain::ring::testing

#endif  // RINGTRAIN_TESTS_UNIT_RING_TEST_UTIL_H_
