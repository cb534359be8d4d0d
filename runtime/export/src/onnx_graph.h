// The ONNX graph of a dense model (see ringtrain/export/onnx.h for what it computes): the
// part of the export that speaks ONNX's protobuf classes, kept out of the public header so
// that only this library includes ONNX's headers.
//
// Thread-safety: a pure function of its arguments.
#ifndef RINGTRAIN_EXPORT_SRC_ONNX_GRAPH_H_
#define RINGTRAIN_EXPORT_SRC_ONNX_GRAPH_H_

#include <span>
#include <string>

#include <onnx/onnx_pb.h>

#include "ringtrain/export/onnx.h"
#include "ringtrain/model/model.h"

namespace ringtrain::exporter {

// Builds the ModelProto of `model` (whose layout `layout` is: model::MakeModel(config)) with
// parameters `params`.
// REQUIRES: params.size() == layout.num_params(); config validated; options.job_name non-empty.
onnx::ModelProto BuildOnnxModel(const model::ModelConfig& config, const model::Model& layout,
                                std::span<const float> params, const OnnxExportOptions& options);

// "softmax 784-10", "mlp 784-256-128-10": the kind and the width of every layer.
std::string DescribeModel(const model::ModelConfig& config);

// "pixels / 255" or "none".
const char* InputScalingName(InputScaling scaling);

}  // namespace ringtrain::exporter

#endif  // RINGTRAIN_EXPORT_SRC_ONNX_GRAPH_H_
