#include "ringtrain/export/sparse_onnx.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <onnx/onnx_pb.h>

#include "atomic_file.h"
#include "onnx_builder.h"
#include "ringtrain/build_info.h"
#include "ringtrain/export/onnx.h"
#include "ringtrain/job/parse.h"

namespace ringtrain::exporter {
namespace {

// One protobuf message holds at most 2 GiB; keep a margin for the graph around the table.
constexpr int64_t kMaxModelBytes = (int64_t{1} << 31) - (int64_t{1} << 24);

std::string Describe(const model::SparseModelConfig& c) {
  std::string out = model::SparseModelKindName(c.kind);
  if (c.kind != model::SparseModelKind::kLogistic) {
    out += " k=" + std::to_string(c.embedding_size);
  }
  if (c.kind == model::SparseModelKind::kDeepFm) {
    out += " fields=" + std::to_string(c.num_fields) + " hidden=";
    for (size_t i = 0; i < c.hidden_layers.size(); ++i) {
      out += (i > 0 ? "," : "") + std::to_string(c.hidden_layers[i]);
    }
  }
  return out;
}

Status CheckFinite(const std::vector<float>& v, const std::string& what) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return InvalidArgument(what + "[" + std::to_string(i) + "] is " +
                             (std::isnan(v[i]) ? "NaN" : "infinite") +
                             ": the model diverged; nothing to export");
    }
  }
  return Status::Ok();
}

void AddIntsAttribute(const std::string& name, const std::vector<int64_t>& values,
                      onnx::NodeProto* node) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

