// Exported models in a runtime that is not ours: a softmax and an MLP trained on a
// Fashion-MNIST subset (2 servers and 2 workers as threads over real sockets, as the pods
// train), exported with exporter::WriteOnnxFile, then run by onnxruntime from PyPI (the pinned
// venv of tests/onnxruntime/venv.sh) on the whole test set's raw pixels. Its predictions must
// give exactly the accuracy of ringtrain's own evaluation (model::Model::Evaluate on the same
// parameters), and its logits must be within 1e-4 of model::Model::Logits; Debian's
// python3-onnx checker (full check) must accept both files. The checks in Python are
// tests/e2e/onnx_export_check.py. Label slow (release build only): about 5 s, 20 s more
// when the venv is first made.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "onnx_check.h"
#include "process_helpers.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/data/idx_reader.h"
#include "ringtrain/export/onnx.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/model/model.h"
#include "thread_cluster.h"

namespace ringtrain {
namespace {

const std::string kSource = RINGTRAIN_SOURCE_DIR;
const std::string kData = "/usr/share/datasets/fashion-mnist/";
const std::string kTestImages = kData + "t10k-images-idx3-ubyte.gz";
const std::string kTestLabels = kData + "t10k-labels-idx1-ubyte.gz";
constexpr int64_t kTrainRows = 30000;  // a subset: the test is about export, not accuracy
constexpr double kLogitTolerance = 1e-4;

// A job as a user writes it (the dataset's format is IDX, so the graph scales pixels).
job::TrainingJob Job(const std::string& name, job::ModelType type, std::vector<int> hidden) {
  job::TrainingJob job;
  job.metadata.name = name;
  job.spec.model = {type, std::move(hidden)};
  job.spec.parameter_servers.replicas = 2;
  job.spec.workers.replicas = 2;
  job.spec.training.epochs = 2;
  job.spec.training.batch_size = 32;
  job.spec.training.optimizer.type = job::OptimizerType::kMomentum;
  job.spec.training.optimizer.learning_rate = 0.05;
  job.spec.training.optimizer.momentum = 0.9;
  return job;
}

class OnnxExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto train = data::LoadIdx(kData + "train-images-idx3-ubyte.gz",
                               kData + "train-labels-idx1-ubyte.gz", 10);
    ASSERT_TRUE(train.ok()) << train.status().ToString();
    train_ = data::TakeRows(*train, {0, kTrainRows});
    auto test = data::LoadIdx(kTestImages, kTestLabels, 10);
    ASSERT_TRUE(test.ok()) << test.status().ToString();
    test_ = std::move(test).value();
    dir_ = testing::MakeTempDir("ringtrain-onnx-e2e-");
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Trains `job`, evaluates and exports its final parameters; returns the manifest entry.
  nlohmann::json TrainAndExport(const job::TrainingJob& job) {
    auto plan = testing::PlanFor(job, train_, 10);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    if (!plan.ok()) return {};
    auto run = testing::RunCluster(*plan, train_, &test_, {});
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    if (!run.ok()) return {};
    // The servers' parameters are the model (what a checkpoint holds); in sync mode worker 0
    // pulled the same after its last step, and evaluated them.
    const std::vector<float>& params = run->server_params;
    EXPECT_EQ(params, run->final_params);

    auto model = model::MakeModel(plan->model);
    EXPECT_TRUE(model.ok());
    const model::EvalResult eval =
        (*model)->Evaluate(params.data(), data::View(test_, {0, test_.rows()}));
    EXPECT_DOUBLE_EQ(static_cast<double>(eval.correct) / static_cast<double>(eval.count),
                     run->test_accuracy);
    RowMatrixXf logits;
    (*model)->Logits(params.data(), test_.features, &logits);

    const std::string name = model::ModelKindName(plan->model.kind);
    const std::string onnx = dir_ + "/" + name + ".onnx";
    const std::string logits_path = dir_ + "/" + name + ".logits.f32";
    const Status written =
        exporter::WriteOnnxFile(onnx, plan->model, params, exporter::OnnxOptionsFor(job));
    EXPECT_TRUE(written.ok()) << written.ToString();
    testing::WriteLogits(logits_path, logits);
    std::printf("%-8s ringtrain: test accuracy %.4f (%lld/%lld) after %d epochs on %lld rows\n",
                name.c_str(), static_cast<double>(eval.correct) / static_cast<double>(eval.count),
                static_cast<long long>(eval.correct), static_cast<long long>(eval.count),
                job.spec.training.epochs, static_cast<long long>(kTrainRows));
    return testing::OnnxCase(name, onnx, logits_path, eval.correct, eval.count);
  }

  data::Dataset train_;
  data::Dataset test_;
  std::string dir_;
};

TEST_F(OnnxExportTest, OnnxruntimeServesTheSamePredictionsAsRingtrain) {
  nlohmann::json models = nlohmann::json::array();
  models.push_back(TrainAndExport(Job("onnx-softmax", job::ModelType::kSoftmax, {})));
  models.push_back(TrainAndExport(Job("onnx-mlp", job::ModelType::kMlp, {64})));
  ASSERT_FALSE(HasFailure());
  const nlohmann::json results =
      testing::CheckWithOnnxruntime(models, kTestImages, kTestLabels, kLogitTolerance, dir_);
  for (const auto& m : models) {
    const std::string name = m["name"];
    ASSERT_TRUE(results.contains(name)) << results.dump(2);
    const nlohmann::json& r = results[name];
    EXPECT_EQ(r["correct"].get<int64_t>(), m["correct"].get<int64_t>()) << name;
    EXPECT_EQ(r["count"].get<int64_t>(), m["count"].get<int64_t>()) << name;
    EXPECT_LE(r["max_logit_diff"].get<double>(), kLogitTolerance) << name;
  }

  // Debian's python3-onnx, in the system Python (not the venv): the full check.
  const auto checker =
      testing::RunCommand({"/usr/bin/python3", kSource + "/tests/e2e/onnx_export_check.py",
                           "checker", dir_ + "/softmax.onnx", dir_ + "/mlp.onnx"},
                          std::chrono::seconds(120));
  std::cout << checker.output << std::flush;
  EXPECT_EQ(checker.exit_code, 0) << checker.output;
}

}  // namespace
}  // namespace ringtrain
