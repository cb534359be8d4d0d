// RestClient::Make validates its configuration without contacting a server.
#include "ringtrain/operator/kube/rest_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_pem.h"

namespace ringtrain::op::kube {
namespace {

using ::testing::HasSubstr;

ClusterConfig Config(const std::string& server) {
  ClusterConfig c;
  c.server = server;
  c.source = "test config";
  return c;
}

TEST(RestClientMakeTest, AcceptsValidPem) {
  ClusterConfig c = Config("https://127.0.0.1:6443");
  c.ca_pem = testing::kTestCertPem;
  c.client_cert_pem = testing::kTestCertPem;
  c.client_key_pem = testing::kTestKeyPem;
  auto client = RestClient::Make(c, ClientOptions{});
  EXPECT_TRUE(client.ok()) << client.status().ToString();
}

TEST(RestClientMakeTest, RejectsBadServerUrls) {
  for (const std::string server : {"ftp://h", "not a url", "https://"}) {
    auto client = RestClient::Make(Config(server), ClientOptions{});
    ASSERT_FALSE(client.ok()) << server;
    EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(client.status().message(), HasSubstr("test config: server"));
  }
}

TEST(RestClientMakeTest, RejectsMalformedPem) {
  ClusterConfig c = Config("https://h");
  c.ca_pem = "not a certificate";
  auto no_block = RestClient::Make(c, ClientOptions{});
  EXPECT_EQ(no_block.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_block.status().message(), HasSubstr("certificate authority"));

  c.ca_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  auto corrupt = RestClient::Make(c, ClientOptions{});
  EXPECT_EQ(corrupt.status().code(), StatusCode::kInvalidArgument);

  c.ca_pem = "";
  c.client_cert_pem = testing::kTestCertPem;
  c.client_key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  auto bad_key = RestClient::Make(c, ClientOptions{});
  EXPECT_EQ(bad_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_key.status().message(), HasSubstr("client certificate/key"));
}

}  // namespace
}  // namespace ringtrain::op::kube
