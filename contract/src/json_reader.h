// Internal to the job library: strict, path-aware reading of nlohmann::json values.
//
// Every error is InvalidArgument whose message starts with the full field path
// ("spec.training.batchSize: must be between 1 and 1048576 (got 0)"). A field whose value is
// null counts as absent, as in Kubernetes (an empty YAML value such as `test:` is null).
//
// Thread-safety: an ObjectReader only reads the json it points to.
#ifndef RINGTRAIN_SRC_JOB_JSON_READER_H_
#define RINGTRAIN_SRC_JOB_JSON_READER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ringtrain/common/status.h"

namespace ringtrain::job::internal {

using nlohmann::json;

// "parent.key", or "key" when parent is empty.
std::string FieldPath(const std::string& parent, std::string_view key);
// "parent[i]".
std::string IndexPath(const std::string& parent, size_t index);
// "parent.key" when key is a plain identifier ([A-Za-z0-9_-]+), else `parent["key"]`.
std::string MapKeyPath(const std::string& parent, std::string_view key);

// InvalidArgument("<path>: <message>").
Status FieldError(const std::string& path, std::string_view message);

// Describes a value for a type error: `string "ten"`, `number 3.5`, `boolean true`,
// `an object`, `an array`, `null`. Long strings are shortened.
std::string Describe(const json& v);
// Shortest text that reads back as the same double ("0.05", "1e-06", "3").
std::string FormatDouble(double v);

// The candidate closest to `name` by case-insensitive edit distance, if it is close enough
// to be a likely typo; otherwise "".
std::string ClosestName(std::string_view name, const std::vector<std::string_view>& candidates);
// "a, b, c"
std::string JoinNames(const std::vector<std::string_view>& names);

// Value readers: check the type (and range) of `v`, whose location is `path`.
Status ReadInt(const json& v, const std::string& path, int64_t min, int64_t max, int64_t* out);
Status ReadUint64(const json& v, const std::string& path, uint64_t* out);
Status ReadDouble(const json& v, const std::string& path, double* out);  // finite only
Status ReadBool(const json& v, const std::string& path, bool* out);
Status ReadString(const json& v, const std::string& path, std::string* out);
Status ExpectObject(const json& v, const std::string& path);
Status ExpectArray(const json& v, const std::string& path);

// Looks at the fields of one JSON object; a null field counts as absent.
class ObjectReader {
 public:
  // Fails unless `v` is an object. REQUIRES: `v` outlives the reader.
  static StatusOr<ObjectReader> Open(const json& v, std::string path);

  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const { return FieldPath(path_, key); }

  // The field's value, or nullptr when it is absent or null.
  const json* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }

  // Fails on the first field (in key order) not in `known`, suggesting the closest known name.
  Status CheckFields(const std::vector<std::string_view>& known) const;

  // "<path>.<key>: <message>"
  Status Error(std::string_view key, std::string_view message) const;
  // "<path>.<key>: required field is missing" unless the field is present.
  Status Require(std::string_view key) const;

 private:
  ObjectReader(const json* object, std::string path) : object_(object), path_(std::move(path)) {}

  const json* object_;
  std::string path_;
};

}  // namespace ringtrain::job::internal

#endif  // RINGTRAIN_SRC_JOB_JSON_READER_H_
