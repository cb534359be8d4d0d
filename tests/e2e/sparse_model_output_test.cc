// Click-through models that outlive the job, end to end through the binary (issue 14): for a
// logistic regression on LibSVM keys, and an FM and a DeepFM on CSV through a feature schema
// (categorical, multi-valued and bucketized numeric fields), `ringtrain run` trains with
// spec.checkpoint, then
//   - `ringtrain eval` of the final checkpoints reports the test AUC and log-loss the run's
//     summary did;
//   - `ringtrain run` writes the model at the end (exported from the final checkpoints), the
//     same bytes `ringtrain export` writes afterwards: an ONNX file that Debian's python3-onnx
//     checker accepts and that onnxruntime (the pinned venv), fed the test rows as ringtrain reads
//     them (keys, values, fields), scores with logits within 1e-4 of ringtrain's own
//     (model::SparseModel::Logits on the rows app::LoadModelFromCheckpoints assembles), and
//     probabilities their sigmoid.
// Label slow (release build only): a few seconds, 20 s more when the venv is first made.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <tuple>
#include <vector>

#include "onnx_check.h"
#include "process_helpers.h"
#include "ringtrain/app/job_plan.h"
#include "ringtrain/app/model_checkpoints.h"
#include "ringtrain/app/sparse_worker.h"
#include "ringtrain/job/yaml.h"
#include "ringtrain/model/sparse_model.h"

namespace ringtrain {
namespace {

const std::string kBinary = RINGTRAIN_BINARY;
constexpr double kLogitTolerance = 1e-4;

// Writes `rows` rows of a CSV with a known click model: label, user (one of 60), item (one of
// 40), tags (1-3 of 12, '|'-separated), price (0-100, bucketized by the schema).
void WriteCsv(const std::string& path, int rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::mt19937 truth(7);  // the same weights for train and test
  std::normal_distribution<double> weight(0.0, 0.8);
  std::vector<double> user(60), item(40), tag(12);
  for (auto* v : {&user, &item, &tag}) {
    for (double& w : *v) w = weight(truth);
  }
  std::ofstream out(path);
  out << "label,user,item,tags,price\n";
  for (int r = 0; r < rows; ++r) {
    const int u = static_cast<int>(rng() % 60);
    const int i = static_cast<int>(rng() % 40);
    const int n = 1 + static_cast<int>(rng() % 3);
    double z = -0.3 + user[static_cast<size_t>(u)] + item[static_cast<size_t>(i)];
    std::string tags;
    for (int t = 0; t < n; ++t) {
      const int g = static_cast<int>(rng() % 12);
      z += tag[static_cast<size_t>(g)] / n;
      tags += (t > 0 ? "|" : "") + std::string("g") + std::to_string(g);
    }
    const double price = static_cast<double>(rng() % 1000) / 10.0;
    z += price > 50 ? -0.5 : 0.3;
    z += 0.6 * user[static_cast<size_t>(u)] * item[static_cast<size_t>(i)];  // an interaction
    const double p = 1.0 / (1.0 + std::exp(-z));
    const int label = std::uniform_real_distribution<double>(0, 1)(rng) < p ? 1 : 0;
    out << label << ",u" << u << ",i" << i << "," << tags << "," << price << "\n";
  }
}

std::string Job(const std::string& dir, const std::string& name, const std::string& model,
                bool csv) {
  std::string dataset;
  if (csv) {
    dataset = "    format: csv\n    train: {uri: " + dir + "/train.csv}\n    test: {uri: " + dir +
              "/test.csv}\n    labelColumn: label\n    fields:\n      - {column: user}\n"
              "      - {column: item}\n      - {column: tags, separator: '|'}\n"
              "      - {column: price, type: numeric, buckets: [25, 50, 75]}\n";
  } else {
    dataset = "    format: libsvm\n    train: {uri: " + dir +
              "/train.libsvm}\n    test: {uri: " + dir + "/test.libsvm}\n";
  }
  return "apiVersion: ringtrain.io/v1alpha1\nkind: TrainingJob\nmetadata: {name: " + name +
         "}\nspec:\n  model: " + model + "\n  dataset:\n" + dataset +
         "  training: {epochs: 3, batchSize: 64, optimizer: {type: adagrad, learningRate: "
         "0.05}}\n  checkpoint: {path: " +
         dir +
         "/ckpt, everySteps: 100}\n  parameterServers: {replicas: 2}\n"
         "  workers: {replicas: 2}\n";
}

// The last "test AUC 0.7726" of an output: a run's summary ("test AUC             0.7726"),
// or `ringtrain eval`'s line.
std::string AucText(const std::string& output) {
  std::string last;
  const std::regex auc(R"(test AUC +([0-9.]+))");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), auc);
       it != std::sregex_iterator(); ++it) {
    last = (*it)[1];
  }
  return last;
}

