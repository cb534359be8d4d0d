// The TrainingJob CustomResourceDefinition, generated from the same field table the parser
// (parse.h) uses: names, types, ranges, defaults, enums, descriptions and the CEL rules of the
// conditional and cross-field checks. `ringtrain crd` prints CustomResourceDefinitionYaml();
// crds/ringtrain.io_trainingjobs.yaml and the Helm chart's copy are that output, checked in,
// and a test fails when they differ from it.
//
// Thread-safety: pure functions; safe to call concurrently.
#ifndef RINGTRAIN_JOB_CRD_H_
#define RINGTRAIN_JOB_CRD_H_

#include <string>

#include <nlohmann/json.hpp>

namespace ringtrain::job {

// The CRD object (apiextensions.k8s.io/v1), keys in the order the YAML prints them.
nlohmann::ordered_json CustomResourceDefinition();

// The CRD as a YAML document with a header comment saying where it comes from and where the
// API server's checks and the C++ parser's differ.
std::string CustomResourceDefinitionYaml();

}  // namespace ringtrain::job

#endif  // RINGTRAIN_JOB_CRD_H_
