// ExportOnnx: the graph of each model kind (nodes, shapes, initializers, metadata), as ONNX's
// own checker and shape inference see it after a round trip through the bytes, and the errors
// for bad descriptions and parameters.
#include "ringtrain/export/onnx.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "ringtrain/common/check.h"
#include "ringtrain/model/model.h"

namespace ringtrain::exporter {
namespace {

using model::ModelConfig;
using model::ModelKind;

const ModelConfig kSoftmax{ModelKind::kSoftmax, {}, 784, 10};
const ModelConfig kMlp{ModelKind::kMlp, {32, 16}, 784, 10};

// Distinct, exactly representable parameters: params[i] = i / 1024 - 3.
std::vector<float> Params(const ModelConfig& config) {
  auto made = model::MakeModel(config);
  RT_CHECK(made.ok());
  std::vector<float> p(static_cast<size_t>((*made)->num_params()));
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<float>(i % 8192) / 1024.0f - 3.0f;
  return p;
}

OnnxExportOptions Options() { return {"fashion-mnist", InputScaling::kPixels}; }

onnx::ModelProto Parse(const std::string& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

onnx::ModelProto ExportAndParse(const ModelConfig& config, const OnnxExportOptions& options) {
  auto bytes = ExportOnnx(config, Params(config), options);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? Parse(*bytes) : onnx::ModelProto();
}

std::vector<std::string> OpTypes(const onnx::GraphProto& g) {
  std::vector<std::string> ops;
  for (const auto& node : g.node()) ops.push_back(node.op_type());
  return ops;
}

// "N,10" for a [N, 10] tensor type.
std::string Shape(const onnx::ValueInfoProto& v) {
  std::string out;
  for (const auto& d : v.type().tensor_type().shape().dim()) {
    if (!out.empty()) out += ",";
    out += d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value());
  }
  return out;
}

std::string Metadata(const onnx::ModelProto& m, const std::string& key) {
  for (const auto& e : m.metadata_props()) {
    if (e.key() == key) return e.value();
  }
  return "<missing " + key + ">";
}

const onnx::TensorProto* Initializer(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer()) {
    if (t.name() == name) return &t;
  }
  return nullptr;
}

void ExpectChecked(const onnx::ModelProto& m) { EXPECT_NO_THROW(onnx::checker::check_model(m)); }

TEST(ExportOnnxTest, SoftmaxIsScaleGemmSoftmax) {
  const onnx::ModelProto m = ExportAndParse(kSoftmax, Options());
  ExpectChecked(m);
  EXPECT_EQ(OpTypes(m.graph()), (std::vector<std::string>{"Div", "Gemm", "Softmax"}));
  ASSERT_EQ(m.graph().input_size(), 1);
  EXPECT_EQ(m.graph().input(0).name(), kOnnxPixelsInput);
  EXPECT_EQ(Shape(m.graph().input(0)), "N,784");
  ASSERT_EQ(m.graph().output_size(), 2);
  EXPECT_EQ(m.graph().output(0).name(), kOnnxLogitsOutput);
  EXPECT_EQ(m.graph().output(1).name(), kOnnxProbabilitiesOutput);
  EXPECT_EQ(Shape(m.graph().output(0)), "N,10");
  EXPECT_EQ(Shape(m.graph().output(1)), "N,10");
  EXPECT_EQ(m.graph().output(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
}

TEST(ExportOnnxTest, MlpIsGemmAndReluPerHiddenLayerThenGemm) {
  const onnx::ModelProto m = ExportAndParse(kMlp, Options());
  ExpectChecked(m);
  EXPECT_EQ(OpTypes(m.graph()),
            (std::vector<std::string>{"Div", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"}));
  // Each Gemm reads the previous layer's output and its own tensors, weights as stored.
  const auto& nodes = m.graph().node();
  EXPECT_EQ(nodes[1].input(0), "features");
  EXPECT_EQ(nodes[1].input(1), "fc0.weight");
  EXPECT_EQ(nodes[1].input(2), "fc0.bias");
  EXPECT_EQ(nodes[3].input(0), nodes[2].output(0));
  EXPECT_EQ(nodes[5].input(1), "fc2.weight");
  EXPECT_EQ(nodes[5].output(0), kOnnxLogitsOutput);
  EXPECT_EQ(nodes[1].attribute_size(), 0);  // alpha = beta = 1, no transposes
  ASSERT_EQ(nodes[6].attribute_size(), 1);
  EXPECT_EQ(nodes[6].attribute(0).name(), "axis");
  EXPECT_EQ(nodes[6].attribute(0).i(), 1);
}

TEST(ExportOnnxTest, ShapeInferenceGivesEveryLayersShape) {
  onnx::ModelProto m = ExportAndParse(kMlp, Options());
  onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(),
                                     onnx::ShapeInferenceOptions(true, 1));
  std::map<std::string, std::string> shapes;
  for (const auto& v : m.graph().value_info()) shapes[v.name()] = Shape(v);
  EXPECT_EQ(shapes["features"], "N,784");
  EXPECT_EQ(shapes["fc0.relu"], "N,32");
  EXPECT_EQ(shapes["fc1.relu"], "N,16");
}

TEST(ExportOnnxTest, InitializersAreTheParameterVectorBitForBit) {
  for (const ModelConfig& config : {kSoftmax, kMlp}) {
    SCOPED_TRACE(model::ModelKindName(config.kind));
    const std::vector<float> params = Params(config);
    const onnx::ModelProto m = ExportAndParse(config, Options());
    auto layout = model::MakeModel(config);
    ASSERT_TRUE(layout.ok());
    for (const model::TensorInfo& t : (*layout)->tensors()) {
      const onnx::TensorProto* init = Initializer(m.graph(), t.name);
      ASSERT_NE(init, nullptr) << t.name;
      EXPECT_EQ(init->data_type(), onnx::TensorProto::FLOAT);
      EXPECT_EQ(std::vector<int64_t>(init->dims().begin(), init->dims().end()), t.shape);
      ASSERT_EQ(init->raw_data().size(), static_cast<size_t>(t.size) * sizeof(float));
      EXPECT_EQ(
          std::memcmp(init->raw_data().data(), params.data() + t.offset, init->raw_data().size()),
          0)
          << t.name;
    }
    // The pixel divisor is 255 itself, as data::LoadIdx divides.
    const onnx::TensorProto* scale = Initializer(m.graph(), "pixel_scale");
    ASSERT_NE(scale, nullptr);
    float v = 0;
    ASSERT_EQ(scale->raw_data().size(), sizeof v);
    std::memcpy(&v, scale->raw_data().data(), sizeof v);
    EXPECT_EQ(v, 255.0f);
  }
}

TEST(ExportOnnxTest, RecordsProducerVersionsJobAndDocumentation) {
  const onnx::ModelProto m = ExportAndParse(kMlp, Options());
  EXPECT_EQ(m.ir_version(), 8);  // ONNX 1.12
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).domain(), "");
  EXPECT_EQ(m.opset_import(0).version(), kOnnxOpset);
  EXPECT_EQ(m.producer_name(), "ringtrain");
  EXPECT_FALSE(m.producer_version().empty());
  EXPECT_EQ(m.graph().name(), "fashion-mnist");
  EXPECT_EQ(Metadata(m, "ringtrain.job"), "fashion-mnist");
  EXPECT_EQ(Metadata(m, "ringtrain.model"), "mlp 784-32-16-10");
  EXPECT_EQ(Metadata(m, "ringtrain.input_scaling"), "pixels / 255");
  for (const char* fragment : {"'pixels'", "[N, 784]", "0..255", "divides them by 255", "'logits'",
                               "'probabilities'", "Softmax", "argmax"}) {
    EXPECT_NE(m.doc_string().find(fragment), std::string::npos) << fragment << m.doc_string();
  }
}

TEST(ExportOnnxTest, IdentityScalingTakesFeaturesAsTrained) {
  const onnx::ModelProto m = ExportAndParse(kSoftmax, {"csv-job", InputScaling::kIdentity});
  ExpectChecked(m);
  EXPECT_EQ(OpTypes(m.graph()), (std::vector<std::string>{"Gemm", "Softmax"}));
  EXPECT_EQ(m.graph().input(0).name(), kOnnxFeaturesInput);
  EXPECT_EQ(m.graph().node(0).input(0), kOnnxFeaturesInput);
  EXPECT_EQ(Initializer(m.graph(), "pixel_scale"), nullptr);
  EXPECT_EQ(Metadata(m, "ringtrain.input_scaling"), "none");
}

TEST(ExportOnnxTest, OptionsFollowTheJob) {
  job::TrainingJob job;
  job.metadata.name = "my-job";
  job.spec.dataset.format = job::DataFormat::kIdx;
  const OnnxExportOptions options = OnnxOptionsFor(job);
  EXPECT_EQ(options.job_name, "my-job");
  EXPECT_EQ(options.input_scaling, InputScaling::kPixels);
}

TEST(ExportOnnxTest, IsDeterministic) {
  const std::vector<float> params = Params(kMlp);
  auto a = ExportOnnx(kMlp, params, Options());
  auto b = ExportOnnx(kMlp, params, Options());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

void ExpectInvalid(const ModelConfig& config, const std::vector<float>& params,
                   const OnnxExportOptions& options, const std::string& message) {
  auto bytes = ExportOnnx(config, params, options);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bytes.status().message(), message);
}

TEST(ExportOnnxTest, RejectsAParameterVectorOfTheWrongSize) {
  std::vector<float> params = Params(kMlp);
  params.pop_back();
  ExpectInvalid(kMlp, params, Options(),
                "parameters: the mlp 784-32-16-10 model has 25818 parameters, got 25817");
  ExpectInvalid(kSoftmax, Params(kMlp), Options(),
                "parameters: the softmax 784-10 model has 7850 parameters, got 25818");
  ExpectInvalid(kSoftmax, {}, Options(),
                "parameters: the softmax 784-10 model has 7850 parameters, got 0");
}

TEST(ExportOnnxTest, RejectsBadModelDescriptions) {
  ExpectInvalid({ModelKind::kSoftmax, {}, 784, 0}, {}, Options(),
                "model: num_classes: must be >= 2 (got 0)");
  ExpectInvalid({ModelKind::kMlp, {}, 784, 10}, {}, Options(),
                "model: hidden_layers: an mlp model needs at least one hidden layer");
  ExpectInvalid({ModelKind::kMlp, {8, 0}, 784, 10}, {}, Options(),
                "model: hidden_layers[1]: must be >= 1 (got 0)");
  ExpectInvalid({ModelKind::kSoftmax, {}, 0, 10}, {}, Options(),
                "model: input_dim: must be >= 1 (got 0)");
}

TEST(ExportOnnxTest, RejectsNonFiniteParametersNamingThem) {
  std::vector<float> params = Params(kMlp);
  params[784 * 32 + 32 + 5] = std::numeric_limits<float>::quiet_NaN();  // fc1.weight[5]
  ExpectInvalid(kMlp, params, Options(),
                "parameters: fc1.weight[5] is NaN: the model diverged; nothing to export");
  params = Params(kSoftmax);
  params.back() = std::numeric_limits<float>::infinity();
  ExpectInvalid(kSoftmax, params, Options(),
                "parameters: fc0.bias[9] is infinite: the model diverged; nothing to export");
}

TEST(ExportOnnxTest, RejectsAnEmptyJobName) {
  ExpectInvalid(kSoftmax, Params(kSoftmax), {"", InputScaling::kPixels},
                "job_name: must not be empty");
}

}  // namespace
}  // namespace ringtrain::exporter
