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

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_SYNTHETIC_DATA_H_
