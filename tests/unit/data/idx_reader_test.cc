#include "ringtrain/data/idx_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringtrain::data {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

void PutU32(Bytes* b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b->push_back(static_cast<uint8_t>(v >> s));
}

Bytes ImagesFile(uint32_t n, uint32_t rows, uint32_t cols, uint32_t magic = kIdxImagesMagic) {
  Bytes b;
  PutU32(&b, magic);
  PutU32(&b, n);
  PutU32(&b, rows);
  PutU32(&b, cols);
  for (uint32_t i = 0; i < n * rows * cols; ++i) b.push_back(static_cast<uint8_t>(i * 37 % 256));
  return b;
}

Bytes LabelsFile(const Bytes& labels, uint32_t magic = kIdxLabelsMagic) {
  Bytes b;
  PutU32(&b, magic);
  PutU32(&b, static_cast<uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

class IdxReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ringtrain_idx_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteRaw(const std::string& name, const Bytes& b) {
    const std::string path = (dir_ / name).string();
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    EXPECT_TRUE(out.good()) << path;
    return path;
  }

  std::string WriteGz(const std::string& name, const Bytes& b) {
    const std::string path = (dir_ / name).string();
    gzFile f = gzopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr) << path;
    EXPECT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
    EXPECT_EQ(gzclose(f), Z_OK);
    return path;
  }

  Bytes ReadRaw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // Loads and expects an error of `code` whose message contains `path` and `text`.
  void ExpectError(const std::string& images, const std::string& labels, StatusCode code,
                   const std::string& path, const std::string& text, int num_classes = 10) {
    StatusOr<Dataset> d = LoadIdx(images, labels, num_classes);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), code) << d.status().ToString();
    EXPECT_THAT(d.status().message(), AllOf(HasSubstr(path), HasSubstr(text)));
  }

  fs::path dir_;
};

TEST_F(IdxReaderTest, ReadsGzipAndRaw) {
  const Bytes images = ImagesFile(3, 2, 3);
  const Bytes labels = LabelsFile({9, 0, 4});
  for (bool gz_images : {false, true}) {
    for (bool gz_labels : {false, true}) {
      const std::string ip = gz_images ? WriteGz("i.gz", images) : WriteRaw("i", images);
      const std::string lp = gz_labels ? WriteGz("l.gz", labels) : WriteRaw("l", labels);
      StatusOr<Dataset> d = LoadIdx(ip, lp);
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      EXPECT_EQ(d->rows(), 3);
      EXPECT_EQ(d->cols(), 6);
      EXPECT_EQ(d->num_classes, 10);
      EXPECT_EQ(d->labels, (std::vector<int32_t>{9, 0, 4}));
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 6; ++j) {
          EXPECT_EQ(d->features(i, j), static_cast<float>(images[16 + i * 6 + j]) / 255.0f);
        }
      }
    }
  }
}

TEST_F(IdxReaderTest, PixelScaleIsExact) {
  Bytes images;
  PutU32(&images, kIdxImagesMagic);
  for (uint32_t v : {1u, 1u, 3u}) PutU32(&images, v);
  images.insert(images.end(), {0, 128, 255});
  StatusOr<Dataset> d = LoadIdx(WriteRaw("i", images), WriteRaw("l", LabelsFile({1})), 2);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->features(0, 0), 0.0f);
  EXPECT_EQ(d->features(0, 1), 128.0f / 255.0f);
  EXPECT_EQ(d->features(0, 2), 1.0f);
  EXPECT_EQ(d->num_classes, 2);
}

TEST_F(IdxReaderTest, MissingFilesAndDirectories) {
  const std::string lp = WriteRaw("l", LabelsFile({1}));
  const std::string ip = WriteRaw("i", ImagesFile(1, 2, 2));
  const std::string missing = (dir_ / "nope.gz").string();
  ExpectError(missing, lp, StatusCode::kNotFound, missing, "no such file");
  ExpectError(ip, missing, StatusCode::kNotFound, missing, "no such file");
  ExpectError(dir_.string(), lp, StatusCode::kInvalidArgument, dir_.string(), "directory");
}

// Regression: gzopen on a FIFO without a writer blocked forever.
TEST_F(IdxReaderTest, FifoIsRefusedWithoutWaitingForAWriter) {
  const std::string fifo = (dir_ / "images.fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::future<StatusOr<IdxImagesShape>> shape =
      std::async(std::launch::async, [&] { return ReadIdxImagesShape(fifo); });
  if (shape.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    const int fd = ::open(fifo.c_str(), O_WRONLY);  // unblock the reader, then fail
    if (fd >= 0) ::close(fd);
    FAIL() << "ReadIdxImagesShape waited for a writer on a FIFO";
  }
  StatusOr<IdxImagesShape> result = shape.get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr(fifo + ": is a FIFO (named pipe)"));
  const std::string lp = WriteRaw("l", LabelsFile({1}));
  ExpectError("/dev/zero", lp, StatusCode::kInvalidArgument, "/dev/zero", "character device");
}

