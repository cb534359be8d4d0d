#include "schema.h"

#include <cmath>

namespace ringtrain::job::internal {
namespace {

using ojson = nlohmann::ordered_json;

const char* TypeName(Schema::Type type) {
  switch (type) {
    case Schema::Type::kObject:
      return "object";
    case Schema::Type::kArray:
      return "array";
    case Schema::Type::kString:
      return "string";
    case Schema::Type::kInteger:
      return "integer";
    case Schema::Type::kNumber:
      return "number";
    case Schema::Type::kBoolean:
      return "boolean";
    case Schema::Type::kIntOrString:
      return "";
  }
  return "";
}

// Bounds print as integers when they are whole (minimum: 1, not 1.0).
ojson Bound(double v) {
  if (std::trunc(v) == v && std::fabs(v) < 9e15) return static_cast<int64_t>(v);
  return v;
}

ojson RuleToJson(const CelRule& r) {
  ojson out = {{"rule", r.rule}};
  if (!r.message.empty()) out["message"] = r.message;
  if (!r.message_expression.empty()) out["messageExpression"] = r.message_expression;
  if (!r.field_path.empty()) out["fieldPath"] = r.field_path;
  if (!r.reason.empty()) out["reason"] = r.reason;
  return out;
}

}  // namespace

ojson Schema::ToJson() const {
  ojson out = ojson::object();
  if (type == Type::kIntOrString) {
    out["anyOf"] = ojson::array({{{"type", "integer"}}, {{"type", "string"}}});
    out["x-kubernetes-int-or-string"] = true;
  } else {
    out["type"] = TypeName(type);
  }
  if (!format.empty()) out["format"] = format;
  if (!description.empty()) out["description"] = description;
  if (!enum_values.empty()) out["enum"] = enum_values;
  if (default_value) out["default"] = *default_value;
  if (minimum) out["minimum"] = Bound(*minimum);
  if (exclusive_minimum) out["exclusiveMinimum"] = true;
  if (maximum) out["maximum"] = Bound(*maximum);
  if (exclusive_maximum) out["exclusiveMaximum"] = true;
  if (min_length) out["minLength"] = *min_length;
  if (max_length) out["maxLength"] = *max_length;
  if (!pattern.empty()) out["pattern"] = pattern;
  if (min_items) out["minItems"] = *min_items;
  if (max_items) out["maxItems"] = *max_items;
  if (max_properties) out["maxProperties"] = *max_properties;
  if (!list_type.empty()) out["x-kubernetes-list-type"] = list_type;
  if (!list_map_keys.empty()) out["x-kubernetes-list-map-keys"] = list_map_keys;
  if (!required.empty()) out["required"] = required;
  if (items) out["items"] = items->ToJson();
  if (additional_properties) out["additionalProperties"] = additional_properties->ToJson();
  if (!properties.empty()) {
    ojson props = ojson::object();
    for (const auto& [name, schema] : properties) props[name] = schema.ToJson();
    out["properties"] = std::move(props);
  }
  if (!rules.empty()) {
    ojson list = ojson::array();
    for (const CelRule& r : rules) list.push_back(RuleToJson(r));
    out["x-kubernetes-validations"] = std::move(list);
  }
  return out;
}

Schema ObjectSchema(std::string description, std::vector<SchemaProperty> properties) {
  Schema s;
  s.type = Schema::Type::kObject;
  s.description = std::move(description);
  s.properties = std::move(properties);
  return s;
}

Schema StringSchema(std::string description) {
  Schema s;
  s.type = Schema::Type::kString;
  s.description = std::move(description);
  return s;
}

Schema IntegerSchema(std::string format, std::string description, std::optional<double> minimum) {
  Schema s;
  s.type = Schema::Type::kInteger;
  s.format = std::move(format);
  s.description = std::move(description);
  s.minimum = minimum;
  return s;
}

Schema NumberSchema(std::string description) {
  Schema s;
  s.type = Schema::Type::kNumber;
  s.description = std::move(description);
  return s;
}

Schema BooleanSchema(std::string description) {
  Schema s;
  s.type = Schema::Type::kBoolean;
  s.description = std::move(description);
  return s;
}

Schema TimeSchema(std::string description) {
  Schema s = StringSchema(std::move(description));
  s.format = "date-time";
  return s;
}

Schema ArraySchema(std::string description, Schema items) {
  Schema s;
  s.type = Schema::Type::kArray;
  s.description = std::move(description);
  s.items = std::make_shared<const Schema>(std::move(items));
  return s;
}

}  // namespace ringtrain::job::internal
