// ONNX export: a trained model as an ONNX file that any ONNX runtime can serve.
//
// ExportOnnx turns a model's description (model::ModelConfig: kind, input size, hidden layers,
// classes) and its flat parameter vector (the layout model::MakeModel(config)->tensors()
// describes) into a serialized onnx.ModelProto, built with Debian's ONNX library (libonnx-dev,
// ONNX 1.12) and accepted by onnx::checker::check_model and strict shape inference before it
// is returned. The graph (opset kOnnxOpset, IR version 8):
//
//   pixels  float32 [N, input_dim]   raw pixel values 0..255, one image per row (row-major),
//                                    exactly the bytes of an IDX image file as floats
//     │ Div(·, 255)                  what data::LoadIdx does before training (kPixels only)
//     ▼
//   features ─► Gemm(fc0.weight, fc0.bias) ─► Relu ─► ... ─► Gemm(fcL.weight, fcL.bias)
//     ─► logits         float32 [N, num_classes]  (argmax = predicted class)
//     ─► Softmax(axis 1) ─► probabilities  float32 [N, num_classes]
//
// softmax models are one Gemm; mlp models a Gemm + Relu per hidden layer, then the output
// Gemm. The initializers carry the tensors' names ("fc0.weight" [in, out], "fc0.bias" [out]),
// so the file's weights can be traced back to the parameter vector. N is symbolic ("N"): any
// batch size. With InputScaling::kIdentity the input is named "features" and fed as training
// saw it (no Div). The model records producer "ringtrain" and its version, the job's name
// (graph name and metadata "ringtrain.job"), the model ("ringtrain.model", e.g. "mlp
// 784-256-10"), the input scaling ("ringtrain.input_scaling") and a doc string that says all
// of the above.
//
// Errors (values, never exceptions: ONNX's and protobuf's are caught here):
//   InvalidArgument  a bad model description (ValidateModelConfig's message, prefixed
//                    "model: "), a parameter vector of the wrong size (both sizes named), a
//                    non-finite parameter (its tensor and index named), an empty job name;
//   Unimplemented    a model whose weights exceed what one protobuf message holds (2 GiB: ONNX
//                    external data is not supported);
//   Internal         the ONNX checker or shape inference rejected the graph (a bug here);
//   WriteOnnxFile also returns the file system's errors (NotFound for a missing directory,
//   PermissionDenied, FailedPrecondition), each naming the path.
//
// Thread-safety: free functions of their arguments; safe to call from several threads.
#ifndef RINGTRAIN_EXPORT_ONNX_H_
#define RINGTRAIN_EXPORT_ONNX_H_

#include <cstdint>
#include <span>
#include <string>

#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/model/model.h"

namespace ringtrain::exporter {

// The graph's interface, for callers that feed it.
inline constexpr char kOnnxPixelsInput[] = "pixels";      // InputScaling::kPixels
inline constexpr char kOnnxFeaturesInput[] = "features";  // InputScaling::kIdentity
inline constexpr char kOnnxLogitsOutput[] = "logits";
inline constexpr char kOnnxProbabilitiesOutput[] = "probabilities";
inline constexpr int64_t kOnnxOpset = 13;  // the default ("ai.onnx") domain

// What the graph does to its input before the first layer.
enum class InputScaling {
  kPixels,    // input "pixels": raw values 0..255; the graph divides by 255 (as data::LoadIdx)
  kIdentity,  // input "features": the features exactly as the model was trained on them
};

// The scaling under which the graph takes what files of `format` store: kPixels for IDX.
InputScaling InputScalingFor(job::DataFormat format);

struct OnnxExportOptions {
  std::string job_name;  // required: the graph's name and metadata "ringtrain.job"
  InputScaling input_scaling = InputScaling::kPixels;
};

// The options for `job`: its name and the scaling of its dataset's format.
OnnxExportOptions OnnxOptionsFor(const job::TrainingJob& job);

// Returns the serialized ONNX model of `model` with parameters `params` (the flat vector,
// model::MakeModel(model)->num_params() floats, copied into the file bit for bit).
StatusOr<std::string> ExportOnnx(const model::ModelConfig& model, std::span<const float> params,
                                 const OnnxExportOptions& options);

// ExportOnnx, written to `path` atomically: into a temporary file beside it, flushed to disk
// (fsync), then renamed over `path` and the directory synced, so a reader sees the old file
// or the whole new one, never a part. On error nothing is left behind and `path` is unchanged.
Status WriteOnnxFile(const std::string& path, const model::ModelConfig& model,
                     std::span<const float> params, const OnnxExportOptions& options);

}  // namespace ringtrain::exporter

#endif  // RINGTRAIN_EXPORT_ONNX_H_