// The case: a 116-byte file whose header declares 60000 images of 8192x8192 pixels sized
// a model of 67M inputs, and every server died of bad_alloc. The header is now checked against
// the file before anything is sized from it.
TEST_F(IdxReaderTest, HeaderAnnouncingMoreThanTheFileCanHoldIsRefusedUpFront) {
  Bytes lying;
  PutU32(&lying, kIdxImagesMagic);
  for (uint32_t v : {60000u, 8192u, 8192u}) PutU32(&lying, v);
  lying.resize(116, 7);
  const std::string raw = WriteRaw("lying", lying);
  StatusOr<IdxImagesShape> shape = ReadIdxImagesShape(raw);
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(shape.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(shape.status().message(),
              HasSubstr(raw + ": truncated: the header announces 60000 images of 8192x8192 "
                              "pixels = 4026531840000 payload bytes, the file holds 100"));
  const std::string gz = WriteGz("lying.gz", lying);
  shape = ReadIdxImagesShape(gz);
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(shape.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(shape.status().message(),
              HasSubstr("more than a gzip file of " + std::to_string(fs::file_size(gz)) +
                        " bytes can hold (deflate expands at most 1032:1)"));
  const std::string lp = WriteRaw("l", LabelsFile({1}));
  ExpectError(gz, lp, StatusCode::kDataLoss, gz, "more than a gzip file");
  // Highly compressible but honest data still loads: 4 MB of zero pixels in a small gzip file.
  const std::string zeros = WriteGz("zeros.gz", ImagesFile(64, 256, 256));
  EXPECT_TRUE(ReadIdxImagesShape(zeros).ok());
}

TEST_F(IdxReaderTest, BadMagic) {
  const std::string ip = WriteRaw("i", ImagesFile(1, 2, 2));
  const std::string lp = WriteRaw("l", LabelsFile({1}));
  // Swapped arguments: each file is named with what it really is.
  ExpectError(lp, ip, StatusCode::kInvalidArgument, lp,
              "bad magic 0x00000801, expected 0x00000803 for IDX images (uint8, 3-D) (this is an "
              "IDX label file)");
  ExpectError(ip, WriteRaw("i2", ImagesFile(1, 2, 2)), StatusCode::kInvalidArgument,
              (dir_ / "i2").string(), "expected 0x00000801");
  ExpectError(WriteGz("f.gz", ImagesFile(1, 2, 2, 0x00000D03)), lp, StatusCode::kInvalidArgument,
              "f.gz", "bad magic 0x00000d03");
}

TEST_F(IdxReaderTest, TruncatedFiles) {
  const std::string lp = WriteRaw("l", LabelsFile({1, 2, 3}));
  Bytes images = ImagesFile(3, 2, 3);
  images.resize(images.size() - 3);
  ExpectError(WriteRaw("i", images), lp, StatusCode::kDataLoss, (dir_ / "i").string(),
              "truncated: the header announces 3 images of 2x3 pixels = 18 payload bytes, the "
              "file holds 15");
  ExpectError(WriteGz("i.gz", images), lp, StatusCode::kDataLoss, "i.gz", "the file holds 15");
  ExpectError(WriteRaw("h", Bytes{0, 0}), lp, StatusCode::kDataLoss, "h",
              "too short for an IDX header (2 of 4 magic bytes)");
  ExpectError(WriteRaw("d", Bytes{0, 0, 8, 3, 0, 0, 0, 3, 0, 0}), lp, StatusCode::kDataLoss, "d",
              "truncated header: 6 of 12 dimension bytes");
  Bytes labels = LabelsFile({1, 2, 3});
  labels.pop_back();
  ExpectError(WriteRaw("i3", ImagesFile(3, 2, 3)), WriteRaw("l2", labels), StatusCode::kDataLoss,
              "l2", "3 labels = 3 payload bytes, the file holds 2");
}

TEST_F(IdxReaderTest, ShapeComesFromTheHeaderAlone) {
  // The payload is truncated: the shape does not read it.
  Bytes images = ImagesFile(3, 2, 5);
  images.resize(images.size() - 4);
  StatusOr<IdxImagesShape> s = ReadIdxImagesShape(WriteGz("i.gz", images));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->count, 3u);
  EXPECT_EQ(s->rows, 2u);
  EXPECT_EQ(s->cols, 5u);

  StatusOr<IdxImagesShape> labels = ReadIdxImagesShape(WriteRaw("l", LabelsFile({1})));
  EXPECT_EQ(labels.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(labels.status().message(), HasSubstr("(this is an IDX label file)"));
  StatusOr<IdxImagesShape> empty = ReadIdxImagesShape(WriteRaw("e", ImagesFile(0, 2, 2)));
  EXPECT_THAT(empty.status().message(), HasSubstr("announces no images"));
  StatusOr<IdxImagesShape> flat = ReadIdxImagesShape(WriteRaw("z", ImagesFile(1, 0, 2)));
  EXPECT_THAT(flat.status().message(), HasSubstr("0x2 has a zero dimension"));
  EXPECT_EQ(ReadIdxImagesShape((dir_ / "missing").string()).status().code(), StatusCode::kNotFound);
}

TEST_F(IdxReaderTest, TruncatedGzipStream) {
  // A complete IDX payload whose gzip stream is cut: the deflate end and CRC trailer are missing.
  const std::string full = WriteGz("full.gz", ImagesFile(50, 8, 8));
  Bytes gz = ReadRaw(full);
  gz.resize(gz.size() - 6);
  ExpectError(WriteRaw("cut.gz", gz), WriteRaw("l", LabelsFile(Bytes(50, 1))),
              StatusCode::kDataLoss, "cut.gz", "the gzip stream ends prematurely");
}

TEST_F(IdxReaderTest, CorruptGzipStream) {
  const std::string full = WriteGz("full.gz", ImagesFile(50, 8, 8));
  Bytes gz = ReadRaw(full);
  gz[gz.size() - 5] ^= 0xff;  // inside the CRC32 trailer
  ExpectError(WriteRaw("bad.gz", gz), WriteRaw("l", LabelsFile(Bytes(50, 1))),
              StatusCode::kDataLoss, "bad.gz", "corrupt gzip stream");
}

TEST_F(IdxReaderTest, TrailingBytes) {
  Bytes images = ImagesFile(2, 2, 2);
  images.insert(images.end(), {1, 2, 3});
  const std::string lp = WriteRaw("l", LabelsFile({1, 2}));
  ExpectError(WriteRaw("i", images), lp, StatusCode::kDataLoss, (dir_ / "i").string(),
              "3 unexpected trailing bytes after the 8 payload bytes announced by the header");
  ExpectError(WriteGz("i.gz", images), lp, StatusCode::kDataLoss, "i.gz", "3 unexpected");
  Bytes labels = LabelsFile({1, 2});
  labels.push_back(7);
  ExpectError(WriteRaw("i2", ImagesFile(2, 2, 2)), WriteRaw("l2", labels), StatusCode::kDataLoss,
              "l2", "1 unexpected trailing bytes");
}

TEST_F(IdxReaderTest, CountMismatchNamesBothFiles) {
  const std::string ip = WriteRaw("images", ImagesFile(3, 2, 2));
  const std::string lp = WriteRaw("labels", LabelsFile({1, 2}));
  ExpectError(ip, lp, StatusCode::kInvalidArgument, lp,
              "holds 2 labels but " + ip + " holds 3 images");
}

TEST_F(IdxReaderTest, LabelOutOfRangeNamesRecord) {
  const std::string ip = WriteRaw("i", ImagesFile(4, 1, 1));
  const std::string lp = WriteRaw("l", LabelsFile({0, 9, 10, 3}));
  ExpectError(ip, lp, StatusCode::kInvalidArgument, lp,
              "record 2: label 10 is out of range [0, 10)");
  ExpectError(ip, WriteRaw("l2", LabelsFile({0, 1, 2, 3})), StatusCode::kInvalidArgument, "l2",
              "record 3: label 3 is out of range [0, 3)", 3);
  ExpectError(ip, lp, StatusCode::kInvalidArgument, "", "num_classes must be >= 1 (got 0)", 0);
}

TEST_F(IdxReaderTest, ZeroDimensionIsRejectedButZeroImagesAreFine) {
  const std::string lp = WriteRaw("l", LabelsFile({}));
  ExpectError(WriteRaw("i", ImagesFile(0, 0, 28)), lp, StatusCode::kDataLoss, "i",
              "image size 0x28 has a zero dimension");
  StatusOr<Dataset> d = LoadIdx(WriteRaw("e", ImagesFile(0, 28, 28)), lp);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->rows(), 0);
  EXPECT_EQ(d->cols(), 784);
}

TEST(FashionMnistTest, LoadsTheTestSet) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  const std::string images = dir + "t10k-images-idx3-ubyte.gz";
  const std::string labels = dir + "t10k-labels-idx1-ubyte.gz";
  if (!fs::exists(images) || !fs::exists(labels)) GTEST_SKIP() << "Fashion-MNIST not installed";
  StatusOr<Dataset> d = LoadIdx(images, labels);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->rows(), 10000);
  EXPECT_EQ(d->cols(), 784);
  EXPECT_EQ(d->features.minCoeff(), 0.0f);
  EXPECT_EQ(d->features.maxCoeff(), 1.0f);
  std::vector<int> per_class(10);
  for (int32_t l : d->labels) {
    ASSERT_GE(l, 0);
    ASSERT_LT(l, 10);
    per_class[l]++;
  }
  EXPECT_EQ(per_class, std::vector<int>(10, 1000));  // the test set is balanced
  EXPECT_EQ(d->labels[0], 9);                        // the first test image is an ankle boot
}

}  // namespace
}  // namespace ringtrain::data
