#include "ringtrain/common/status.h"

#include <gtest/gtest.h>

namespace ringtrain {
namespace {

StatusOr<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgument("value: must be > 0 (got " + std::to_string(v) + ")");
  return v;
}

Status UsesMacros(int v, int* out) {
  RT_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  *out = x;
  return Status::Ok();
}

TEST(StatusTest, OkAndErrorCarryCodeAndMessage) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = InvalidArgument("spec.x: bad");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "invalid argument: spec.x: bad");
  EXPECT_EQ(s.WithContext("job.yaml").message(), "job.yaml: spec.x: bad");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  int out = 0;
  EXPECT_TRUE(UsesMacros(3, &out).ok());
  EXPECT_EQ(out, 3);
  Status s = UsesMacros(-1, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out, 3);
}

TEST(StatusDeathTest, ValueOnErrorAborts) {
  StatusOr<int> v = NotFound("x");
  EXPECT_DEATH((void)v.value(), "StatusOr::value\\(\\) on error");
}

}  // namespace
}  // namespace ringtrain
