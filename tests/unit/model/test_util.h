// Helpers shared by the model tests: owned batches and a finite-difference gradient check.
#ifndef RINGTRAIN_TESTS_UNIT_MODEL_TEST_UTIL_H_
#define RINGTRAIN_TESTS_UNIT_MODEL_TEST_UTIL_H_

#include <cstdint>
#include <vector>

#include "ringtrain/data/matrix.h"
#include "ringtrain/model/init.h"
#include "ringtrain/model/model.h"

namespace ringtrain::model::testing {

// A batch that owns its storage.
struct OwnedBatch {
  RowMatrixXf x;
  std::vector<int32_t> labels;

  BatchView view() const {
    return BatchView{Eigen::Map<const RowMatrixXf>(x.data(), x.rows(), x.cols()), labels.data()};
  }
};

// Features uniform in [-1, 1), labels uniform in [0, classes), from a fixed seed.
inline OwnedBatch RandomBatch(uint64_t seed, int rows, int dim, int classes) {
  SplitMix64 rng(seed);
  OwnedBatch b;
  b.x.resize(rows, dim);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < dim; ++c) b.x(r, c) = 2.0f * rng.NextFloat() - 1.0f;
    b.labels.push_back(static_cast<int32_t>(rng.Next() % static_cast<uint64_t>(classes)));
  }
  return b;
}

// Initialises a model's parameters and also adds small uniform noise to the biases so that the
// gradient check exercises non-zero biases.
inline std::vector<float> InitParams(const Model& model, uint64_t seed) {
  std::vector<float> p(model.num_params());
  model.Initialize(seed, p.data());
  SplitMix64 rng(seed ^ 0xB1A5);
  for (const TensorInfo& t : model.tensors()) {
    if (t.shape.size() != 1) continue;
    for (int64_t i = 0; i < t.size; ++i) p[t.offset + i] = 0.2f * rng.NextFloat() - 0.1f;
  }
  return p;
}

}  // namespace ringtrain::model::testing

#endif  // RINGTRAIN_TESTS_UNIT_MODEL_TEST_UTIL_H_
