// ExportSparseOnnx: the graph of each click-through model (inputs, outputs, the key table and
// its encoder, metadata) as ONNX's checker and shape inference see it after a round trip
// through the bytes, and the errors for what does not fit. (onnxruntime runs the exports in
// tests/e2e/sparse_model_output_test.cc.)
#include "ringtrain/export/sparse_onnx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "ringtrain/common/check.h"

namespace ringtrain::exporter {
namespace {

using model::SparseModelConfig;
using model::SparseModelKind;
using ::testing::HasSubstr;

SparseModelExport Model(SparseModelConfig config, size_t keys) {
  SparseModelExport m;
  m.config = std::move(config);
  auto made = model::MakeSparseModel(m.config);
  RT_CHECK(made.ok());
  m.dense.assign(static_cast<size_t>((*made)->num_dense()), 0.25f);
  for (size_t k = 0; k < keys; ++k) m.keys.push_back(k * 7 + (uint64_t{3} << 56));
  m.rows.assign(keys * static_cast<size_t>((*made)->row_dim()), 0.5f);
  return m;
}

SparseOnnxOptions Options() {
  SparseOnnxOptions o;
  o.job_name = "ctr";
  o.keys = "the LibSVM index";
  return o;
}

onnx::ModelProto Parse(const std::string& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

std::vector<std::string> Names(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& v) {
  std::vector<std::string> out;
  for (const auto& i : v) out.push_back(i.name());
  return out;
}

TEST(SparseOnnxTest, EachModelKindHasItsInputsTableAndMetadata) {
  const std::vector<SparseModelConfig> configs = {{SparseModelKind::kLogistic, 0, {}, 1},
                                                  {SparseModelKind::kFm, 4, {}, 1},
                                                  {SparseModelKind::kDeepFm, 4, {8}, 3}};
  for (const SparseModelConfig& c : configs) {
    const SparseModelExport m = Model(c, 5);
    StatusOr<std::string> bytes = ExportSparseOnnx(m, Options());
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    const onnx::ModelProto model = Parse(*bytes);
    const bool deep = c.kind == SparseModelKind::kDeepFm;
    const std::vector<std::string> inputs =
        deep ? std::vector<std::string>{"keys", "values", "fields"}
             : std::vector<std::string>{"keys", "values"};
    EXPECT_EQ(Names(model.graph().input()), inputs);
    EXPECT_EQ(Names(model.graph().output()), (std::vector<std::string>{"logits", "probabilities"}));
    std::map<std::string, std::vector<int64_t>> dims;
    for (const onnx::TensorProto& t : model.graph().initializer()) {
      dims[t.name()].assign(t.dims().begin(), t.dims().end());
    }
    const int64_t row = c.kind == SparseModelKind::kLogistic ? 1 : 5;
    EXPECT_EQ(dims["table"], (std::vector<int64_t>{6, row}));  // 5 rows and the zero row
    bool encoder = false;
    for (const onnx::NodeProto& n : model.graph().node()) {
      if (n.op_type() != "LabelEncoder") continue;
      encoder = true;
      EXPECT_EQ(n.domain(), "ai.onnx.ml");
      for (const onnx::AttributeProto& a : n.attribute()) {
        if (a.name() == "keys_int64s") {
          EXPECT_EQ(a.ints_size(), 5);
          EXPECT_EQ(static_cast<uint64_t>(a.ints(4)), m.keys[4]);
        }
        if (a.name() == "default_int64") {
          EXPECT_EQ(a.i(), 5);  // the zero row
        }
      }
    }
    EXPECT_TRUE(encoder);
    std::map<std::string, std::string> meta;
    for (const auto& p : model.metadata_props()) meta[p.key()] = p.value();
    EXPECT_EQ(meta["ringtrain.job"], "ctr");
    EXPECT_EQ(meta["ringtrain.keys"], "the LibSVM index");
    EXPECT_THAT(meta["ringtrain.model"], HasSubstr(model::SparseModelKindName(c.kind)));
  }
}

TEST(SparseOnnxTest, WhatDoesNotFitIsRefusedNamingIt) {
  const SparseModelConfig fm{SparseModelKind::kFm, 4, {}, 1};
  const auto refused = [](const SparseModelExport& m, const std::string& what) {
    StatusOr<std::string> bytes = ExportSparseOnnx(m, Options());
    ASSERT_FALSE(bytes.ok()) << what;
    EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument) << what;
    EXPECT_THAT(bytes.status().message(), HasSubstr(what));
  };
  SparseModelExport m = Model(fm, 3);
  m.dense.push_back(1);
  refused(m, "dense parameters: the fm k=4 model has 1, got 2");
  m = Model(fm, 3);
  m.rows.pop_back();
  refused(m, "rows: 3 keys of 5 floats need 15, got 14");
  m = Model(fm, 3);
  std::swap(m.keys[0], m.keys[1]);
  refused(m, "keys: not strictly ascending at 1");
  m = Model(fm, 3);
  m.rows[7] = std::numeric_limits<float>::quiet_NaN();
  refused(m, "rows[7] is NaN");
  m = Model(fm, 0);
  m.config.embedding_size = 0;
  refused(m, "model: ");
  SparseOnnxOptions nameless = Options();
  nameless.job_name.clear();
  EXPECT_EQ(ExportSparseOnnx(Model(fm, 1), nameless).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ringtrain::exporter
