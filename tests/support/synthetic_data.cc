#include "synthetic_data.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "ringtrain/common/random.h"

namespace ringtrain::testing {

namespace {

void PutBigEndian32(std::vector<unsigned char>& out, uint32_t v) {
  out.push_back(static_cast<unsigned char>(v >> 24));
  out.push_back(static_cast<unsigned char>(v >> 16));
  out.push_back(static_cast<unsigned char>(v >> 8));
  out.push_back(static_cast<unsigned char>(v));
}

bool WriteGz(const std::string& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const int n = gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  return gzclose(f) == Z_OK && n == static_cast<int>(bytes.size());
}

}  // namespace

data::Dataset MakeSyntheticImages(int64_t rows, int side, int num_classes, uint64_t seed) {
  const int dim = side * side;
  data::Dataset d;
  d.num_classes = num_classes;
  d.features.resize(rows, dim);
  d.labels.resize(static_cast<size_t>(rows));
  SplitMix64 rng(seed);
  for (int64_t r = 0; r < rows; ++r) {
    const int label = static_cast<int>(rng.Below(static_cast<uint64_t>(num_classes)));
    d.labels[static_cast<size_t>(r)] = label;
    for (int j = 0; j < dim; ++j) {
      const bool lit = (j * num_classes / dim) == label;
      const float v = (lit ? 0.6f : 0.1f) + 0.4f * rng.NextFloat();
      d.features(r, j) = std::min(1.0f, v);
    }
  }
  return d;
}

bool WriteIdx(const data::Dataset& d, int side, const std::string& images_path,
              const std::string& labels_path) {
  std::vector<unsigned char> images;
  PutBigEndian32(images, 0x00000803);
  PutBigEndian32(images, static_cast<uint32_t>(d.rows()));
  PutBigEndian32(images, static_cast<uint32_t>(side));
  PutBigEndian32(images, static_cast<uint32_t>(side));
  for (int64_t r = 0; r < d.rows(); ++r) {
    for (int64_t j = 0; j < d.cols(); ++j) {
      images.push_back(static_cast<unsigned char>(std::lround(d.features(r, j) * 255.0f)));
    }
  }
  std::vector<unsigned char> labels;
  PutBigEndian32(labels, 0x00000801);
  PutBigEndian32(labels, static_cast<uint32_t>(d.rows()));
  for (int32_t l : d.labels) labels.push_back(static_cast<unsigned char>(l));
  return WriteGz(images_path, images) && WriteGz(labels_path, labels);
}

std::string ToLibsvm(const data::Dataset& d, int64_t first, int64_t count, int index_base) {
  std::string out;
  char value[32];
  for (int64_t r = first; r < std::min(d.rows(), first + count); ++r) {
    out += std::to_string(d.labels[static_cast<size_t>(r)]);
    for (int64_t j = 0; j < d.cols(); ++j) {
      if (d.features(r, j) == 0.0f) continue;
      std::snprintf(value, sizeof value, "%.6g", static_cast<double>(d.features(r, j)));
      out += " " + std::to_string(j + index_base) + ":" + value;
    }
    out += "\n";
  }
  return out;
}

std::string ToCsv(const data::Dataset& d) {
  std::string out = "label";
  for (int64_t j = 0; j < d.cols(); ++j) out += ",f" + std::to_string(j);
  out += "\n";
  char value[32];
  for (int64_t r = 0; r < d.rows(); ++r) {
    out += std::to_string(d.labels[static_cast<size_t>(r)]);
    for (int64_t j = 0; j < d.cols(); ++j) {
      std::snprintf(value, sizeof value, ",%.6g", static_cast<double>(d.features(r, j)));
      out += value;
    }
    out += "\n";
  }
  return out;
}

bool WriteGzipText(const std::string& path, const std::string& text) {
  return WriteGz(path, std::vector<unsigned char>(text.begin(), text.end()));
}

}  // namespace ringtrain::testing