template <typename T>
void WriteRaw(const std::string& path, const std::vector<T>& v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()),
            static_cast<std::streamsize>(v.size() * sizeof(T)));
  EXPECT_TRUE(out.good()) << path;
}

class SparseModelOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sparse-model-output");
    WriteCsv(dir_ + "/train.csv", 20000, 1);
    WriteCsv(dir_ + "/test.csv", 4000, 2);
    for (const auto& [file, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"train.libsvm", {"--rows", "20000"}},
             {"test.libsvm", {"--rows", "4000", "--row-seed", "99"}}}) {
      std::vector<std::string> argv = {
          kBinary,  "generate", "ctr",   "--fields",       "8", "--keys-per-field", "200",
          "--seed", "11",       "--out", dir_ + "/" + file};
      argv.insert(argv.end(), args.begin(), args.end());
      const auto made = testing::RunCommand(argv, std::chrono::seconds(60));
      ASSERT_EQ(made.exit_code, 0) << made.output;
    }
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Trains, evaluates and exports job `name`; returns its onnxruntime case (and the files the
  // case names), or null after a test failure.
  nlohmann::json TrainAndExport(const std::string& name, const std::string& model_yaml, bool csv) {
    const std::string spec = dir_ + "/" + name + ".yaml";
    EXPECT_TRUE(testing::WriteFile(spec, Job(dir_, name, model_yaml, csv)));
    const std::string written = dir_ + "/" + name + "-output";
    const auto run = testing::RunCommand(
        {kBinary, "run", "--no-progress", "--output", written, spec}, std::chrono::seconds(300));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    const std::string auc = AucText(run.output);
    EXPECT_FALSE(auc.empty()) << run.output;
    const auto eval = testing::RunCommand({kBinary, "eval", spec}, std::chrono::seconds(120));
    EXPECT_EQ(eval.exit_code, 0) << eval.output;
    EXPECT_EQ(AucText(eval.output), auc) << eval.output << run.output;
    const std::string onnx = dir_ + "/" + name + ".onnx";
    const auto exported =
        testing::RunCommand({kBinary, "export", spec, "--output", onnx}, std::chrono::seconds(120));
    EXPECT_EQ(exported.exit_code, 0) << exported.output;
    EXPECT_THAT(exported.output, ::testing::HasSubstr("(ONNX, "));
    // `ringtrain run` wrote the same model at the end (from the same final checkpoints).
    EXPECT_THAT(run.output, ::testing::HasSubstr("exporting the click-through model"));
    EXPECT_EQ(testing::ReadFile(written + "/model.onnx"), testing::ReadFile(onnx)) << run.output;
    if (run.exit_code != 0 || exported.exit_code != 0) return nullptr;

    // ringtrain's logits of the test rows: the checkpoints' model, zeros for keys without a row
    // (as the export serves them).
    StatusOr<job::TrainingJob> job = job::LoadTrainingJobFile(spec);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    StatusOr<app::CheckpointedModel> model = app::LoadModelFromCheckpoints(*job, dir_ + "/ckpt");
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    if (!job.ok() || !model.ok()) return nullptr;
    storage::Storage storage(app::StorageOptionsFor(job->spec.dataset, {}));
    StatusOr<data::SparseBatch> test =
        app::ReadSparseRows(&storage, job->spec.dataset, job->spec.dataset.test->uri);
    EXPECT_TRUE(test.ok()) << test.status().ToString();
    auto m = model::MakeSparseModel(*model->plan.sparse_model);
    if (!test.ok() || !m.ok()) return nullptr;
    model::BatchKeys keys;
    model::IndexKeys(*test, &keys);
    const auto dim = static_cast<size_t>((*m)->row_dim());
    std::vector<float> rows(keys.keys.size() * dim, 0.0f);
    size_t unknown = 0;
    for (size_t k = 0; k < keys.keys.size(); ++k) {
      const auto at =
          std::lower_bound(model->sparse_keys.begin(), model->sparse_keys.end(), keys.keys[k]);
      if (at == model->sparse_keys.end() || *at != keys.keys[k]) {
        ++unknown;
        continue;
      }
      const auto i = static_cast<size_t>(at - model->sparse_keys.begin());
      std::memcpy(rows.data() + k * dim, model->sparse_rows.data() + i * dim, dim * 4);
    }
    std::vector<float> logits;
    (*m)->Logits(model->params.data(), rows, *test, keys, &logits);

    // The rows as the graph takes them: padded to the widest row with value 0.
    const int64_t n = test->rows();
    int64_t width = 1;
    for (int64_t r = 0; r < n; ++r) {
      width = std::max(
          width, test->offsets[static_cast<size_t>(r) + 1] - test->offsets[static_cast<size_t>(r)]);
    }
    std::vector<int64_t> in_keys(static_cast<size_t>(n * width), 0);
    std::vector<int64_t> in_fields(in_keys.size(), 0);
    std::vector<float> in_values(in_keys.size(), 0.0f);
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t e = test->offsets[static_cast<size_t>(r)];
           e < test->offsets[static_cast<size_t>(r) + 1]; ++e) {
        const auto at = static_cast<size_t>(r * width + e - test->offsets[static_cast<size_t>(r)]);
        in_keys[at] = static_cast<int64_t>(test->keys[static_cast<size_t>(e)]);
        in_values[at] = test->values[static_cast<size_t>(e)];
        in_fields[at] = test->fields[static_cast<size_t>(e)];
      }
    }
    const std::string base = dir_ + "/" + name;
    WriteRaw(base + ".keys", in_keys);
    WriteRaw(base + ".values", in_values);
    WriteRaw(base + ".logits", logits);
    WriteRaw(base + ".labels", test->labels);
    nlohmann::json c = {{"name", name},
                        {"onnx", onnx},
                        {"rows", n},
                        {"width", width},
                        {"keys", base + ".keys"},
                        {"values", base + ".values"},
                        {"logits", base + ".logits"},
                        {"labels", base + ".labels"}};
    c["ringtrain_auc"] = auc;
    if (model->plan.sparse_model->kind == model::SparseModelKind::kDeepFm) {
      WriteRaw(base + ".fields", in_fields);
      c["fields"] = base + ".fields";
    }
    std::printf("%s: %zu of %zu test keys without a row; run and eval AUC %s\n", name.c_str(),
                unknown, keys.keys.size(), auc.c_str());
    return c;
  }

  std::string dir_;
};

