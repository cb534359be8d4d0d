// Reading TrainingJob YAML: the text-to-JSON adapter over yaml-cpp and the file loader used by
// `ringtrain run` and by processes that read the spec file named in their pod contract; and
// the JSON-to-text writer that prints the CRD.
//
// YamlToJson converts one YAML document to JSON with the YAML 1.2 core schema for plain
// (unquoted) scalars: null/Null/NULL/~ and empty -> null; true/false (any of the three
// capitalisations) -> boolean; [-+]?[0-9]+, 0x.., 0o.. -> integer (unsigned above the int64
// range, float above that); decimal floats such as 1.5, .5, 1e-3, and .inf/.nan -> float;
// anything else -> string. Quoted and block scalars are always strings; explicit tags
// !!str, !!int, !!float, !!bool and !!null are honoured and other tags are errors. A JSON
// document is valid YAML, so JSON files are read too.
//
// Errors (InvalidArgument unless noted), positions 1-based:
//   line 3, column 7: <yaml-cpp message>                     syntax error
//   line 9, column 5: duplicate key "batchSize" (first at line 4)
//   expected one YAML document, found 2 (the second starts at line 5, column 1)
// No yaml-cpp exception escapes this module.
//
// Thread-safety: pure functions; safe to call concurrently.
#ifndef RINGTRAIN_JOB_YAML_H_
#define RINGTRAIN_JOB_YAML_H_

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::job {

// Converts exactly one YAML document (an empty text gives null).
[[nodiscard]] StatusOr<nlohmann::json> YamlToJson(std::string_view text);

// Writes `value` as a block-style YAML document, keys in their order. A string is written plain
// only when every YAML reader (1.1 and 1.2 alike) reads it back as that same string; otherwise
// it is JSON-quoted, which YAML reads as a double-quoted scalar. Empty objects and arrays are
// written {} and []. YamlToJson(JsonToYaml(v)) equals v.
std::string JsonToYaml(const nlohmann::ordered_json& value);

// Reads the file at `path`, converts it with YamlToJson and parses it with ParseTrainingJob.
// Every error message starts with "<path>: ". A missing or unreadable file is NotFound; a
// directory, FIFO, device or socket (common/input_file.h) and files above 1 MiB (what a
// ConfigMap holds) are InvalidArgument. Memory stays bounded whatever the file holds: more than
// 20,000 YAML nodes, 100,000 after expanding aliases, or nesting deeper than 64 is refused,
// counted while streaming before a tree is built.
[[nodiscard]] StatusOr<TrainingJob> LoadTrainingJobFile(const std::string& path);

}  // namespace ringtrain::job

#endif  // RINGTRAIN_JOB_YAML_H_
