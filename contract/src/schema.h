// Internal to the job library: one node of an OpenAPI v3 schema as a CustomResourceDefinition
// carries it (a "structural schema" with Kubernetes' x-kubernetes-* extensions and CEL rules).
//
// The field table (field_table.h) builds these from its declarations, and crd.cc prints them;
// nothing here validates a value. Properties keep their declaration order so the generated CRD
// reads in the order the table is written.
//
// Thread-safety: plain values.
#ifndef RINGTRAIN_SRC_JOB_SCHEMA_H_
#define RINGTRAIN_SRC_JOB_SCHEMA_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace ringtrain::job::internal {

// One x-kubernetes-validations entry: a CEL rule the API server evaluates with `self` bound
// to the value the schema describes.
struct CelRule {
  std::string rule{};
  std::string message{};             // shown when the rule is false...
  std::string message_expression{};  // ...unless this CEL string expression is set
  std::string field_path{};          // ".momentum": where the error is reported, relative to self
  std::string reason{};              // FieldValueForbidden, FieldValueRequired, ... ("" = Invalid)
};

struct SchemaProperty;

struct Schema {
  enum class Type { kObject, kArray, kString, kInteger, kNumber, kBoolean, kIntOrString };

  Type type = Type::kObject;
  std::string description;
  std::string format;  // int32, int64, date-time
  std::optional<nlohmann::ordered_json> default_value;
  std::vector<std::string> enum_values;
  std::optional<double> minimum;
  std::optional<double> maximum;
  bool exclusive_minimum = false;
  bool exclusive_maximum = false;
  std::optional<int64_t> min_length;
  std::optional<int64_t> max_length;
  std::optional<int64_t> min_items;
  std::optional<int64_t> max_items;
  std::optional<int64_t> max_properties;
  std::string pattern;
  // kObject: its fields, in order, and which of them are required. (A struct, not a
  // std::pair: clang 14 cannot instantiate pair<string, Schema> inside Schema's definition.)
  std::vector<SchemaProperty> properties;
  std::vector<std::string> required;
  // kArray: the items; kObject used as a map: the values (additionalProperties).
  std::shared_ptr<const Schema> items;
  std::shared_ptr<const Schema> additional_properties;
  std::string list_type;  // x-kubernetes-list-type: atomic, map, set
  std::vector<std::string> list_map_keys;
  std::vector<CelRule> rules;

  // The schema as the CRD writes it (keys in a fixed order: type first, then the description,
  // constraints, properties and rules).
  nlohmann::ordered_json ToJson() const;
};

struct SchemaProperty {
  std::string name;
  Schema schema;
};

// Leaf constructors for schemas written by hand (the status, the resource maps).
Schema ObjectSchema(std::string description, std::vector<SchemaProperty> properties = {});
Schema StringSchema(std::string description);
// type integer with its format ("int32" or "int64") and, when given, its minimum.
Schema IntegerSchema(std::string format, std::string description,
                     std::optional<double> minimum = std::nullopt);
Schema NumberSchema(std::string description);
Schema BooleanSchema(std::string description);
Schema TimeSchema(std::string description);  // a string of format date-time
Schema ArraySchema(std::string description, Schema items);

}  // namespace ringtrain::job::internal

#endif  // RINGTRAIN_SRC_JOB_SCHEMA_H_
