// A small synthetic job on disk: IDX files and a TrainingJob YAML that points at them.
#ifndef RINGTRAIN_TESTS_INTEGRATION_JOB_FIXTURE_H_
#define RINGTRAIN_TESTS_INTEGRATION_JOB_FIXTURE_H_

#include <string>

#include "process_helpers.h"
#include "synthetic_data.h"

namespace ringtrain::testing {

struct JobFixture {
  std::string dir;
  std::string spec_path;

  // Writes train (`rows` examples) and test (500) sets of 8x8 images and a job with the
  // given replicas and epochs. `extra_training` (lines indented by four spaces) is appended
  // under spec.training.
  static JobFixture Make(const std::string& name, int64_t rows, int num_ps, int num_workers,
                         int epochs, const std::string& model = "softmax",
                         const std::string& extra_training = "") {
    JobFixture f;
    f.dir = MakeTempDir(name);
    const data::Dataset train = MakeSyntheticImages(rows, 8, 10, 1);
    const data::Dataset test = MakeSyntheticImages(500, 8, 10, 2);
    WriteIdx(train, 8, f.dir + "/train-images.gz", f.dir + "/train-labels.gz");
    WriteIdx(test, 8, f.dir + "/test-images.gz", f.dir + "/test-labels.gz");
    f.spec_path = f.dir + "/job.yaml";
    WriteFile(f.spec_path,
              "apiVersion: ringtrain.io/v1alpha1\n"
              "kind: TrainingJob\n"
              "metadata: {name: " +
                  name +
                  "}\n"
                  "spec:\n"
                  "  model: {type: " +
                  model +
                  "}\n"
                  "  dataset:\n"
                  "    train: {images: file://" +
                  f.dir + "/train-images.gz, labels: " + f.dir +
                  "/train-labels.gz}\n"
                  "    test: {images: " +
                  f.dir + "/test-images.gz, labels: " + f.dir +
                  "/test-labels.gz}\n"
                  "  training:\n"
                  "    epochs: " +
                  std::to_string(epochs) +
                  "\n"
                  "    batchSize: 16\n"
                  "    optimizer: {type: momentum, learningRate: 0.1, momentum: 0.9}\n" +
                  extra_training + "  parameterServers: {replicas: " + std::to_string(num_ps) +
                  ", partitionSize: 1024}\n"
                  "  workers: {replicas: " +
                  std::to_string(num_workers) + "}\n");
    return f;
  }
};

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_INTEGRATION_JOB_FIXTURE_H_
