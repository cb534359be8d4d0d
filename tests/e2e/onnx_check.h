// The onnxruntime side of the end-to-end tests: the pinned venv of tests/onnxruntime/venv.sh
// (made on first use; `make` makes it before the tests) and tests/e2e/onnx_export_check.py's
// runtime check, which serves exported models on a test set and compares them with ringtrain.
#ifndef RINGTRAIN_TESTS_E2E_ONNX_CHECK_H_
#define RINGTRAIN_TESTS_E2E_ONNX_CHECK_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "process_helpers.h"
#include "ringtrain/data/matrix.h"

namespace ringtrain::testing {

// The venv's python (venv.sh prints it last), or "" after a test failure naming why.
inline std::string OnnxruntimePython() {
  // Children get only PATH, HOME and TMPDIR: pass on where the cache is, if moved.
  std::map<std::string, std::string> env;
  if (const char* cache = std::getenv("RINGTRAIN_CACHE_DIR")) env["RINGTRAIN_CACHE_DIR"] = cache;
  const auto venv =
      RunCommand({"/bin/bash", std::string(RINGTRAIN_SOURCE_DIR) + "/tests/onnxruntime/venv.sh"},
                 std::chrono::seconds(600), env);
  if (venv.exit_code != 0) {
    ADD_FAILURE() << "tests/onnxruntime/venv.sh failed:\n" << venv.output;
    return "";
  }
  std::string out = venv.output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const size_t nl = out.rfind('\n');
  return nl == std::string::npos ? out : out.substr(nl + 1);
}

// Writes ringtrain's logits (float32 [N, C], row-major) where the check reads them.
inline void WriteLogits(const std::string& path, const RowMatrixXf& logits) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(logits.data()),
            static_cast<std::streamsize>(logits.size() * sizeof(float)));
  EXPECT_TRUE(out.good()) << path;
}

// One model for the check: its ONNX file, ringtrain's logits of the test set and its count of
// correct predictions.
inline nlohmann::json OnnxCase(const std::string& name, const std::string& onnx,
                               const std::string& logits, int64_t correct, int64_t count) {
  return {
      {"name", name}, {"onnx", onnx}, {"logits", logits}, {"correct", correct}, {"count", count}};
}

// Runs onnxruntime on `models` (OnnxCase entries) over the IDX test set: each must get exactly
// its `correct` predictions and logits within `tolerance` (a failure of the test otherwise).
// Files go to `dir`; returns the figures by model name (onnx_export_check.py's results).
inline nlohmann::json CheckWithOnnxruntime(const nlohmann::json& models,
                                           const std::string& test_images,
                                           const std::string& test_labels, double tolerance,
                                           const std::string& dir) {
  const std::string python = OnnxruntimePython();
  if (python.empty()) return nlohmann::json::object();
  const nlohmann::json manifest = {{"test_images", test_images},
                                   {"test_labels", test_labels},
                                   {"tolerance", tolerance},
                                   {"models", models}};
  const std::string manifest_path = dir + "/manifest.json";
  const std::string results_path = dir + "/results.json";
  EXPECT_TRUE(WriteFile(manifest_path, manifest.dump(2)));
  const auto ort =
      RunCommand({python, std::string(RINGTRAIN_SOURCE_DIR) + "/tests/e2e/onnx_export_check.py",
                  "runtime", manifest_path, results_path},
                 std::chrono::seconds(120));
  std::cout << ort.output << std::flush;
  EXPECT_EQ(ort.exit_code, 0) << ort.output;
  std::ifstream in(results_path);
  if (!in.good()) {
    ADD_FAILURE() << "no results in " << results_path;
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(in);
}

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_E2E_ONNX_CHECK_H_
