// ONNX export of a click-through model (model/sparse_model.h: logistic, fm, deepfm): its sparse
// table (every key that has a row, with its value) and its dense parameters, as one ONNX file
// any ONNX runtime with the ai.onnx.ml domain serves (onnxruntime does).
//
// The graph (opset kOnnxOpset, ai.onnx.ml opset 2, IR version 8), for rows of up to S features
// (pad shorter rows with value 0: a padded entry adds nothing):
//
//   keys    int64   [N, S]  each feature's 64-bit key (the bits of the uint64 key), as training
//                           made it (metadata "ringtrain.keys" says how: the LibSVM index, or
//                           data::FeatureKey of the feature schema in "ringtrain.feature_schema")
//   values  float32 [N, S]  each feature's value (1 for a categorical value, 1/n for one of a
//                           multi-valued field's n, the number for a numeric field; 0 pads)
//   fields  int64   [N, S]  deepfm only: each feature's field, 0 .. num_fields - 1
//
//   keys ─► LabelEncoder (ai.onnx.ml: key -> its row; a key without one -> a row of zeros)
//        ─► Gather(table [rows + 1, row_dim]) ─► per entry [w, v_1..v_k] x value
//   logits = bias + sum w x                                           (logistic)
//          + 1/2 sum_f [(sum v_f x)^2 - sum (v_f x)^2]                 (fm, deepfm)
//          + MLP(per-field sums of v x, fields one after another)    (deepfm: Gemm + Relu ...)
//   ─► logits float32 [N]; Sigmoid ─► probabilities float32 [N] (p(click))
//
// This is SparseModel::Logits exactly, but for keys that have no row: training reads such a key
// as its initial value (small random numbers, ps/sparse_shard.h), the export as zeros (a
// feature never trained adds nothing), as serving systems do.
//
// Errors (values): InvalidArgument for a model that does not validate, dense parameters or
// rows of the wrong size, keys not strictly ascending, a non-finite value (named); Unimplemented
// when the table does not fit in one protobuf message (2 GiB; ONNX external data is not
// supported); Internal when the ONNX checker rejects the graph (a bug here); WriteSparseOnnxFile
// also the file system's errors, naming the path.
//
// Thread-safety: free functions of their arguments.
#ifndef RINGTRAIN_EXPORT_SPARSE_ONNX_H_
#define RINGTRAIN_EXPORT_SPARSE_ONNX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/model/sparse_model.h"

namespace ringtrain::exporter {

inline constexpr char kOnnxKeysInput[] = "keys";
inline constexpr char kOnnxValuesInput[] = "values";
inline constexpr char kOnnxFieldsInput[] = "fields";
inline constexpr int64_t kOnnxMlOpset = 2;  // the "ai.onnx.ml" domain (LabelEncoder)

// A trained click-through model: what the export writes.
struct SparseModelExport {
  model::SparseModelConfig config;
  std::vector<float> dense;    // MakeSparseModel(config)->num_dense() floats
  std::vector<uint64_t> keys;  // every key with a row, strictly ascending
  std::vector<float> rows;     // keys.size() x row_dim(): each key's value (no optimizer state)
};

struct SparseOnnxOptions {
  std::string job_name;  // required: the graph's name and metadata "ringtrain.job"
  // How the keys were made, for "ringtrain.keys", and the feature schema as JSON (the spec's
  // dataset.fields; empty for LibSVM data), for "ringtrain.feature_schema".
  std::string keys;
  std::string feature_schema;
};

// The options for `job`: its name, and how its dataset's features became keys.
SparseOnnxOptions SparseOnnxOptionsFor(const job::TrainingJob& job);

// The serialized ONNX model.
StatusOr<std::string> ExportSparseOnnx(const SparseModelExport& model,
                                       const SparseOnnxOptions& options);

// ExportSparseOnnx, written to `path` atomically (as WriteOnnxFile).
Status WriteSparseOnnxFile(const std::string& path, const SparseModelExport& model,
                           const SparseOnnxOptions& options);

}  // namespace ringtrain::exporter

#endif  // RINGTRAIN_EXPORT_SPARSE_ONNX_H_
