// The model that outlives the job, end to end through the binary: `ringtrain run` trains a
// small MLP on Fashion-MNIST (2 servers, 2 workers, async, so other workers still update the
// model after worker 0 has finished) with spec.checkpoint and spec.output; then
//   - worker 0's spec.output/model.onnx is the final checkpoint's model: `ringtrain export` of the
//     final checkpoints writes the same bytes;
//   - onnxruntime (the pinned venv) on the test set's raw pixels gets exactly the accuracy
//     `ringtrain eval` reports for the final checkpoints, and logits within 1e-4 of ringtrain's
//     (model::Model::Logits on the parameters app::LoadModelFromCheckpoints assembles);
//   - a damaged newest shard makes export fall back to the previous checkpoint and say so; a
//     job of another model shape is refused with a clear message.
// Label slow (release build only): about 15 s (one epoch), 20 s more when the venv is first made.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "onnx_check.h"
#include "process_helpers.h"
#include "ringtrain/app/model_checkpoints.h"
#include "ringtrain/data/idx_reader.h"
#include "ringtrain/job/yaml.h"
#include "ringtrain/model/model.h"

namespace ringtrain {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kBinary = RINGTRAIN_BINARY;
const std::string kData = "/usr/share/datasets/fashion-mnist/";
const std::string kTestImages = kData + "t10k-images-idx3-ubyte.gz";
const std::string kTestLabels = kData + "t10k-labels-idx1-ubyte.gz";
constexpr double kLogitTolerance = 1e-4;

std::string JobYaml(const std::string& dir, int hidden) {
  return "apiVersion: ringtrain.io/v1alpha1\n"
         "kind: TrainingJob\n"
         "metadata: {name: model-output}\n"
         "spec:\n"
         "  model: {type: mlp, hiddenLayers: [" +
         std::to_string(hidden) +
         "]}\n"
         "  dataset:\n"
         "    train: {images: " +
         kData + "train-images-idx3-ubyte.gz, labels: " + kData +
         "train-labels-idx1-ubyte.gz}\n"
         "    test: {images: " +
         kTestImages + ", labels: " + kTestLabels +
         "}\n"
         "  training:\n"
         "    epochs: 1\n"
         "    batchSize: 64\n"
         "    syncMode: async\n"
         "    optimizer: {type: momentum, learningRate: 0.05, momentum: 0.9}\n"
         "  parameterServers: {replicas: 2, partitionSize: 8192}\n"
         "  workers: {replicas: 2}\n"
         "  checkpoint: {path: 'file://" +
         dir + "/ckpt', everySteps: 100, everySeconds: 0, keep: 3}\n" + "  output: {path: " + dir +
         "/model}\n";
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// "(8123/10000)" of `ringtrain eval`'s line: {correct, count}, or {-1, -1}.
std::pair<int64_t, int64_t> EvalCounts(const std::string& output) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex(R"(test accuracy [0-9.]+ \((\d+)/(\d+)\))"))) {
    return {-1, -1};
  }
  return {std::stoll(m[1]), std::stoll(m[2])};
}

