#include "ringtrain/storage/retry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace ringtrain::storage {
namespace {

using ::testing::HasSubstr;

struct Recorded {
  RetryOptions options;
  std::vector<std::chrono::milliseconds> waits;
  Recorded() {
    options.attempts = 5;
    options.initial_backoff = std::chrono::milliseconds(100);
    options.max_backoff = std::chrono::milliseconds(300);
    options.sleep = [this](std::chrono::milliseconds w) { waits.push_back(w); };
  }
};

TEST(RetryTest, TransientErrorsAreRetriedWithGrowingJitteredBackoffUpToTheCap) {
  Recorded r;
  int calls = 0;
  Status s = Retry(r.options, [&] {
    ++calls;
    return Unavailable("s3://b/k: connection refused");
  });
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("s3://b/k: connection refused (gave up after 5 attempts"));
  ASSERT_EQ(r.waits.size(), 4u);
  const int64_t caps[] = {100, 200, 300, 300};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_GE(r.waits[i].count(), caps[i] / 2) << i;
    EXPECT_LT(r.waits[i].count(), caps[i]) << i;
  }
}

TEST(RetryTest, SuccessAfterFailuresAndPermanentErrorsReturnAtOnce) {
  Recorded r;
  int calls = 0;
  EXPECT_TRUE(
      Retry(r.options, [&] { return ++calls < 3 ? DeadlineExceeded("slow") : Status::Ok(); }).ok());
  EXPECT_EQ(calls, 3);
  calls = 0;
  Status s = Retry(r.options, [&] {
    ++calls;
    return PermissionDenied("403 SignatureDoesNotMatch");
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s.message(), "403 SignatureDoesNotMatch");
}

}  // namespace
}  // namespace ringtrain::storage
