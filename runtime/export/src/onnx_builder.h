// Small helpers for building ONNX graphs with ONNX's protobuf classes, shared by the dense and
// the sparse exports (onnx_graph.h, sparse_onnx_graph.h), and the check every export passes.
//
// Thread-safety: pure functions of their arguments.
#ifndef RINGTRAIN_EXPORT_SRC_ONNX_BUILDER_H_
#define RINGTRAIN_EXPORT_SRC_ONNX_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "ringtrain/common/status.h"

namespace ringtrain::exporter {

// A float32 tensor type of shape [N, dims...] with a symbolic batch dimension "N".
void SetBatchType(onnx::TensorProto::DataType type, const std::vector<int64_t>& dims,
                  onnx::ValueInfoProto* value);

// A float32 initializer of `dims` from `size` floats at `data` (raw_data, little-endian).
void AddInitializer(const std::string& name, const std::vector<int64_t>& dims, const float* data,
                    int64_t size, onnx::GraphProto* graph);
// An int64 initializer of `dims` (a constant such as axes or a shape).
void AddInt64Initializer(const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<int64_t>& values, onnx::GraphProto* graph);

onnx::NodeProto* AddNode(const std::string& name, const std::string& op,
                         const std::vector<std::string>& inputs, const std::string& output,
                         onnx::GraphProto* graph);
void AddIntAttribute(const std::string& name, int64_t value, onnx::NodeProto* node);

void SetMetadata(const std::string& key, const std::string& value, onnx::ModelProto* model);

// What ONNX's own tools would say of the model (python's onnx.checker.check_model(m,
// full_check=True)): the checker, then shape inference in strict mode, which also fails when
// the inferred output shapes contradict the declared ones. Internal naming the problem.
Status CheckOnnxModel(const onnx::ModelProto& model);

}  // namespace ringtrain::exporter

#endif  // RINGTRAIN_EXPORT_SRC_ONNX_BUILDER_H_
