// LocalStore and Storage's routing over real files in a temporary directory.
#include "ringtrain/storage/local_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ringtrain/storage/storage.h"

namespace ringtrain::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ringtrain-storage-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    fs::create_directories(fs::path(dir_ + "/" + name).parent_path());
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
  }

  std::vector<std::string> Names(const std::vector<ObjectInfo>& found) {
    std::vector<std::string> names;
    for (const ObjectInfo& o : found) names.push_back(o.uri.substr(dir_.size() + 1));
    return names;
  }

  std::string dir_;
  Storage storage_{StorageOptions{}};
};

TEST_F(LocalStoreTest, ListsAFileADirectoryAndAGlobSorted) {
  Write("b/part-1.csv", "12345");
  Write("b/part-0.csv", "1");
  Write("b/.hidden", "x");
  Write("b/sub/part-2.csv", "22");
  Write("b/other.txt", "o");
  StatusOr<std::vector<ObjectInfo>> one = storage_.List(dir_ + "/b/part-1.csv");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_THAT(*one, ElementsAre(ObjectInfo{dir_ + "/b/part-1.csv", 5}));
  StatusOr<std::vector<ObjectInfo>> all = storage_.List("file://" + dir_ + "/b");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_THAT(Names(*all),
              ElementsAre("b/other.txt", "b/part-0.csv", "b/part-1.csv", "b/sub/part-2.csv"));
  StatusOr<std::vector<ObjectInfo>> glob = storage_.List(dir_ + "/b/part-*.csv");
  ASSERT_TRUE(glob.ok()) << glob.status().ToString();
  EXPECT_THAT(Names(*glob), ElementsAre("b/part-0.csv", "b/part-1.csv"));
}

TEST_F(LocalStoreTest, NothingFoundAndNotAFileAreErrorsNamingTheLocation) {
  StatusOr<std::vector<ObjectInfo>> none = storage_.List(dir_ + "/nope-*.csv");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("nope-*.csv: matches no file"));
  EXPECT_EQ(storage_.List(dir_ + "/missing.csv").status().code(), StatusCode::kNotFound);
  ASSERT_EQ(mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  StatusOr<std::vector<ObjectInfo>> fifo = storage_.List(dir_ + "/fifo");
  EXPECT_EQ(fifo.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(fifo.status().message(), HasSubstr("FIFO"));
}

TEST_F(LocalStoreTest, ReadsRangesAndNoticesAFileThatShrank) {
  Write("a.txt", "0123456789");
  StatusOr<std::vector<ObjectInfo>> a = storage_.List(dir_ + "/a.txt");
  ASSERT_TRUE(a.ok());
  auto stream = storage_.Open((*a)[0], 3, 4);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  StatusOr<std::string> bytes = ReadAll(**stream, 100);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "3456");
  EXPECT_EQ(storage_.Open((*a)[0], 8, 4).status().code(), StatusCode::kOutOfRange);
  // Listed at 10 bytes, now 4: a read past its end is DataLoss, not a silent short object.
  Write("a.txt", "0123");
  stream = storage_.Open((*a)[0], 0, -1);
  ASSERT_TRUE(stream.ok());
  bytes = ReadAll(**stream, 100);
  EXPECT_EQ(bytes.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(bytes.status().message(), HasSubstr("shrank"));
}

TEST_F(LocalStoreTest, PutReplacesTheFileWhole) {
  ASSERT_TRUE(storage_.Put(dir_ + "/out.bin", "first").ok());
  ASSERT_TRUE(storage_.Put(dir_ + "/out.bin", "second").ok());
  StatusOr<std::vector<ObjectInfo>> out = storage_.List(dir_ + "/out.bin");
  ASSERT_TRUE(out.ok());
  auto stream = storage_.Open((*out)[0]);
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(*ReadAll(**stream, 100), "second");
  EXPECT_THAT(Names(*storage_.List(dir_)), ElementsAre("out.bin")) << "no temporary file left";
}

TEST_F(LocalStoreTest, GetsAWholeFileAndDeletesIt) {
  Write("ckpt/MANIFEST", "manifest");
  StatusOr<std::string> got = storage_.Get("file://" + dir_ + "/ckpt/MANIFEST", 100);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "manifest");
  EXPECT_EQ(storage_.Get(dir_ + "/ckpt/MANIFEST", 3).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(storage_.Get(dir_ + "/ckpt", 100).status().code(), StatusCode::kNotFound)
      << "a directory is no object";
  ASSERT_TRUE(storage_.Delete(dir_ + "/ckpt/MANIFEST").ok());
  EXPECT_FALSE(fs::exists(dir_ + "/ckpt/MANIFEST"));
  EXPECT_EQ(storage_.Get(dir_ + "/ckpt/MANIFEST", 100).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(storage_.Delete(dir_ + "/ckpt/MANIFEST").ok()) << "deleting nothing is OK";
}

}  // namespace
}  // namespace ringtrain::storage
