#include "ringtrain/operator/names.h"

#include <gtest/gtest.h>

namespace ringtrain::op {
namespace {

using job::Role;

TEST(NamesTest, KubernetesNames) {
  EXPECT_EQ(PodName("mnist", Role::kParameterServer, 0), "mnist-ps-0");
  EXPECT_EQ(PodName("mnist", Role::kWorker, 4095), "mnist-worker-4095");
  EXPECT_EQ(ServiceName("mnist", Role::kParameterServer), "mnist-ps");
  EXPECT_EQ(ServiceName("mnist", Role::kWorker), "mnist-worker");
  EXPECT_EQ(PsEndpointInCluster("mnist", "research", 1, job::kDefaultPsPort),
            "tcp://mnist-ps-1.mnist-ps.research.svc:7070");
  // The longest job name still gives pod names that fit a 63-character DNS label.
  std::string longest(50, 'a');
  EXPECT_LE(PodName(longest, Role::kWorker, 4095).size(), 63u);
}

}  // namespace
}  // namespace ringtrain::op
