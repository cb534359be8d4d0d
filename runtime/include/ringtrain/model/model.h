// Model: a differentiable classifier whose parameters live in one flat float32 vector.
//
// A Model does not own its parameters: every call takes a pointer to the flat vector
// (num_params() floats) whose layout tensors() describes. This lets the parameter server, the
// worker and the tests keep parameters wherever suits them (pulled buffers, partitions) and
// lets Eigen map them in place.
//
// Ownership: MakeModel returns a std::unique_ptr owned by the caller. Buffers passed to the
// methods are borrowed for the duration of the call only.
//
// Thread-safety: a Model keeps scratch buffers, so one instance must not be used by two
// threads at once; create one per thread. Const methods are safe to call concurrently.
//
// Errors: MakeModel/ValidateModelConfig return InvalidArgument for bad configurations. The
// other methods have preconditions (REQUIRES) whose violation aborts via RT_CHECK.
#ifndef RINGTRAIN_MODEL_MODEL_H_
#define RINGTRAIN_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/data/matrix.h"

namespace ringtrain::model {

// One named tensor inside the flat parameter vector: floats [offset, offset + size), stored
// row-major with the given shape (size == product of shape).
struct TensorInfo {
  std::string name;  // e.g. "fc0.weight", "fc0.bias"
  std::vector<int64_t> shape;
  int64_t offset = 0;
  int64_t size = 0;
};

// Totals over a set of rows, for evaluation. Mean loss = loss_sum / count.
struct EvalResult {
  double loss_sum = 0;  // sum of per-row softmax cross-entropy losses
  int64_t correct = 0;  // rows whose argmax logit (lowest index on ties) equals the label
  int64_t count = 0;    // rows evaluated
};

class Model {
 public:
  Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  virtual ~Model() = default;

  // The tensors in order; they are contiguous, start at offset 0 and cover num_params() floats.
  virtual const std::vector<TensorInfo>& tensors() const = 0;
  virtual int64_t num_params() const = 0;
  virtual int input_dim() const = 0;
  virtual int num_classes() const = 0;

  // Writes initial parameters into params (num_params() floats) as a deterministic function of
  // `seed` alone: the same seed gives the same bits on every process and platform. Weights are
  // uniform (He limit sqrt(6/fan_in) for layers followed by ReLU, Glorot limit
  // sqrt(6/(fan_in+fan_out)) for the layer that produces logits); biases are 0.
  // REQUIRES: params points to num_params() writable floats.
  virtual void Initialize(uint64_t seed, float* params) const = 0;

  // Returns the mean softmax cross-entropy over the rows of `batch` and writes the gradient of
  // that mean with respect to every parameter into grad (num_params() floats, all of them
  // overwritten). A batch with 0 rows returns 0 and writes zeros.
  // REQUIRES: params and grad point to num_params() floats and do not overlap;
  //           batch.x.cols() == input_dim(); every label is in [0, num_classes()).
  virtual double LossAndGradient(const float* params, const BatchView& batch, float* grad) = 0;

  // Returns the loss sum, the number of correct predictions and the row count over `batch`.
  // Processes the rows in chunks so that scratch memory stays bounded for large batches.
  // REQUIRES: as for LossAndGradient.
  virtual EvalResult Evaluate(const float* params, const BatchView& batch) = 0;

  // Writes the logits of every row of `x` into *logits (resized to x.rows() x num_classes()):
  // what Evaluate compares with the labels, for callers that want the predictions themselves
  // (checks of an exported model, serving). Processes the rows in chunks, as Evaluate does.
  // REQUIRES: params points to num_params() floats; logits != nullptr;
  //           x.cols() == input_dim() or x.rows() == 0.
  virtual void Logits(const float* params, const Eigen::Ref<const RowMatrixXf>& x,
                      RowMatrixXf* logits) = 0;
};

enum class ModelKind { kSoftmax, kMlp };

struct ModelConfig {
  ModelKind kind = ModelKind::kSoftmax;
  std::vector<int> hidden_layers;  // widths of hidden ReLU layers; empty for kSoftmax
  int input_dim = 0;
  int num_classes = 0;
};

// Returns "softmax" or "mlp".
const char* ModelKindName(ModelKind kind);

// Returns OK if MakeModel(config) would succeed, else InvalidArgument naming the bad field,
// e.g. "hidden_layers[1]: must be >= 1 (got 0)".
Status ValidateModelConfig(const ModelConfig& config);

// Builds the model described by `config`: kSoftmax -> SoftmaxModel, kMlp -> MlpModel.
StatusOr<std::unique_ptr<Model>> MakeModel(const ModelConfig& config);

}  // namespace ringtrain::model

#endif  // RINGTRAIN_MODEL_MODEL_H_
