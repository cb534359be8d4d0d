#include "ringtrain/storage/location.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringtrain::storage {
namespace {

using ::testing::HasSubstr;

TEST(LocationTest, PathsAndFileUris) {
  StatusOr<Location> l = ParseLocation("data/train.csv");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->scheme, Scheme::kFile);
  EXPECT_EQ(l->path, "data/train.csv");
  EXPECT_FALSE(l->glob);
  l = ParseLocation("file:///data/my%20set/part-*.gz");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->path, "/data/my set/part-*.gz");
  EXPECT_TRUE(l->glob);
  l = ParseLocation("file://localhost/x");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->path, "/x");
  EXPECT_FALSE(ParseLocation("/data/a*/b")->glob) << "only the last component is a pattern";
}

TEST(LocationTest, S3Uris) {
  StatusOr<Location> l = ParseLocation("s3://my-bucket.data/criteo/day-0/part-0?.gz");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->scheme, Scheme::kS3);
  EXPECT_EQ(l->bucket, "my-bucket.data");
  EXPECT_EQ(l->key, "criteo/day-0/part-0?.gz");
  EXPECT_TRUE(l->glob);
  l = ParseLocation("s3://bucket");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->key, "");
  l = ParseLocation("s3://bucket/prefix/");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->key, "prefix/");
  EXPECT_FALSE(l->glob);
}

TEST(LocationTest, HttpUrls) {
  StatusOr<Location> l = ParseLocation("https://example.com/data/a.csv?x=1");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->scheme, Scheme::kHttp);
  EXPECT_EQ(l->uri, "https://example.com/data/a.csv?x=1");
}

TEST(LocationTest, MalformedLocationsAreNamed) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "the location is empty"},
      {"ftp://host/x", "'ftp://host/x': unsupported scheme 'ftp'"},
      {"file://otherhost/x", "names host 'otherhost'"},
      {"file://", "has no path"},
      {"file:///a%zz", "malformed percent-escape at position 9"},
      {"https:///path", "the URL has no host"},
      {"s3://", "'' is not a bucket name"},
      {"s3://Upper/x", "'Upper' is not a bucket name"},
      {"s3://ab/x", "'ab' is not a bucket name"},
      {"s3://-bucket/x", "'-bucket' is not a bucket name"},
  };
  for (const auto& [uri, message] : cases) {
    StatusOr<Location> l = ParseLocation(uri);
    ASSERT_FALSE(l.ok()) << uri;
    EXPECT_EQ(l.status().code(), StatusCode::kInvalidArgument) << uri;
    EXPECT_THAT(l.status().message(), HasSubstr(message)) << uri;
  }
}

}  // namespace
}  // namespace ringtrain::storage
