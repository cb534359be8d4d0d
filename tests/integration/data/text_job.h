// Jobs on text data for the integration tests: synthetic 8x8 "images" (synthetic_data.h) as
// LibSVM part files or a CSV file, and a TrainingJob that points at them.
#ifndef RINGTRAIN_TESTS_INTEGRATION_DATA_TEXT_JOB_H_
#define RINGTRAIN_TESTS_INTEGRATION_DATA_TEXT_JOB_H_

#include <string>

#include "process_helpers.h"
#include "synthetic_data.h"

namespace ringtrain::testing {

inline constexpr int kTrainRows = 3000;

// LibSVM training parts of uneven sizes (two gzip, one plain) and a plain test file in `dir`.
inline void WriteLibsvmParts(const std::string& dir) {
  const data::Dataset train = MakeSyntheticImages(kTrainRows, 8, 10, 1);
  const data::Dataset test = MakeSyntheticImages(500, 8, 10, 2);
  WriteGzipText(dir + "/train/part-0.gz", ToLibsvm(train, 0, 1700));
  WriteGzipText(dir + "/train/part-1.gz", ToLibsvm(train, 1700, 300));
  WriteFile(dir + "/train/part-2", ToLibsvm(train, 2000, 1000));
  WriteFile(dir + "/test.libsvm", ToLibsvm(test, 0, 500));
}

inline void WriteCsvFiles(const std::string& dir) {
  WriteFile(dir + "/train.csv", ToCsv(MakeSyntheticImages(kTrainRows, 8, 10, 1)));
  WriteFile(dir + "/test.csv", ToCsv(MakeSyntheticImages(500, 8, 10, 2)));
}

// How many servers, workers and epochs a test job has, and its syncMode ("": the default).
struct JobShape {
  int servers = 2;
  int workers = 2;
  int epochs = 4;
  std::string sync_mode = "";
  int partition_size = 1024;
  int batch_size = 16;
  int features = 64;
  std::string optimizer = "{type: momentum, learningRate: 0.1, momentum: 0.9}";
  std::string schedule = "";  // spec.training.schedule; "": none (constant)
};

// A job (2 servers, 2 workers, 4 epochs unless `shape` says otherwise) on `format` data at
// `train` and `test` ("": no test set). `extra_dataset` (lines indented by four spaces) goes
// under spec.dataset, `extra_spec` (two spaces) under spec.
inline std::string TextJob(const std::string& name, const std::string& format,
                           const std::string& train, const std::string& test,
                           const std::string& extra_dataset = "",
                           const std::string& extra_spec = "", const JobShape& shape = {}) {
  return "apiVersion: ringtrain.io/v1alpha1\n"
         "kind: TrainingJob\n"
         "metadata: {name: " +
         name +
         "}\n"
         "spec:\n"
         "  model: {type: softmax}\n"
         "  dataset:\n"
         "    format: " +
         format +
         "\n"
         "    features: " +
         std::to_string(shape.features) +
         "\n"
         "    classes: 10\n" +
         extra_dataset + "    train: {uri: '" + train + "'}\n" +
         (test.empty() ? "" : "    test: {uri: '" + test + "'}\n") +
         "  training:\n"
         "    epochs: " +
         std::to_string(shape.epochs) +
         "\n"
         "    batchSize: " +
         std::to_string(shape.batch_size) + "\n" +
         (shape.sync_mode.empty() ? "" : "    syncMode: " + shape.sync_mode + "\n") +
         "    optimizer: " + shape.optimizer + "\n" +
         (shape.schedule.empty() ? "" : "    schedule: " + shape.schedule + "\n") +
         "  parameterServers: {replicas: " + std::to_string(shape.servers) +
         ", partitionSize: " + std::to_string(shape.partition_size) +
         "}\n"
         "  workers: {replicas: " +
         std::to_string(shape.workers) + "}\n" + extra_spec;
}

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_INTEGRATION_DATA_TEXT_JOB_H_
