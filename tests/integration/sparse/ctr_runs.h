// Click-through jobs run by `ringtrain run` for the sparse integration tests: generated data
// (`ringtrain generate ctr`), the TrainingJob that trains on it, and running the binary.
#ifndef RINGTRAIN_TESTS_INTEGRATION_SPARSE_CTR_RUNS_H_
#define RINGTRAIN_TESTS_INTEGRATION_SPARSE_CTR_RUNS_H_

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "process_helpers.h"
#include "ringtrain/launch/child_process.h"

namespace ringtrain::ctr_runs {

inline const std::string kBinary = RINGTRAIN_BINARY;

struct Outcome {
  bool success = false;
  std::string log;
};

// Runs `ringtrain` with `args`, its output in `dir`/<name>.log (this run's only: a log of an
// earlier run of that name is replaced).
inline Outcome RunRingtrain(const std::string& dir, const std::string& name,
                            std::vector<std::string> args) {
  args.insert(args.begin(), kBinary);
  const std::string log = dir + "/" + name + ".log";
  std::filesystem::remove(log);
  auto child = launch::ChildProcess::Spawn(name, args, {}, log);
  EXPECT_TRUE(child.ok()) << child.status().ToString();
  if (!child.ok()) return {};
  auto exit = testing::WaitForExit(**child, std::chrono::seconds(300));
  return Outcome{exit.has_value() && exit->success(), testing::ReadFile(log)};
}

// The ground-truth log-loss `ringtrain generate ctr` printed, or -1.
inline double TruthLogLoss(const std::string& log) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex("ground-truth log-loss\\s+([0-9.]+)"))) return -1;
  return std::stod(m[1]);
}

// Writes dir/train.libsvm (`rows` rows; plain, so that the workers' shares are byte ranges of
// it: a gzip file is not split) and dir/test.libsvm (10000 other rows) of one ground truth (8
// fields of 200 values); returns the truth's log-loss on the test rows.
inline double GenerateCtr(const std::string& dir, int rows) {
  const std::vector<std::string> common = {"--fields",       "8",   "--keys-per-field", "200",
                                           "--weight-scale", "0.6", "--bias",           "-0.5",
                                           "--seed",         "11"};
  std::vector<std::string> train = {"generate",           "ctr",   "--rows",
                                    std::to_string(rows), "--out", dir + "/train.libsvm"};
  train.insert(train.end(), common.begin(), common.end());
  const Outcome trained = RunRingtrain(dir, "generate-train", train);
  EXPECT_TRUE(trained.success) << trained.log;
  std::vector<std::string> test = {"generate",   "ctr", "--rows", "10000",
                                   "--row-seed", "99",  "--out",  dir + "/test.libsvm"};
  test.insert(test.end(), common.begin(), common.end());
  const Outcome made = RunRingtrain(dir, "generate-test", test);
  EXPECT_TRUE(made.success) << made.log;
  return TruthLogLoss(made.log);
}

// A TrainingJob `name` of `model` trained with `optimizer` on dir's data for `epochs`, on 2
// servers and 2 workers; `extra` adds lines to the spec (two-space indented).
inline std::string CtrJob(const std::string& dir, const std::string& model,
                          const std::string& optimizer, const std::string& name = "ctr",
                          int epochs = 4, const std::string& extra = "",
                          const std::string& training = "") {
  return "apiVersion: ringtrain.io/v1alpha1\n"
         "kind: TrainingJob\n"
         "metadata: {name: " +
         name +
         "}\n"
         "spec:\n"
         "  model: " +
         model +
         "\n"
         "  dataset:\n"
         "    format: libsvm\n"
         "    train: {uri: " +
         dir +
         "/train.libsvm}\n"
         "    test: {uri: " +
         dir +
         "/test.libsvm}\n"
         "  training:\n"
         "    epochs: " +
         std::to_string(epochs) +
         "\n"
         "    batchSize: 64\n"
         "    optimizer: " +
         optimizer + "\n" + training +
         "  parameterServers: {replicas: 2}\n"
         "  workers: {replicas: 2}\n" +
         extra;
}

}  // namespace ringtrain::ctr_runs

#endif  // RINGTRAIN_TESTS_INTEGRATION_SPARSE_CTR_RUNS_H_
