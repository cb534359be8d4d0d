// Internal to the model area: the factorization machine's terms of one row's logit, shared by
// the FM and the deep CTR model, over table rows [w, v_1 .. v_k] (sparse_model.h):
//   FmRowTerm = sum_e w_e x_e + 1/2 sum_f [ (sum_e v_ef x_e)^2 - sum_e v_ef^2 x_e^2 ]
// (Rendle 2010, the O(k n) form; e runs over the batch row's entries).
//
// Thread-safety: functions of their arguments.
#ifndef RINGTRAIN_SRC_MODEL_FM_TERMS_H_
#define RINGTRAIN_SRC_MODEL_FM_TERMS_H_

#include <cstdint>
#include <span>

#include "ringtrain/data/sparse_batch.h"
#include "ringtrain/model/sparse_model.h"

namespace ringtrain::model::internal {

// Returns the FM term of row r and leaves s_f = sum_e v_ef x_e in sums[0 .. k).
float FmRowTerm(int k, std::span<const float> rows, const data::SparseBatch& batch,
                const BatchKeys& keys, int64_t r, float* sums);

// Adds dz times the FM term's gradient for row r to row_grad; `sums` as FmRowTerm left them.
void FmRowGradient(int k, std::span<const float> rows, const data::SparseBatch& batch,
                   const BatchKeys& keys, int64_t r, float dz, const float* sums,
                   std::span<float> row_grad);

}  // namespace ringtrain::model::internal

#endif  // RINGTRAIN_SRC_MODEL_FM_TERMS_H_
