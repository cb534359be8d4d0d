// Test support: small, learnable, deterministic classification data, in memory or written as
// gzip IDX files (the format ringtrain reads for Fashion-MNIST).
#ifndef RINGTRAIN_TESTS_SUPPORT_SYNTHETIC_DATA_H_
#define RINGTRAIN_TESTS_SUPPORT_SYNTHETIC_DATA_H_

#include <cstdint>
#include <string>

#include "ringtrain/data/dataset.h"

namespace ringtrain::testing {

// `rows` examples of side x side "images" with pixel values in [0, 1]: each class lights a
// different band of pixels, plus noise. Linearly separable enough that a softmax model
// reaches high accuracy in a few epochs.
data::Dataset MakeSyntheticImages(int64_t rows, int side, int num_classes, uint64_t seed);

// Writes `d` as gzip IDX files (pixels quantised to bytes). Returns false on I/O failure.
bool WriteIdx(const data::Dataset& d, int side, const std::string& images_path,
              const std::string& labels_path);

// Rows [first, first + count) of `d` as LibSVM lines ("<label> <index>:<value> ...", zero
// features left out), indices from `index_base`.
std::string ToLibsvm(const data::Dataset& d, int64_t first, int64_t count, int index_base = 1);
// `d` as CSV: a header ("label,f0,f1,...") and one line per row, the label first.
std::string ToCsv(const data::Dataset& d);
// Writes `text` gzip-compressed to `path`. Returns false on I/O failure.
bool WriteGzipText(const std::string& path, const std::string& text);

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_SYNTHETIC_DATA_H_
