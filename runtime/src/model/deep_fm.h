// Internal to the model area: the deep CTR model (DeepFM, Guo et al. 2017) behind
// MakeSparseModel's kDeepFm; sparse_model.h has its definition and layout.
//
// Thread-safety: one instance per thread (scratch matrices).
#ifndef RINGTRAIN_SRC_MODEL_DEEP_FM_H_
#define RINGTRAIN_SRC_MODEL_DEEP_FM_H_

#include <memory>
#include <vector>

#include "ringtrain/model/sparse_model.h"

namespace ringtrain::model::internal {

// REQUIRES: a config ValidateSparseModelConfig accepts, of kind kDeepFm.
std::unique_ptr<SparseModel> MakeDeepFm(const SparseModelConfig& config);

}  // namespace ringtrain::model::internal

#endif  // RINGTRAIN_SRC_MODEL_DEEP_FM_H_
