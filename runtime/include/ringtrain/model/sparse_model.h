// SparseModel: a click-through model over hashed sparse features (data/sparse_batch.h), whose
// per-key parameters live in one sparse table on the parameter servers and whose few dense
// parameters (a bias, a network's weights) live in the flat vector as a Model's do.
//
// Each key's row in the table holds row_dim() floats: the key's linear weight, followed by its
// embedding for the models that have one (kFm, kDeepFm: row = [w, v_1 .. v_k]). A step works on the
// batch's distinct keys only (BatchKeys: ascending, what the worker pulls), their rows laid out
// in that order, keys.size() x row_dim() floats.
//
// Every model predicts p(y = 1) = sigmoid(z) with a logit z per row, and LossAndGradient returns
// the mean binary cross-entropy (log-loss) over the batch's rows with its gradient:
//   kLogistic: z = b + sum_e w_key(e) x_e
//   kFm:       z = b + sum_e w_key(e) x_e
//                  + 1/2 sum_f [ (sum_e v_key(e),f x_e)^2 - sum_e v_key(e),f^2 x_e^2 ]
//              (Rendle 2010, the O(k n) form; e runs over the row's entries, x_e its value)
//   kDeepFm:   z = the kFm logit + MLP(e_0, ..., e_{F-1})          (DeepFM, Guo et al. 2017)
//              where e_f = sum over the row's entries of field f of v_key(e) x_e (k floats: the
//              field's embedding, pooled by the values: a single categorical value's own
//              embedding, a multi-valued field's mean or sum), F = num_fields; the MLP (an
//              MlpTower, mlp_tower.h) has hidden_layers ReLU layers and one linear output. The
//              embeddings are the FM's: both parts train them. An entry's field must be below
//              num_fields (LibSVM data has field 0 only: num_fields 1, the row's pooled sum).
// Dense parameters: "bias" b [1], starting at 0; kDeepFm then its tower's "deep.fc<i>.weight"
// and "deep.fc<i>.bias".
//
// Ownership: MakeSparseModel returns a unique_ptr owned by the caller; buffers are borrowed for
// the call. Thread-safety: one instance per thread (scratch buffers).
// Errors: MakeSparseModel / ValidateSparseModelConfig return InvalidArgument naming the field;
// other methods have REQUIREs.
#ifndef RINGTRAIN_MODEL_SPARSE_MODEL_H_
#define RINGTRAIN_MODEL_SPARSE_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/data/sparse_batch.h"
#include "ringtrain/model/model.h"

namespace ringtrain::model {

// The distinct keys of a batch, ascending, and for every entry the index of its key among them.
struct BatchKeys {
  std::vector<uint64_t> keys;
  std::vector<uint32_t> slot;  // per entry of the batch
};

// Fills *out from `batch` (sorting the keys once). REQUIRES: out != nullptr.
void IndexKeys(const data::SparseBatch& batch, BatchKeys* out);

enum class SparseModelKind { kLogistic, kFm, kDeepFm };

struct SparseModelConfig {
  SparseModelKind kind = SparseModelKind::kLogistic;
  int embedding_size = 0;            // kFm, kDeepFm: k in [1, 1024]; kLogistic: 0
  std::vector<int> hidden_layers{};  // kDeepFm: 1..16 layers of 1..65536 units; else empty
  int num_fields = 1;                // kDeepFm: 1..255 fields; else 1
};

// Returns "logistic", "fm" or "deepfm".
const char* SparseModelKindName(SparseModelKind kind);

Status ValidateSparseModelConfig(const SparseModelConfig& config);

class SparseModel {
 public:
  SparseModel() = default;
  SparseModel(const SparseModel&) = delete;
  SparseModel& operator=(const SparseModel&) = delete;
  virtual ~SparseModel() = default;

  // Floats per key in the sparse table.
  virtual int row_dim() const = 0;
  // The dense tensors (contiguous from offset 0) and their total size.
  virtual const std::vector<TensorInfo>& dense_tensors() const = 0;
  virtual int64_t num_dense() const = 0;
  // Writes the initial dense parameters (a function of `seed` only).
  virtual void InitializeDense(uint64_t seed, float* dense) const = 0;

  // Writes each row's logit into *logits (resized to batch.rows()).
  // REQUIRES: dense has num_dense() floats; rows has keys.keys.size() x row_dim() floats;
  //           keys == IndexKeys(batch).
  virtual void Logits(const float* dense, std::span<const float> rows,
                      const data::SparseBatch& batch, const BatchKeys& keys,
                      std::vector<float>* logits) = 0;

  // Returns the mean log-loss over the batch's rows and writes its gradient with respect to the
  // dense parameters (num_dense() floats) and to the rows (keys.keys.size() x row_dim()), both
  // overwritten. A batch of 0 rows returns 0 with zero gradients.
  // REQUIRES: as for Logits; the gradient buffers do not overlap the parameters.
  virtual double LossAndGradient(const float* dense, std::span<const float> rows,
                                 const data::SparseBatch& batch, const BatchKeys& keys,
                                 float* dense_grad, std::span<float> row_grad) = 0;
};

StatusOr<std::unique_ptr<SparseModel>> MakeSparseModel(const SparseModelConfig& config);

// The log-loss of a logit z for label y in {0, 1}: log(1 + e^-z) for y = 1, log(1 + e^z) for
// y = 0, computed without overflow.
double LogLoss(float z, float y);

}  // namespace ringtrain::model

#endif  // RINGTRAIN_MODEL_SPARSE_MODEL_H_
