#include <gtest/gtest.h>

#include "ringtrain/operator/kube/client.h"
#include "ringtrain/operator/kube/rest_client.h"
#include "ringtrain/operator/kube/url.h"

namespace ringtrain::op::kube {
namespace {

TEST(ResourcePathTest, CoreNamespacedResource) {
  EXPECT_EQ(Pods().CollectionPath("team"), "/api/v1/namespaces/team/pods");
  EXPECT_EQ(Pods().ObjectPath("team", "mnist-ps-0"), "/api/v1/namespaces/team/pods/mnist-ps-0");
  EXPECT_EQ(ConfigMaps().ObjectPath("a", "b"), "/api/v1/namespaces/a/configmaps/b");
  EXPECT_EQ(Services().CollectionPath("a"), "/api/v1/namespaces/a/services");
  EXPECT_EQ(Events().CollectionPath("a"), "/api/v1/namespaces/a/events");
}

TEST(ResourcePathTest, EmptyNamespaceMeansAllNamespaces) {
  EXPECT_EQ(Pods().CollectionPath(""), "/api/v1/pods");
  EXPECT_EQ(TrainingJobs().CollectionPath(""), "/apis/ringtrain.io/v1alpha1/trainingjobs");
}

TEST(ResourcePathTest, GroupResources) {
  EXPECT_EQ(Leases().ObjectPath("kube-system", "ringtrain-leader"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/ringtrain-leader");
  EXPECT_EQ(TrainingJobs().ObjectPath("team", "mnist"),
            "/apis/ringtrain.io/v1alpha1/namespaces/team/trainingjobs/mnist");
}

TEST(ResourcePathTest, ClusterScopedResourcesIgnoreTheNamespace) {
  const Resource nodes{"", "v1", "nodes", false};
  EXPECT_EQ(nodes.CollectionPath("team"), "/api/v1/nodes");
  EXPECT_EQ(nodes.ObjectPath("team", "n1"), "/api/v1/nodes/n1");
  const Resource crds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
  EXPECT_EQ(crds.ObjectPath("", "trainingjobs.ringtrain.io"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/trainingjobs.ringtrain.io");
}

TEST(ResourcePathTest, NamesAreEscapedAsPathSegments) {
  EXPECT_EQ(ConfigMaps().ObjectPath("a b", "x/y?z"),
            "/api/v1/namespaces/a%20b/configmaps/x%2Fy%3Fz");
}

TEST(UrlTest, PercentEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(PercentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(PercentEncode("app=x,tier in (a,b)"), "app%3Dx%2Ctier%20in%20%28a%2Cb%29");
  EXPECT_EQ(PercentEncode("\xc3\xa9"), "%C3%A9");
}

TEST(UrlTest, WithQueryKeepsOrder) {
  EXPECT_EQ(WithQuery("/api/v1/pods", {}), "/api/v1/pods");
  EXPECT_EQ(WithQuery("/api/v1/pods", {{"labelSelector", "a=b"}, {"limit", "5"}}),
            "/api/v1/pods?labelSelector=a%3Db&limit=5");
}

TEST(PatchContentTypeTest, OnePerPatchType) {
  EXPECT_STREQ(PatchContentType(PatchType::kMerge), "application/merge-patch+json");
  EXPECT_STREQ(PatchContentType(PatchType::kJson), "application/json-patch+json");
  EXPECT_STREQ(PatchContentType(PatchType::kStrategicMerge),
               "application/strategic-merge-patch+json");
}

}  // namespace
}  // namespace ringtrain::op::kube
