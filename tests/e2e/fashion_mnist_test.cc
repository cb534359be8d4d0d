// The examples a newcomer runs first, end to end: `ringtrain run` on real Fashion-MNIST must
// reach the accuracy the README promises. Full training runs: release build only (label slow).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "process_helpers.h"

namespace ringtrain {
namespace {

const std::string kBinary = RINGTRAIN_BINARY;
const std::string kSource = RINGTRAIN_SOURCE_DIR;

TEST(FashionMnistTest, SoftmaxExampleReaches083) {
  auto r = testing::RunCommand(
      {kBinary, "run", "--no-progress", kSource + "/examples/fashion-mnist-softmax.yaml"},
      std::chrono::seconds(900));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GE(testing::SummaryAccuracy(r.output), 0.83) << r.output;
  std::cout << r.output.substr(r.output.find("summary")) << std::endl;
}

TEST(FashionMnistTest, MlpExampleReaches087) {
  auto r = testing::RunCommand(
      {kBinary, "run", "--no-progress", kSource + "/examples/fashion-mnist.yaml"},
      std::chrono::seconds(1200));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GE(testing::SummaryAccuracy(r.output), 0.87) << r.output;
  std::cout << r.output.substr(r.output.find("summary")) << std::endl;
}

}  // namespace
}  // namespace ringtrain