// Builds the graph (see sparse_onnx.h). REQUIRES: `m` checked by ExportSparseOnnx.
onnx::ModelProto BuildModel(const SparseModelExport& m, const model::SparseModel& layout,
                            const SparseOnnxOptions& options) {
  const model::SparseModelConfig& c = m.config;
  const bool fm = c.kind != model::SparseModelKind::kLogistic;
  const bool deep = c.kind == model::SparseModelKind::kDeepFm;
  const int64_t k = c.embedding_size;
  const int64_t dim = layout.row_dim();
  const auto n = static_cast<int64_t>(m.keys.size());

  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  for (const auto& [domain, version] :
       {std::pair<std::string, int64_t>{"", kOnnxOpset}, {"ai.onnx.ml", kOnnxMlOpset}}) {
    onnx::OperatorSetIdProto* opset = model.add_opset_import();
    opset->set_domain(domain);
    opset->set_version(version);
  }
  model.set_producer_name("ringtrain");
  model.set_producer_version(Version());
  model.set_domain("io.ringtrain");
  model.set_model_version(1);
  model.set_doc_string(
      "ringtrain click-through model of job '" + options.job_name + "': " + Describe(c) + ", " +
      std::to_string(n) + " keys. Inputs: 'keys' int64 [N, S] (each feature's 64-bit key: " +
      options.keys + "), 'values' float32 [N, S] (each feature's value; 0 pads a shorter row)" +
      (deep ? ", 'fields' int64 [N, S] (each feature's field)" : "") +
      ". Outputs: 'logits' float32 [N] and 'probabilities' float32 [N] (sigmoid: p(click)). A "
      "key without a row adds nothing.");
  SetMetadata("ringtrain.job", options.job_name, &model);
  SetMetadata("ringtrain.model", Describe(c), &model);
  SetMetadata("ringtrain.keys", options.keys, &model);
  if (!options.feature_schema.empty()) {
    SetMetadata("ringtrain.feature_schema", options.feature_schema, &model);
  }

  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name(options.job_name);
  for (const auto& [name, type] : std::vector<std::pair<const char*, onnx::TensorProto::DataType>>{
           {kOnnxKeysInput, onnx::TensorProto::INT64},
           {kOnnxValuesInput, onnx::TensorProto::FLOAT}}) {
    onnx::ValueInfoProto* in = graph->add_input();
    in->set_name(name);
    SetBatchType(type, {}, in);
    in->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_param("S");
  }
  if (deep) {
    onnx::ValueInfoProto* in = graph->add_input();
    in->set_name(kOnnxFieldsInput);
    SetBatchType(onnx::TensorProto::INT64, {}, in);
    in->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_param("S");
  }

  // The table: the rows in key order, then a row of zeros for keys without one.
  std::vector<float> table(m.rows);
  table.resize(table.size() + static_cast<size_t>(dim), 0.0f);
  AddInitializer("table", {n + 1, dim}, table.data(), static_cast<int64_t>(table.size()), graph);
  AddInitializer("bias", {1}, m.dense.data(), 1, graph);
  AddInt64Initializer("axis_2", {1}, {2}, graph);
  AddInt64Initializer("axes_1_2", {2}, {1, 2}, graph);
  AddInt64Initializer("zero", {1}, {0}, graph);
  AddInt64Initializer("one", {1}, {1}, graph);

  onnx::NodeProto* encode = AddNode("rows_of_keys", "LabelEncoder", {kOnnxKeysInput}, "row", graph);
  encode->set_domain("ai.onnx.ml");
  std::vector<int64_t> keys(m.keys.begin(), m.keys.end());  // the uint64 keys' bits
  std::vector<int64_t> index(keys.size());
  for (size_t i = 0; i < index.size(); ++i) index[i] = static_cast<int64_t>(i);
  AddIntsAttribute("keys_int64s", keys, encode);
  AddIntsAttribute("values_int64s", index, encode);
  AddIntAttribute("default_int64", n, encode);
  AddNode("gather_rows", "Gather", {"table", "row"}, "rows", graph);               // [N,S,d]
  AddNode("value_column", "Unsqueeze", {kOnnxValuesInput, "axis_2"}, "x", graph);  // [N,S,1]
  AddNode("weights", "Slice", {"rows", "zero", "one", "axis_2"}, "w", graph);      // [N,S,1]
  AddNode("weighted", "Mul", {"w", "x"}, "wx", graph);
  AddNode("linear_sum", "ReduceSum", {"wx", "axes_1_2"}, "linear", graph);  // [N]
  AddIntAttribute("keepdims", 0, graph->mutable_node(graph->node_size() - 1));
  AddNode("plus_bias", "Add", {"linear", "bias"}, deep || fm ? "z_linear" : kOnnxLogitsOutput,
          graph);
  std::string z = "z_linear";
  if (fm) {
    AddInt64Initializer("axis_1", {1}, {1}, graph);
    AddInt64Initializer("k_end", {1}, {1 + k}, graph);
    AddNode("embeddings", "Slice", {"rows", "one", "k_end", "axis_2"}, "v", graph);  // [N,S,k]
    AddNode("embeddings_x", "Mul", {"v", "x"}, "vx", graph);
    AddNode("sum_vx", "ReduceSum", {"vx", "axis_1"}, "s", graph);  // [N,k]
    AddIntAttribute("keepdims", 0, graph->mutable_node(graph->node_size() - 1));
    AddNode("vx_squared", "Mul", {"vx", "vx"}, "vx2", graph);
    AddNode("sum_vx_squared", "ReduceSum", {"vx2", "axis_1"}, "s2", graph);
    AddIntAttribute("keepdims", 0, graph->mutable_node(graph->node_size() - 1));
    AddNode("s_squared", "Mul", {"s", "s"}, "ss", graph);
    AddNode("pairs", "Sub", {"ss", "s2"}, "pairs", graph);
    AddNode("pairs_sum", "ReduceSum", {"pairs", "axis_1"}, "pairs_total", graph);  // [N]
    AddIntAttribute("keepdims", 0, graph->mutable_node(graph->node_size() - 1));
    const float half = 0.5f;
    AddInitializer("half", {}, &half, 1, graph);
    AddNode("fm_half", "Mul", {"pairs_total", "half"}, "fm", graph);
    AddNode("plus_fm", "Add", {z, "fm"}, deep ? "z_fm" : kOnnxLogitsOutput, graph);
    z = "z_fm";
  }
  if (deep) {
    // e[n, f, :] = sum over the row's entries of field f of v x: one-hot fields, then MatMul.
    const int64_t fields = c.num_fields;
    AddInt64Initializer("num_fields", {}, {fields}, graph);
    const float off_on[2] = {0.0f, 1.0f};
    AddInitializer("off_on", {2}, off_on, 2, graph);
    AddNode("field_one_hot", "OneHot", {kOnnxFieldsInput, "num_fields", "off_on"}, "field_of",
            graph);  // [N,S,F]
    onnx::NodeProto* t = AddNode("by_field", "Transpose", {"field_of"}, "field_rows", graph);
    AddIntsAttribute("perm", {0, 2, 1}, t);                                     // [N,F,S]
    AddNode("field_sums", "MatMul", {"field_rows", "vx"}, "field_emb", graph);  // [N,F,k]
    AddInt64Initializer("tower_shape", {2}, {0, fields * k}, graph);
    AddNode("tower_input", "Reshape", {"field_emb", "tower_shape"}, "deep_in", graph);
    std::string h = "deep_in";
    const std::vector<model::TensorInfo>& tensors = layout.dense_tensors();
    // "bias", then pairs deep.fc<i>.weight [in, out], deep.fc<i>.bias [out].
    const size_t layers = (tensors.size() - 1) / 2;
    for (size_t i = 0; i < layers; ++i) {
      const model::TensorInfo& w = tensors[1 + 2 * i];
      const model::TensorInfo& b = tensors[2 + 2 * i];
      AddInitializer(w.name, w.shape, m.dense.data() + w.offset, w.size, graph);
      AddInitializer(b.name, b.shape, m.dense.data() + b.offset, b.size, graph);
      const std::string prefix = "deep.fc" + std::to_string(i);
      AddNode(prefix + ".gemm", "Gemm", {h, w.name, b.name}, prefix + ".linear", graph);
      h = prefix + ".linear";
      if (i + 1 < layers) {
        AddNode(prefix + ".relu", "Relu", {h}, prefix + ".relu", graph);
        h = prefix + ".relu";
      }
    }
    AddNode("deep_out", "Squeeze", {h, "axis_1"}, "deep", graph);  // [N]
    AddNode("plus_deep", "Add", {z, "deep"}, kOnnxLogitsOutput, graph);
  }
  AddNode("sigmoid", "Sigmoid", {kOnnxLogitsOutput}, kOnnxProbabilitiesOutput, graph);
  for (const char* name : {kOnnxLogitsOutput, kOnnxProbabilitiesOutput}) {
    SetBatchType(onnx::TensorProto::FLOAT, {}, graph->add_output());
    graph->mutable_output(graph->output_size() - 1)->set_name(name);
  }
  return model;
}

}  // namespace

