#include "ringtrain/data/uri.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringtrain::data {
namespace {

using ::testing::HasSubstr;

std::string MustPath(std::string_view uri) {
  StatusOr<std::string> p = LocalPathFromUri(uri);
  EXPECT_TRUE(p.ok()) << uri << ": " << p.status().ToString();
  return p.ok() ? *p : "";
}

TEST(UriTest, FileUrisAndPlainPaths) {
  EXPECT_EQ(MustPath("file:///usr/share/datasets/x.gz"), "/usr/share/datasets/x.gz");
  EXPECT_EQ(MustPath("FILE:///a/b"), "/a/b");
  EXPECT_EQ(MustPath("file://localhost/a/b"), "/a/b");
  EXPECT_EQ(MustPath("file:///data/my%20set/x%2fy"), "/data/my set/x/y");
  EXPECT_EQ(MustPath("/abs/path.gz"), "/abs/path.gz");
  EXPECT_EQ(MustPath("relative/path"), "relative/path");
  // No "<scheme>://": a path, even with a colon in it.
  EXPECT_EQ(MustPath("data/a:b"), "data/a:b");
  EXPECT_EQ(MustPath("./x://y"), "./x://y");
}

TEST(UriTest, RemoteSchemesAreNotForIdxFiles) {
  for (const char* uri :
       {"http://host/x.gz", "https://host/x.gz", "s3://bucket/key", "S3://bkt/k"}) {
    StatusOr<std::string> p = LocalPathFromUri(uri);
    EXPECT_EQ(p.status().code(), StatusCode::kUnimplemented) << uri;
    EXPECT_THAT(p.status().message(), HasSubstr("IDX files are read from local paths only")) << uri;
    EXPECT_THAT(p.status().message(), HasSubstr(uri)) << uri;
  }
}

TEST(UriTest, InvalidLocations) {
  struct Case {
    const char* uri;
    const char* message;
  };
  for (const Case& c : {Case{"", "empty"}, Case{"gs://b/k", "unsupported scheme 'gs'"},
                        Case{"hdfs://nn/p", "unsupported scheme 'hdfs'"},
                        Case{"file://otherhost/a", "names host 'otherhost'"},
                        Case{"file://", "has no path"}, Case{"file:///", "has no path"},
                        Case{"file:///a%2", "malformed percent-escape at position 9"},
                        Case{"file:///a%zz", "malformed percent-escape"}}) {
    StatusOr<std::string> p = LocalPathFromUri(c.uri);
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.uri;
    EXPECT_THAT(p.status().message(), HasSubstr(c.message)) << c.uri;
  }
}

}  // namespace
}  // namespace ringtrain::data
