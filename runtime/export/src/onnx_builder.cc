#include "onnx_builder.h"

#include <bit>
#include <exception>

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

namespace ringtrain::exporter {

// Tensors go into raw_data, which ONNX defines as little-endian.
static_assert(std::endian::native == std::endian::little, "raw_data needs a little-endian host");

void SetBatchType(onnx::TensorProto::DataType type, const std::vector<int64_t>& dims,
                  onnx::ValueInfoProto* value) {
  onnx::TypeProto_Tensor* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(type);
  onnx::TensorShapeProto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

void AddInitializer(const std::string& name, const std::vector<int64_t>& dims, const float* data,
                    int64_t size, onnx::GraphProto* graph) {
  onnx::TensorProto* t = graph->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(data, static_cast<size_t>(size) * sizeof(float));
}

void AddInt64Initializer(const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<int64_t>& values, onnx::GraphProto* graph) {
  onnx::TensorProto* t = graph->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(values.data(), values.size() * sizeof(int64_t));
}

onnx::NodeProto* AddNode(const std::string& name, const std::string& op,
                         const std::vector<std::string>& inputs, const std::string& output,
                         onnx::GraphProto* graph) {
  onnx::NodeProto* node = graph->add_node();
  node->set_name(name);
  node->set_op_type(op);
  for (const std::string& in : inputs) node->add_input(in);
  node->add_output(output);
  return node;
}

void AddIntAttribute(const std::string& name, int64_t value, onnx::NodeProto* node) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void SetMetadata(const std::string& key, const std::string& value, onnx::ModelProto* model) {
  onnx::StringStringEntryProto* entry = model->add_metadata_props();
  entry->set_key(key);
  entry->set_value(value);
}

Status CheckOnnxModel(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type_val=*/true,
                                                                   /*strict_mode_val=*/1));
  } catch (const std::exception& e) {
    return Internal(std::string("the ONNX checker rejects the exported model: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace ringtrain::exporter