SparseOnnxOptions SparseOnnxOptionsFor(const job::TrainingJob& job) {
  SparseOnnxOptions o;
  o.job_name = job.metadata.name;
  const job::DatasetSpec& d = job.spec.dataset;
  if (d.format == job::DataFormat::kCsv) {
    o.keys =
        "data::FeatureKey of the feature schema (ringtrain.feature_schema): bits 63-56 the "
        "field's place in the schema + 1, bits 55-0 the top 56 bits of Hash64 of the value's "
        "token (or ScaleToRange into the field's hashSpace); fields are 0-based places in the "
        "schema";
    const nlohmann::json spec = job::ToJson(job)["spec"]["dataset"];
    nlohmann::json schema = {{"format", "csv"}, {"fields", spec.value("fields", nlohmann::json())}};
    if (spec.contains("labelColumn")) schema["labelColumn"] = spec["labelColumn"];
    o.feature_schema = schema.dump();
  } else if (d.format == job::DataFormat::kCriteo) {
    o.keys =
        "Criteo's columns (data/sparse_data.h): categorical column c (0-based) as "
        "data::CriteoKey, bits 63-56 c + 1, bits 55-0 the top 56 bits of Hash64 of its value, "
        "field 13 + c; integer column i with value x as data::CriteoIntegerKey, bits 63-56 "
        "27 + i, bits 55-0 its bucket (x up to 2, else floor(ln(x)^2)), field i";
  } else {
    o.keys = "the feature index of each LibSVM entry, as written in the file";
  }
  return o;
}

StatusOr<std::string> ExportSparseOnnx(const SparseModelExport& m,
                                       const SparseOnnxOptions& options) {
  if (options.job_name.empty()) return InvalidArgument("job_name: must not be empty");
  if (Status s = model::ValidateSparseModelConfig(m.config); !s.ok()) {
    return s.WithContext("model");
  }
  RT_ASSIGN_OR_RETURN(std::unique_ptr<model::SparseModel> layout, model::MakeSparseModel(m.config));
  if (static_cast<int64_t>(m.dense.size()) != layout->num_dense()) {
    return InvalidArgument("dense parameters: the " + Describe(m.config) + " model has " +
                           std::to_string(layout->num_dense()) + ", got " +
                           std::to_string(m.dense.size()));
  }
  const auto dim = static_cast<size_t>(layout->row_dim());
  if (m.rows.size() != m.keys.size() * dim) {
    return InvalidArgument("rows: " + std::to_string(m.keys.size()) + " keys of " +
                           std::to_string(dim) + " floats need " +
                           std::to_string(m.keys.size() * dim) + ", got " +
                           std::to_string(m.rows.size()));
  }
  for (size_t i = 1; i < m.keys.size(); ++i) {
    if (m.keys[i] <= m.keys[i - 1]) {
      return InvalidArgument("keys: not strictly ascending at " + std::to_string(i));
    }
  }
  // The table's floats, and each key twice as a varint (up to 10 bytes) in the encoder.
  const int64_t bytes = static_cast<int64_t>(m.rows.size() * 4 + m.keys.size() * 20) +
                        static_cast<int64_t>(m.dense.size() * 4);
  if (bytes > kMaxModelBytes) {
    return Unimplemented("the " + Describe(m.config) + " model's " + std::to_string(m.keys.size()) +
                         " keys take about " + std::to_string(bytes >> 20) +
                         " MiB: more than one ONNX file holds without external data (2 GiB)");
  }
  RT_RETURN_IF_ERROR(CheckFinite(m.dense, "dense parameters"));
  RT_RETURN_IF_ERROR(CheckFinite(m.rows, "rows"));
  onnx::ModelProto model = BuildModel(m, *layout, options);
  RT_RETURN_IF_ERROR(CheckOnnxModel(model));
  std::string out;
  if (!model.SerializeToString(&out)) {
    return Internal("cannot serialize the ONNX model of " + Describe(m.config));
  }
  return out;
}

Status WriteSparseOnnxFile(const std::string& path, const SparseModelExport& model,
                           const SparseOnnxOptions& options) {
  RT_ASSIGN_OR_RETURN(std::string bytes, ExportSparseOnnx(model, options));
  return WriteFileAtomically(path, bytes);
}

}  // namespace ringtrain::exporter