TEST_F(SparseModelOutputTest, ExportedModelsServeInOnnxruntimeAsRingtrainScoresThem) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& [name, model, csv] : std::vector<std::tuple<std::string, std::string, bool>>{
           {"logistic", "{type: logistic}", false},
           {"fm", "{type: fm, embeddingSize: 4}", true},
           {"deepfm", "{type: deepfm, embeddingSize: 4, hiddenLayers: [16, 8]}", true}}) {
    nlohmann::json c = TrainAndExport(name, model, csv);
    ASSERT_FALSE(c.is_null()) << name;
    models.push_back(c);
  }
  const std::string python = testing::OnnxruntimePython();
  ASSERT_FALSE(python.empty());
  const nlohmann::json manifest = {{"tolerance", kLogitTolerance}, {"models", models}};
  ASSERT_TRUE(testing::WriteFile(dir_ + "/manifest.json", manifest.dump(2)));
  const auto ort = testing::RunCommand(
      {python, std::string(RINGTRAIN_SOURCE_DIR) + "/tests/e2e/onnx_export_check.py", "sparse",
       dir_ + "/manifest.json", dir_ + "/results.json"},
      std::chrono::seconds(120));
  std::cout << ort.output << std::flush;
  EXPECT_EQ(ort.exit_code, 0) << ort.output;
  // Every test key has a row, so onnxruntime's AUC is the one the run reported (to its 4
  // decimals).
  std::ifstream in(dir_ + "/results.json");
  ASSERT_TRUE(in.good());
  const nlohmann::json results = nlohmann::json::parse(in);
  for (const nlohmann::json& m : models) {
    const std::string name = m["name"];
    ASSERT_TRUE(results.contains(name)) << results.dump(2);
    EXPECT_NEAR(results[name]["auc"].get<double>(),
                std::stod(m["ringtrain_auc"].get<std::string>()), 5.1e-5)
        << name;
  }

  const auto checker = testing::RunCommand(
      {"/usr/bin/python3", std::string(RINGTRAIN_SOURCE_DIR) + "/tests/e2e/onnx_export_check.py",
       "checker", dir_ + "/logistic.onnx", dir_ + "/fm.onnx", dir_ + "/deepfm.onnx"},
      std::chrono::seconds(120));
  std::cout << checker.output << std::flush;
  EXPECT_EQ(checker.exit_code, 0) << checker.output;
}

}  // namespace
}  // namespace ringtrain
