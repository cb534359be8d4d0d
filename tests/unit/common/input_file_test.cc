// OpenInputFile: regular files only, and never a wait on what is not one.
#include "ringtrain/common/input_file.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringtrain {
namespace {

using ::testing::HasSubstr;

class InputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("ringtrain_input_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(InputFileTest, OpensARegularFileWithItsSize) {
  const std::string path = (dir_ / "f").string();
  std::ofstream(path) << "hello";
  StatusOr<InputFile> f = OpenInputFile(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->size(), 5u);
  char buf[8] = {};
  EXPECT_EQ(::read(f->fd(), buf, sizeof(buf)), 5);
  EXPECT_STREQ(buf, "hello");
  InputFile moved = std::move(*f);
  EXPECT_EQ(f->fd(), -1);
  EXPECT_GE(moved.fd(), 0);
}

TEST_F(InputFileTest, RefusesWhatIsNotARegularFileWithoutBlocking) {
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  StatusOr<InputFile> f = OpenInputFile(fifo);  // no writer: open(2) alone would block
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(),
            fifo +
                ": is a FIFO (named pipe), not a regular file (it could block or never end; "
                "copy it to a file)");

  f = OpenInputFile("/dev/null");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("/dev/null: is a character device"));

  f = OpenInputFile(dir_.string());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(), dir_.string() + ": is a directory, not a file");

  const std::string sock_path = (dir_ / "sock").string();
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  f = OpenInputFile(sock_path);
  ::close(sock);
  ASSERT_FALSE(f.ok());  // open(2) itself refuses a socket (ENXIO)
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(), sock_path + ": is a socket, not a regular file");

  f = OpenInputFile((dir_ / "absent").string());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(f.status().message(), (dir_ / "absent").string() + ": no such file");
}

}  // namespace
}  // namespace ringtrain
