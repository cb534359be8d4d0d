// Helpers of the spec tests: what the parser, and the cluster's extra rules, say of a document.
#ifndef RINGTRAIN_TESTS_UNIT_CONTRACT_SPEC_ERRORS_H_
#define RINGTRAIN_TESTS_UNIT_CONTRACT_SPEC_ERRORS_H_

#include <gtest/gtest.h>

#include <string>

#include "ringtrain/job/parse.h"

namespace ringtrain::job::testing {

// The parser's error message, or "" when it accepts `doc`.
inline std::string ErrorOf(const nlohmann::json& doc) {
  StatusOr<TrainingJob> job = ParseTrainingJob(doc);
  return job.ok() ? "" : job.status().message();
}

// CheckForCluster's error message for a document the parser accepts, or "".
inline std::string ClusterErrorOf(const nlohmann::json& doc) {
  StatusOr<TrainingJob> job = ParseTrainingJob(doc);
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  if (!job.ok()) return "not parsed";
  Status s = CheckForCluster(*job);
  return s.ok() ? "" : s.message();
}

}  // namespace ringtrain::job::testing

#endif  // RINGTRAIN_TESTS_UNIT_CONTRACT_SPEC_ERRORS_H_
