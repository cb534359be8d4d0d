// WriteOnnxFile: the file holds exactly ExportOnnx's bytes, replaces an older file whole, and on
// any error leaves nothing behind (no temporary file, the old file unchanged).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <onnx/checker.h>

#include "ringtrain/export/onnx.h"

namespace ringtrain::exporter {
namespace {

namespace fs = std::filesystem;

const model::ModelConfig kSoftmax{model::ModelKind::kSoftmax, {}, 6, 3};
const OnnxExportOptions kOptions{"files", InputScaling::kPixels};

class OnnxFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ringtrain-onnx-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    return names;
  }

  fs::path dir_;
  std::vector<float> params_ = std::vector<float>(6 * 3 + 3, 0.5f);
};

TEST_F(OnnxFileTest, WritesExactlyTheExportedBytes) {
  const fs::path path = dir_ / "model.onnx";
  ASSERT_TRUE(WriteOnnxFile(path, kSoftmax, params_, kOptions).ok());
  auto bytes = ExportOnnx(kSoftmax, params_, kOptions);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(Read(path), *bytes);
  EXPECT_EQ(Entries(), std::vector<std::string>{"model.onnx"});
  EXPECT_NO_THROW(onnx::checker::check_model(path.string()));
  // Readable by others, as the umask allows (not mkstemp's 0600).
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);
}

TEST_F(OnnxFileTest, ReplacesAnOlderFileWhole) {
  const fs::path path = dir_ / "model.onnx";
  { std::ofstream(path) << std::string(100000, 'x'); }
  ASSERT_TRUE(WriteOnnxFile(path, kSoftmax, params_, kOptions).ok());
  EXPECT_EQ(Read(path), *ExportOnnx(kSoftmax, params_, kOptions));
  EXPECT_EQ(Entries(), std::vector<std::string>{"model.onnx"});
}

TEST_F(OnnxFileTest, BadInputLeavesTheOldFileAndNothingElse) {
  const fs::path path = dir_ / "model.onnx";
  { std::ofstream(path) << "old"; }
  params_.pop_back();
  const Status s = WriteOnnxFile(path, kSoftmax, params_, kOptions);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(Read(path), "old");
  EXPECT_EQ(Entries(), std::vector<std::string>{"model.onnx"});
}

TEST_F(OnnxFileTest, AMissingDirectoryIsNotFoundNamingThePath) {
  const fs::path path = dir_ / "no-such-dir" / "model.onnx";
  const Status s = WriteOnnxFile(path, kSoftmax, params_, kOptions);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find(path.string()), std::string::npos) << s.message();
}

TEST_F(OnnxFileTest, ADirectoryInTheWayFailsAndLeavesNoTemporaryFile) {
  const fs::path path = dir_ / "model.onnx";
  fs::create_directories(path / "inside");  // rename cannot replace a non-empty directory
  const Status s = WriteOnnxFile(path, kSoftmax, params_, kOptions);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path.string()), std::string::npos) << s.message();
  EXPECT_EQ(Entries(), std::vector<std::string>{"model.onnx"});
  EXPECT_TRUE(fs::is_directory(path / "inside"));
}

}  // namespace
}  // namespace ringtrain::exporter
