// HttpStore against a real HTTP server on loopback: Python's http.server, which answers HEAD
// with the size and ignores Range (a 200 with the whole file): a whole object is read, a range
// of one is refused as "does not serve ranges" rather than misread, and a missing URL is
// NotFound. (Ranged reads are tested against the S3 server, which serves them.)
#include "ringtrain/storage/http_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include "process_helpers.h"
#include "ringtrain/launch/child_process.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::storage {
namespace {

using ::testing::HasSubstr;

using testing::ReadFile;

TEST(HttpStoreTest, WholeObjectsFromAServerWithoutRangesAndNamedErrors) {
  const std::string dir = testing::MakeTempDir("http");
  std::string blob;
  for (int i = 0; i < 100000; ++i) blob += std::to_string(i) + "\n";
  testing::WriteFile(dir + "/data.txt", blob);
  auto server = launch::ChildProcess::Spawn("http.server",
                                            {"/usr/bin/python3", "-u", "-m", "http.server", "0",
                                             "--bind", "127.0.0.1", "--directory", dir},
                                            {}, dir + "/server.log");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::string port;  // the port it bound, from its first line
  for (int i = 0; i < 100 && port.empty(); ++i) {
    const std::string log = ReadFile(dir + "/server.log");
    std::smatch m;
    if (std::regex_search(log, m, std::regex("port (\\d+)"))) {
      port = m[1].str();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_FALSE(port.empty()) << ReadFile(dir + "/server.log");
  const std::string base = "http://127.0.0.1:" + port;
  Storage storage(StorageOptions{});
  StatusOr<std::vector<ObjectInfo>> found = storage.List(base + "/data.txt?token=x");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].size, static_cast<int64_t>(blob.size()));
  auto whole = storage.Open((*found)[0]);
  ASSERT_TRUE(whole.ok());
  StatusOr<std::string> got = ReadAll(**whole, 1 << 22);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == blob);
  auto part = storage.Open((*found)[0], 10, 100);
  ASSERT_TRUE(part.ok());
  StatusOr<std::string> refused = ReadAll(**part, 1 << 22);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("does not serve ranges"));
  StatusOr<std::vector<ObjectInfo>> missing = storage.List(base + "/none.txt");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/none.txt: HTTP 404"));
}

}  // namespace
}  // namespace ringtrain::storage
