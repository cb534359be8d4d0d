#include "onnx_graph.h"

#include <cstdint>
#include <string>
#include <vector>

#include "onnx_builder.h"
#include "ringtrain/build_info.h"
#include "ringtrain/common/check.h"

namespace ringtrain::exporter {
namespace {

// What IDX pixels are divided by before training (data::LoadIdx: pixel / 255.0f). Div by the
// same float gives the same bits; a Mul by 1/255 would not.
constexpr float kPixelScale = 255.0f;

std::string DocString(const model::ModelConfig& config, const OnnxExportOptions& options,
                      const std::string& input) {
  const std::string n_in = std::to_string(config.input_dim);
  const std::string n_out = std::to_string(config.num_classes);
  std::string doc = "ringtrain model of job '" + options.job_name + "': " + DescribeModel(config) +
                    ".\nInput '" + input + "': float32 [N, " + n_in + "], one example per row. ";
  if (options.input_scaling == InputScaling::kPixels) {
    doc +=
        "Raw pixel values 0..255 (the image's bytes in row-major order, as an IDX file stores "
        "them, converted to float); the graph divides them by 255, as training did.\n";
  } else {
    doc += "The features exactly as the model was trained on them (no scaling in the graph).\n";
  }
  doc += "Outputs: 'logits' float32 [N, " + n_out +
         "] (the predicted class is the argmax) and 'probabilities' float32 [N, " + n_out +
         "] (Softmax of the logits over axis 1).";
  return doc;
}

}  // namespace

const char* InputScalingName(InputScaling scaling) {
  switch (scaling) {
    case InputScaling::kPixels:
      return "pixels / 255";
    case InputScaling::kIdentity:
      return "none";
  }
  return "unknown";
}

std::string DescribeModel(const model::ModelConfig& config) {
  std::string out =
      std::string(model::ModelKindName(config.kind)) + " " + std::to_string(config.input_dim);
  for (int width : config.hidden_layers) out += "-" + std::to_string(width);
  return out + "-" + std::to_string(config.num_classes);
}

onnx::ModelProto BuildOnnxModel(const model::ModelConfig& config, const model::Model& layout,
                                std::span<const float> params, const OnnxExportOptions& options) {
  RT_CHECK(static_cast<int64_t>(params.size()) == layout.num_params());
  const bool pixels = options.input_scaling == InputScaling::kPixels;
  const std::string input = pixels ? kOnnxPixelsInput : kOnnxFeaturesInput;

  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);  // 8 in ONNX 1.12
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  model.set_producer_name("ringtrain");
  model.set_producer_version(Version());
  model.set_domain("io.ringtrain");
  model.set_model_version(1);
  model.set_doc_string(DocString(config, options, input));
  SetMetadata("ringtrain.job", options.job_name, &model);
  SetMetadata("ringtrain.model", DescribeModel(config), &model);
  SetMetadata("ringtrain.input_scaling", InputScalingName(options.input_scaling), &model);

  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name(options.job_name);
  onnx::ValueInfoProto* in = graph->add_input();
  in->set_name(input);
  SetBatchType(onnx::TensorProto::FLOAT, {config.input_dim}, in);

  std::string x = input;
  if (pixels) {
    AddInitializer("pixel_scale", {}, &kPixelScale, 1, graph);
    AddNode("scale_pixels", "Div", {x, "pixel_scale"}, "features", graph);
    x = "features";
  }
  // The tensors come in pairs, fc<i>.weight [in, out] and fc<i>.bias [out] (model/mlp.h,
  // model/softmax.h); Gemm computes x * weight + bias with the weight as stored (transB 0).
  const std::vector<model::TensorInfo>& tensors = layout.tensors();
  RT_CHECK(tensors.size() % 2 == 0);
  const size_t layers = tensors.size() / 2;
  for (size_t i = 0; i < layers; ++i) {
    const model::TensorInfo& w = tensors[2 * i];
    const model::TensorInfo& b = tensors[2 * i + 1];
    RT_CHECK(w.shape.size() == 2 && b.shape.size() == 1 && w.shape[1] == b.shape[0]);
    AddInitializer(w.name, w.shape, params.data() + w.offset, w.size, graph);
    AddInitializer(b.name, b.shape, params.data() + b.offset, b.size, graph);
    const std::string prefix = "fc" + std::to_string(i);
    const bool last = i + 1 == layers;
    const std::string out = last ? std::string(kOnnxLogitsOutput) : prefix + ".linear";
    AddNode(prefix + ".gemm", "Gemm", {x, w.name, b.name}, out, graph);
    x = out;
    if (!last) {
      AddNode(prefix + ".relu", "Relu", {x}, prefix + ".relu", graph);
      x = prefix + ".relu";
    }
  }
  onnx::NodeProto* softmax =
      AddNode("softmax", "Softmax", {kOnnxLogitsOutput}, kOnnxProbabilitiesOutput, graph);
  AddIntAttribute("axis", 1, softmax);

  for (const char* name : {kOnnxLogitsOutput, kOnnxProbabilitiesOutput}) {
    onnx::ValueInfoProto* out = graph->add_output();
    out->set_name(name);
    SetBatchType(onnx::TensorProto::FLOAT, {config.num_classes}, out);
  }
  return model;
}

}  // namespace ringtrain::exporter
