#include "ringtrain/export/onnx.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "atomic_file.h"
#include "onnx_builder.h"
#include "onnx_graph.h"

namespace ringtrain::exporter {
namespace {

// One protobuf message holds at most 2 GiB; keep a margin for the graph around the weights.
constexpr int64_t kMaxInlineParams = (int64_t{1} << 31) / sizeof(float) - (int64_t{1} << 20);

// The first non-finite parameter, named by tensor and index, or OK.
Status CheckFinite(const model::Model& layout, std::span<const float> params) {
  for (const model::TensorInfo& t : layout.tensors()) {
    for (int64_t i = 0; i < t.size; ++i) {
      const float v = params[static_cast<size_t>(t.offset + i)];
      if (!std::isfinite(v)) {
        return InvalidArgument("parameters: " + t.name + "[" + std::to_string(i) + "] is " +
                               (std::isnan(v) ? "NaN" : "infinite") +
                               ": the model diverged; nothing to export");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

InputScaling InputScalingFor(job::DataFormat format) {
  switch (format) {
    case job::DataFormat::kIdx:
      return InputScaling::kPixels;
    case job::DataFormat::kLibsvm:
    case job::DataFormat::kCsv:
    case job::DataFormat::kCriteo:
      return InputScaling::kIdentity;  // the numbers of the file, as trained on
  }
  return InputScaling::kIdentity;
}

OnnxExportOptions OnnxOptionsFor(const job::TrainingJob& job) {
  OnnxExportOptions options;
  options.job_name = job.metadata.name;
  options.input_scaling = InputScalingFor(job.spec.dataset.format);
  return options;
}

StatusOr<std::string> ExportOnnx(const model::ModelConfig& config, std::span<const float> params,
                                 const OnnxExportOptions& options) {
  if (options.job_name.empty()) return InvalidArgument("job_name: must not be empty");
  if (Status s = model::ValidateModelConfig(config); !s.ok()) return s.WithContext("model");
  RT_ASSIGN_OR_RETURN(std::unique_ptr<model::Model> layout, model::MakeModel(config));
  if (static_cast<int64_t>(params.size()) != layout->num_params()) {
    return InvalidArgument("parameters: the " + DescribeModel(config) + " model has " +
                           std::to_string(layout->num_params()) + " parameters, got " +
                           std::to_string(params.size()));
  }
  if (layout->num_params() > kMaxInlineParams) {
    return Unimplemented("the " + DescribeModel(config) + " model has " +
                         std::to_string(layout->num_params()) +
                         " parameters: more than one ONNX file holds without external data (" +
                         std::to_string(kMaxInlineParams) + ")");
  }
  RT_RETURN_IF_ERROR(CheckFinite(*layout, params));

  onnx::ModelProto model = BuildOnnxModel(config, *layout, params, options);
  RT_RETURN_IF_ERROR(CheckOnnxModel(model));
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    return Internal("cannot serialize the ONNX model of " + DescribeModel(config));
  }
  return bytes;
}

Status WriteOnnxFile(const std::string& path, const model::ModelConfig& config,
                     std::span<const float> params, const OnnxExportOptions& options) {
  RT_ASSIGN_OR_RETURN(std::string bytes, ExportOnnx(config, params, options));
  return WriteFileAtomically(path, bytes);
}

}  // namespace ringtrain::exporter
