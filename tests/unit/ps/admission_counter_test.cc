#include "ringtrain/ps/admission_counter.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace ringtrain::ps {
namespace {

TEST(AdmissionCounterTest, CountsEachKeyOfEachTableApart) {
  AdmissionCounter counter;
  EXPECT_EQ(counter.Count(0, 7), 0u);
  EXPECT_EQ(counter.Add(0, 7), 1u);
  EXPECT_EQ(counter.Add(0, 7), 2u);
  EXPECT_EQ(counter.Add(1, 7), 1u);  // the same key in another table
  EXPECT_EQ(counter.Add(0, 8), 1u);
  EXPECT_EQ(counter.Count(0, 7), 2u);
  EXPECT_EQ(counter.bytes(), 4u << 20);
}

TEST(AdmissionCounterTest, SaturatesAt255) {
  AdmissionCounter counter(4);
  uint32_t last = 0;
  for (int i = 0; i < 300; ++i) last = counter.Add(3, 99);
  EXPECT_EQ(last, 255u);
  EXPECT_EQ(counter.Count(3, 99), 255u);
}

// Far more keys than counters: estimates may run high (keys share counters), never low.
TEST(AdmissionCounterTest, NeverUndercountsAndRarelyOvercountsWhenRoomy) {
  AdmissionCounter tiny(6);  // 64 counters per row
  AdmissionCounter roomy(20);
  for (uint64_t key = 0; key < 2000; ++key) {
    for (uint64_t i = 0; i <= key % 3; ++i) {
      tiny.Add(0, key);
      roomy.Add(0, key);
    }
  }
  int over = 0;
  for (uint64_t key = 0; key < 2000; ++key) {
    const uint32_t truth = static_cast<uint32_t>(key % 3 + 1);
    EXPECT_GE(tiny.Count(0, key), truth);
    EXPECT_GE(roomy.Count(0, key), truth);
    over += roomy.Count(0, key) > truth ? 1 : 0;
  }
  EXPECT_EQ(over, 0);
}

}  // namespace
}  // namespace ringtrain::ps