TEST(ModelOutputTest, RunWritesTheFinalModelThatExportAndEvalAgreeWith) {
  const std::string dir = testing::MakeTempDir("ringtrain-model-output-");
  const std::string spec = dir + "/job.yaml";
  ASSERT_TRUE(testing::WriteFile(spec, JobYaml(dir, 32)));

  auto run =
      testing::RunCommand({kBinary, "run", "--no-progress", spec}, std::chrono::seconds(600));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string model_onnx = dir + "/model/model.onnx";
  EXPECT_THAT(run.output, HasSubstr("model                " + model_onnx));
  EXPECT_THAT(run.output, HasSubstr("checkpoints          " + dir + "/ckpt/model-output"));
  ASSERT_TRUE(fs::exists(model_onnx)) << run.output;
  std::cout << run.output.substr(run.output.find("summary")) << std::flush;

  // ringtrain eval: the final checkpoints, on spec.dataset.test.
  auto eval = testing::RunCommand({kBinary, "eval", spec}, std::chrono::seconds(120));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  std::cout << eval.output << std::flush;
  EXPECT_THAT(eval.output, HasSubstr("(final)"));
  const auto [correct, count] = EvalCounts(eval.output);
  ASSERT_EQ(count, 10000) << eval.output;

  // ringtrain export of the same checkpoints: the very bytes worker 0 wrote, so worker 0's
  // model is the servers' final one (async: including updates after worker 0 finished).
  const std::string exported = dir + "/exported.onnx";
  auto exp = testing::RunCommand({kBinary, "export", spec, "--output", exported},
                                 std::chrono::seconds(120));
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  std::cout << exp.output << std::flush;
  EXPECT_THAT(exp.output, HasSubstr("ps-0: " + dir + "/ckpt/model-output/ps-0/ckpt-"));
  EXPECT_THAT(exp.output, HasSubstr("final)"));
  EXPECT_EQ(ReadBytes(exported), ReadBytes(model_onnx)) << "worker 0's model is not the final one";

  // ringtrain's own logits of the checkpointed model, for onnxruntime to match.
  StatusOr<job::TrainingJob> job = job::LoadTrainingJobFile(spec);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  StatusOr<app::CheckpointedModel> model = app::LoadModelFromCheckpoints(*job, dir + "/ckpt");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  StatusOr<data::Dataset> test = data::LoadIdx(kTestImages, kTestLabels);
  ASSERT_TRUE(test.ok()) << test.status().ToString();
  auto m = model::MakeModel(model->plan.model);
  ASSERT_TRUE(m.ok());
  const model::EvalResult r =
      (*m)->Evaluate(model->params.data(), data::View(*test, {0, test->rows()}));
  EXPECT_EQ(r.correct, correct) << "ringtrain eval is model::Model::Evaluate";
  RowMatrixXf logits;
  (*m)->Logits(model->params.data(), test->features, &logits);
  const std::string logits_path = dir + "/logits.f32";
  testing::WriteLogits(logits_path, logits);
  const nlohmann::json models = {
      testing::OnnxCase("run", model_onnx, logits_path, correct, count),
      testing::OnnxCase("export", exported, logits_path, correct, count)};
  const nlohmann::json results =
      testing::CheckWithOnnxruntime(models, kTestImages, kTestLabels, kLogitTolerance, dir);
  EXPECT_EQ(results.size(), 2u) << results.dump(2);

  // Bad input: the newest checkpoint of ps-1 loses half its shard. Export falls back to the
  // one before it, and says so; the result is not final.
  std::vector<std::string> ps1;
  for (const auto& e : fs::directory_iterator(dir + "/ckpt/model-output/ps-1")) {
    ps1.push_back(e.path().string());
  }
  std::sort(ps1.begin(), ps1.end());
  ASSERT_GE(ps1.size(), 2u);
  const std::string shard = ps1.back() + "/shard.bin";
  fs::resize_file(shard, fs::file_size(shard) / 2);
  auto fallback = testing::RunCommand({kBinary, "export", spec, "--output", dir + "/fallback.onnx"},
                                      std::chrono::seconds(120));
  EXPECT_EQ(fallback.exit_code, 0) << fallback.output;
  EXPECT_THAT(fallback.output, HasSubstr("ps-1: skipped " + ps1.back()));
  EXPECT_THAT(fallback.output, HasSubstr(ps1[ps1.size() - 2] + " (step"));
  EXPECT_THAT(fallback.output, HasSubstr("not final"));
  EXPECT_TRUE(fs::exists(dir + "/fallback.onnx"));

  // Another model shape under the same job name: refused, naming the problem.
  const std::string other = dir + "/other.yaml";
  ASSERT_TRUE(testing::WriteFile(other, JobYaml(dir, 64)));
  auto refused = testing::RunCommand({kBinary, "eval", other}, std::chrono::seconds(120));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("a checkpoint of another model"));

  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace ringtrain
