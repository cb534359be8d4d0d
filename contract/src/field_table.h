// Internal to the job library: the declarative field table of a TrainingJob.
//
// Each object of the spec is described once, as an Object<S> listing its Fields. A Field binds
// a JSON name to a member of S and carries everything about it: its type, range, format,
// default, enum values, description, whether it is required, and when it applies (a field that
// only some values of a discriminator admit, such as optimizer.momentum). Three things are
// derived from that one declaration:
//   - Object<S>::Parse, the strict parser of parse.h (messages "<path>: <what is wrong>");
//   - Object<S>::Write, ToJson's form of the value;
//   - Object<S>::ToSchema, the OpenAPI schema of the CRD, with CEL rules for the conditions.
// Rules that span fields (a request must not exceed its limit) are declared on the object
// with both their C++ check and their CEL rule, side by side.
//
// Parse order within one object, which fixes which error a spec with several gets:
//   1. the object's type; 2. the discriminators (so `{format: csv, delimiter: x}` reports that
//   csv is not supported yet, not that delimiter is unknown); 3. unknown fields, with the
//   closest known name suggested; 4. required discriminators; 5. fields written where their
//   condition does not hold; 6. every field in declaration order (required, conditional
//   default, range), the exactly-one group checked before its first member; 7. the object's
//   cross-field rules.
// A field that does not apply holds the member's initial value after parsing (0, false, empty
// for most; spec.h says where not), whether its object was written or not.
//
// Thread-safety: tables are immutable after construction; Parse/Write/ToSchema are const.
#ifndef RINGTRAIN_SRC_JOB_FIELD_TABLE_H_
#define RINGTRAIN_SRC_JOB_FIELD_TABLE_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_reader.h"
#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"
#include "schema.h"

namespace ringtrain::job::internal {

// How the error for a conditional field written where it does not apply reads:
// kOnlyAllowed "only allowed when type is step", kNotAllowed "not allowed when type is sgd".
enum class Phrase { kOnlyAllowed, kNotAllowed };

// The field applies when discriminator `key` (a field of the same object) is one of `values`.
struct Condition {
  std::string key;
  std::vector<std::string> values;
  Phrase phrase = Phrase::kOnlyAllowed;
  bool required = false;  // required whenever it applies
  // The value an absent field takes when it applies, per discriminator value; a pair with an
  // empty first member applies to every value.
  std::vector<std::pair<std::string, nlohmann::json>> defaults;
};

// A string's syntax, once for both sides: the C++ check and the CRD's constraints.
struct StringFormat {
  std::function<Status(const std::string& path, const std::string& value)> check{};
  std::optional<int64_t> min_length{};
  std::optional<int64_t> max_length{};
  std::string pattern{};
  std::vector<std::string> enum_values{};
  std::vector<CelRule> rules{};
};

// A number's interval; the error reads "must be greater than 0", "must be at least 0" or
// "must be in (0, 1]".
struct NumberRange {
  std::optional<double> min{};
  std::optional<double> max{};
  bool min_exclusive = false;
  bool max_exclusive = false;
};

template <typename S>
struct Field {
  std::string name;
  Schema schema;
  bool required = false;
  bool discriminator = false;
  bool in_crd = true;        // false: the API server validates it itself (metadata.namespace)
  bool crd_required = true;  // with `required`: also listed as required in the CRD
  bool omit_empty = true;    // Write leaves out "", false, [] and {} unless required/defaulted
  std::optional<Condition> when;
  std::function<Status(const nlohmann::json&, const std::string&, S*)> read;
  std::function<void(S*)> reset;
  std::function<std::optional<nlohmann::json>(const S&)> write;  // nullopt: left out

  Field Required() && {
    required = true;
    schema.default_value.reset();
    return std::move(*this);
  }
  Field Discriminator() && {
    discriminator = true;
    return std::move(*this);
  }
  Field NotInCrd() && {
    in_crd = false;
    return std::move(*this);
  }
  Field NotRequiredByCrd() && {
    crd_required = false;
    return std::move(*this);
  }
  Field WithoutDefault() && {
    schema.default_value.reset();
    return std::move(*this);
  }
  Field KeepEmpty() && {
    omit_empty = false;
    return std::move(*this);
  }
  // Applies only when `key` is one of `values`; otherwise writing it is an error. A schema
  // default makes no sense then and is dropped.
  Field When(std::string key, std::vector<std::string> values,
             Phrase phrase = Phrase::kOnlyAllowed) && {
    when = Condition{std::move(key), std::move(values), phrase, false, {}};
    schema.default_value.reset();
    return std::move(*this);
  }
  Field RequiredWhenApplies() && {
    when->required = true;
    return std::move(*this);
  }
  Field DefaultWhenApplies(nlohmann::json value) && {
    when->defaults.emplace_back("", std::move(value));
    return std::move(*this);
  }
  Field DefaultsWhenApplies(std::vector<std::pair<std::string, nlohmann::json>> defaults) && {
    when->defaults = std::move(defaults);
    return std::move(*this);
  }
};

// A rule over a whole object: `check` in C++ (path is the object's), `cel` for the CRD. An
// empty `check` means a field's own reader enforces it in C++ (a range that depends on a
// discriminator, NumberBy).
template <typename S>
struct ObjectRule {
  CelRule cel{};
  std::function<Status(const S&, const std::string& path)> check{};
};

namespace table_detail {

// "a", "a or b", "a, b or c"
std::string JoinOr(const std::vector<std::string>& values);
// Checks v against `range` (path for the message).
Status CheckRange(double v, const NumberRange& range, const std::string& path);
// Checks that v is an array of min_items..max_items entries.
Status CheckArrayOf(const nlohmann::json& v, int64_t min_items, int64_t max_items,
                    const std::string& path);
void ApplyRange(const NumberRange& range, Schema* schema);
void ApplyFormat(const StringFormat& format, Schema* schema);
bool IsEmpty(const nlohmann::json& v);
// A CEL double literal ("0.01", "1.0").
std::string CelDouble(double v);
// The CEL expression of a discriminator's value and of "condition holds".
std::string CelValue(const std::string& key, const std::optional<nlohmann::ordered_json>& dflt);
std::string CelHolds(const Condition& c, const std::optional<nlohmann::ordered_json>& dflt);
Status UnknownEnumValue(const std::string& path, const std::string& text,
                        const std::vector<std::string_view>& names,
                        const std::vector<std::string>& reserved);

}  // namespace table_detail

template <typename S>
class Object {
 public:
  explicit Object(std::vector<Field<S>> fields) : fields_(std::move(fields)) {}

  // Field names the parser accepts and ignores (written by the API server), not in the CRD.
  Object Ignoring(std::vector<std::string> names) && {
    ignored_ = std::move(names);
    return std::move(*this);
  }
  Object Rule(ObjectRule<S> rule) && {
    rules_.push_back(std::move(rule));
    return std::move(*this);
  }
  // A rule only a cluster needs: in the CRD, and checked by CheckClusterRules (the operator),
  // not by Parse (`ringtrain run` reads paths on its own machine).
  Object ClusterRule(ObjectRule<S> rule) && {
    cluster_rules_.push_back(std::move(rule));
    return std::move(*this);
  }
  // Exactly one of `names` must be written ("needs a <noun>: one of ...").
  Object ExactlyOne(std::string noun, std::vector<std::string> names) && {
    one_of_noun_ = std::move(noun);
    one_of_ = std::move(names);
    return std::move(*this);
  }

  const std::vector<Field<S>>& fields() const { return fields_; }

  Status Parse(const nlohmann::json& v, const std::string& path, S* out) const;
  nlohmann::json Write(const S& value) const;
  // This object's cluster rules (not those of nested objects), on a parsed value at `path`.
  Status CheckClusterRules(const S& value, const std::string& path) const {
    for (const ObjectRule<S>& rule : cluster_rules_) RT_RETURN_IF_ERROR(rule.check(value, path));
    return Status::Ok();
  }
  // The object's schema (type object, properties, required, rules); the caller adds the
  // description and default of the field that holds it.
  Schema ToSchema() const;

 private:
  const Field<S>* Find(const std::string& name) const {
    for (const Field<S>& f : fields_) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
  // The discriminator's value as its YAML spelling.
  std::string ValueOf(const std::string& key, const S& s) const {
    const Field<S>* f = Find(key);
    std::optional<nlohmann::json> v = f->write(s);
    return v && v->is_string() ? v->template get<std::string>() : "";
  }
  bool Applies(const Field<S>& f, const S& s) const {
    if (!f.when) return true;
    const std::string value = ValueOf(f.when->key, s);
    for (const std::string& allowed : f.when->values) {
      if (allowed == value) return true;
    }
    return false;
  }

  bool InOneOf(const std::string& name) const {
    for (const std::string& n : one_of_) {
      if (n == name) return true;
    }
    return false;
  }
  // Exactly one field of the ExactlyOne group is written.
  Status CheckOneOf(const ObjectReader& r) const {
    std::vector<std::string_view> given, all;
    for (const std::string& name : one_of_) {
      all.push_back(name);
      if (r.Has(name)) given.push_back(name);
    }
    if (given.size() == 1) return Status::Ok();
    return FieldError(r.path(), (given.empty() ? "needs a " + one_of_noun_ + ": one of "
                                               : "has more than one " + one_of_noun_ + " (" +
                                                     JoinNames(given) + "); write one of ") +
                                    JoinNames(all));
  }

  std::vector<Field<S>> fields_;
  std::vector<std::string> ignored_;
  std::vector<ObjectRule<S>> rules_;
  std::vector<ObjectRule<S>> cluster_rules_;
  std::string one_of_noun_;
  std::vector<std::string> one_of_;
};

template <typename S>
Status Object<S>::Parse(const nlohmann::json& v, const std::string& path, S* out) const {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  for (const Field<S>& f : fields_) {
    if (const nlohmann::json* value = f.discriminator ? r.Find(f.name) : nullptr) {
      RT_RETURN_IF_ERROR(f.read(*value, r.PathOf(f.name), out));
    }
  }
  std::vector<std::string_view> known;
  for (const Field<S>& f : fields_) known.push_back(f.name);
  for (const std::string& name : ignored_) known.push_back(name);
  RT_RETURN_IF_ERROR(r.CheckFields(known));
  for (const Field<S>& f : fields_) {
    if (f.discriminator && f.required) RT_RETURN_IF_ERROR(r.Require(f.name));
  }
  for (const Field<S>& f : fields_) {
    if (!r.Has(f.name) || Applies(f, *out)) continue;
    const Condition& c = *f.when;
    return r.Error(f.name,
                   c.phrase == Phrase::kOnlyAllowed
                       ? "only allowed when " + c.key + " is " + table_detail::JoinOr(c.values)
                       : "not allowed when " + c.key + " is " + ValueOf(c.key, *out));
  }
  bool one_of_checked = false;
  for (const Field<S>& f : fields_) {
    if (f.discriminator) continue;
    if (!one_of_checked && InOneOf(f.name)) {
      RT_RETURN_IF_ERROR(CheckOneOf(r));
      one_of_checked = true;
    }
    if (!Applies(f, *out)) {
      f.reset(out);
      continue;
    }
    const nlohmann::json* value = r.Find(f.name);
    if (value != nullptr) {
      RT_RETURN_IF_ERROR(f.read(*value, r.PathOf(f.name), out));
      continue;
    }
    if (f.required) return r.Require(f.name);
    if (!f.when) continue;
    if (f.when->required) {
      return r.Error(
          f.name, "required when " + f.when->key + " is " + table_detail::JoinOr(f.when->values));
    }
    const std::string selector = ValueOf(f.when->key, *out);
    for (const auto& [when_value, dflt] : f.when->defaults) {
      if (when_value.empty() || when_value == selector) {
        RT_RETURN_IF_ERROR(f.read(dflt, r.PathOf(f.name), out));
        break;
      }
    }
  }
  for (const ObjectRule<S>& rule : rules_) {
    if (rule.check) RT_RETURN_IF_ERROR(rule.check(*out, path));
  }
  return Status::Ok();
}

template <typename S>
nlohmann::json Object<S>::Write(const S& value) const {
  nlohmann::json out = nlohmann::json::object();
  for (const Field<S>& f : fields_) {
    if (!Applies(f, value)) continue;
    std::optional<nlohmann::json> v = f.write(value);
    if (!v) continue;
    const bool always = f.required || f.schema.default_value.has_value() || f.when.has_value();
    if (!always && f.omit_empty && table_detail::IsEmpty(*v)) continue;
    out[f.name] = std::move(*v);
  }
  return out;
}

template <typename S>
Schema Object<S>::ToSchema() const {
  Schema s;
  s.type = Schema::Type::kObject;
  for (const Field<S>& f : fields_) {
    if (!f.in_crd) continue;
    s.properties.push_back({f.name, f.schema});
    if (f.required && f.crd_required) s.required.push_back(f.name);
  }
  for (const Field<S>& f : fields_) {
    if (!f.in_crd || !f.when) continue;
    const Condition& c = *f.when;
    const Field<S>* key = Find(c.key);
    const std::string holds = table_detail::CelHolds(c, key->schema.default_value);
    CelRule forbidden;
    forbidden.rule = "!has(self." + f.name + ") || " + holds;
    forbidden.field_path = "." + f.name;
    forbidden.reason = "FieldValueForbidden";
    if (c.phrase == Phrase::kOnlyAllowed) {
      forbidden.message = "only allowed when " + c.key + " is " + table_detail::JoinOr(c.values);
    } else {
      forbidden.message = "not allowed for this " + c.key;
      forbidden.message_expression = "'not allowed when " + c.key + " is ' + " +
                                     table_detail::CelValue(c.key, key->schema.default_value);
    }
    s.rules.push_back(std::move(forbidden));
    if (c.required) {
      CelRule required;
      required.rule = "!(" + holds + ") || has(self." + f.name + ")";
      required.message = "required when " + c.key + " is " + table_detail::JoinOr(c.values);
      required.field_path = "." + f.name;
      required.reason = "FieldValueRequired";
      s.rules.push_back(std::move(required));
    }
  }
  if (!one_of_.empty()) {
    CelRule rule;
    std::string list;
    for (size_t i = 0; i < one_of_.size(); ++i) {
      list += (i ? ", has(self." : "has(self.") + one_of_[i] + ")";
    }
    rule.rule = "[" + list + "].filter(x, x).size() == 1";
    rule.message = "needs exactly one " + one_of_noun_ + ": " + table_detail::JoinOr(one_of_);
    s.rules.push_back(std::move(rule));
  }
  for (const ObjectRule<S>& r : rules_) s.rules.push_back(r.cel);
  for (const ObjectRule<S>& r : cluster_rules_) s.rules.push_back(r.cel);
  return s;
}

// Field builders. Each reads into member `m` of S; `description` is the CRD's (and `kubectl
// explain`'s) text for the field.

// An integer in [min, max]; format int32 for int members, int64 otherwise. A schema default
// (the member's initial value) unless made conditional or required.
template <typename S, typename T>
Field<S> Int(std::string name, T S::*m, int64_t min, int64_t max, std::string description) {
  static_assert(std::is_same_v<T, int> || std::is_same_v<T, int64_t>);
  Field<S> f;
  f.name = std::move(name);
  f.schema = IntegerSchema(std::is_same_v<T, int> ? "int32" : "int64", std::move(description),
                           static_cast<double>(min));
  if (max != std::numeric_limits<int64_t>::max()) f.schema.maximum = static_cast<double>(max);
  f.schema.default_value = S{}.*m;
  f.read = [m, min, max](const nlohmann::json& v, const std::string& path, S* out) {
    int64_t wide = 0;
    RT_RETURN_IF_ERROR(ReadInt(v, path, min, max, &wide));
    out->*m = static_cast<T>(wide);
    return Status::Ok();
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m](const S& s) -> std::optional<nlohmann::json> { return s.*m; };
  return f;
}

// An optional integer in [min, max]; absent = nullopt (no default).
template <typename S>
Field<S> OptionalInt(std::string name, std::optional<int64_t> S::*m, int64_t min, int64_t max,
                     std::string description) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = IntegerSchema("int64", std::move(description), static_cast<double>(min));
  if (max != std::numeric_limits<int64_t>::max()) f.schema.maximum = static_cast<double>(max);
  f.read = [m, min, max](const nlohmann::json& v, const std::string& path, S* out) {
    int64_t value = 0;
    RT_RETURN_IF_ERROR(ReadInt(v, path, min, max, &value));
    out->*m = value;
    return Status::Ok();
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m](const S& s) -> std::optional<nlohmann::json> {
    if (!(s.*m)) return std::nullopt;
    return *(s.*m);
  };
  return f;
}

// Any unsigned 64-bit integer. The CRD (format int64) stops at 2^63-1.
template <typename S>
Field<S> Uint64(std::string name, uint64_t S::*m, std::string description) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = IntegerSchema("int64", std::move(description), 0.0);
  f.schema.default_value = S{}.*m;
  f.read = [m](const nlohmann::json& v, const std::string& path, S* out) {
    return ReadUint64(v, path, &(out->*m));
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m](const S& s) -> std::optional<nlohmann::json> { return s.*m; };
  return f;
}

// A finite number in `range`.
template <typename S>
Field<S> Number(std::string name, double S::*m, NumberRange range, std::string description) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = NumberSchema(std::move(description));
  table_detail::ApplyRange(range, &f.schema);
  f.schema.default_value = S{}.*m;
  f.read = [m, range](const nlohmann::json& v, const std::string& path, S* out) {
    double value = 0;
    RT_RETURN_IF_ERROR(ReadDouble(v, path, &value));
    RT_RETURN_IF_ERROR(table_detail::CheckRange(value, range, path));
    out->*m = value;
    return Status::Ok();
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m](const S& s) -> std::optional<nlohmann::json> { return s.*m; };
  return f;
}

// A finite number whose range depends on the discriminators already read: `range_of(*out)`.
// The CRD gets `schema_range`, the widest; an object rule must carry the narrower cases.
template <typename S>
Field<S> NumberBy(std::string name, double S::*m, NumberRange schema_range,
                  std::function<NumberRange(const S&)> range_of, std::string description) {
  Field<S> f = Number(std::move(name), m, schema_range, std::move(description));
  f.read = [m, range_of](const nlohmann::json& v, const std::string& path, S* out) {
    double value = 0;
    RT_RETURN_IF_ERROR(ReadDouble(v, path, &value));
    RT_RETURN_IF_ERROR(table_detail::CheckRange(value, range_of(*out), path));
    out->*m = value;
    return Status::Ok();
  };
  return f;
}

// A boolean; `with_default`: the member's initial value is the schema default.
template <typename S>
Field<S> Bool(std::string name, bool S::*m, std::string description, bool with_default = true) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = BooleanSchema(std::move(description));
  if (with_default) f.schema.default_value = S{}.*m;
  f.read = [m](const nlohmann::json& v, const std::string& path, S* out) {
    return ReadBool(v, path, &(out->*m));
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m](const S& s) -> std::optional<nlohmann::json> { return s.*m; };
  return f;
}

// A string of the given format (no schema default: empty means unset).
template <typename S>
Field<S> String(std::string name, std::string S::*m, const StringFormat& format,
                std::string description) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = StringSchema(std::move(description));
  table_detail::ApplyFormat(format, &f.schema);
  f.read = [m, check = format.check](const nlohmann::json& v, const std::string& path, S* out) {
    std::string value;
    RT_RETURN_IF_ERROR(ReadString(v, path, &value));
    if (check) RT_RETURN_IF_ERROR(check(path, value));
    out->*m = std::move(value);
    return Status::Ok();
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m](const S& s) -> std::optional<nlohmann::json> { return s.*m; };
  return f;
}

// A required string that must be exactly `value` (apiVersion, kind).
template <typename S>
Field<S> Constant(std::string name, std::string S::*m, std::string value, std::string description) {
  StringFormat format;
  format.check = [value](const std::string& path, const std::string& got) {
    if (got == value) return Status::Ok();
    return FieldError(path, "must be \"" + value + "\" (got \"" + got + "\")");
  };
  return String(std::move(name), m, format, std::move(description)).Required();
}

// An enum read by its Name() spelling; every value of EnumTraits<E> is accepted. `reserved`
// values are planned by the design and rejected as not supported yet. The schema lists the
// accepted values; its default is the member's initial value.
template <typename S, typename E>
Field<S> Enum(std::string name, E S::*m, std::string description,
              std::vector<std::string> reserved = {}) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = StringSchema(std::move(description));
  for (E e : EnumTraits<E>::kValues) f.schema.enum_values.push_back(Name(e));
  f.schema.default_value = Name(S{}.*m);
  f.read = [m, reserved](const nlohmann::json& v, const std::string& path, S* out) {
    std::string text;
    RT_RETURN_IF_ERROR(ReadString(v, path, &text));
    std::vector<std::string_view> names;
    for (E e : EnumTraits<E>::kValues) {
      if (text == Name(e)) {
        out->*m = e;
        return Status::Ok();
      }
      names.push_back(Name(e));
    }
    return table_detail::UnknownEnumValue(path, text, names, reserved);
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m](const S& s) -> std::optional<nlohmann::json> { return Name(s.*m); };
  return f;
}

// A nested object, all defaults when absent (schema default {}).
template <typename S, typename T>
Field<S> Child(std::string name, T S::*m, const Object<T>& table, std::string description) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = table.ToSchema();
  f.schema.description = std::move(description);
  f.schema.default_value = nlohmann::ordered_json::object();
  f.read = [m, &table](const nlohmann::json& v, const std::string& path, S* out) {
    return table.Parse(v, path, &(out->*m));
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m, &table](const S& s) -> std::optional<nlohmann::json> { return table.Write(s.*m); };
  f.omit_empty = false;
  return f;
}

// A nested object that may be absent (nullopt; no schema default).
template <typename S, typename T>
Field<S> OptionalChild(std::string name, std::optional<T> S::*m, const Object<T>& table,
                       std::string description) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = table.ToSchema();
  f.schema.description = std::move(description);
  f.read = [m, &table](const nlohmann::json& v, const std::string& path, S* out) {
    T value;
    RT_RETURN_IF_ERROR(table.Parse(v, path, &value));
    out->*m = std::move(value);
    return Status::Ok();
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m, &table](const S& s) -> std::optional<nlohmann::json> {
    if (!(s.*m)) return std::nullopt;
    return table.Write(*(s.*m));
  };
  return f;
}

// One alternative of an object's ExactlyOne group whose fields live in S itself: writing it
// sets `kind_member` to `kind` and reads the alternative's fields into S; Write shows it only
// for that kind.
template <typename S, typename K>
Field<S> Variant(std::string name, K S::*kind_member, K kind, const Object<S>& table,
                 std::string description) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = table.ToSchema();
  f.schema.description = std::move(description);
  f.read = [kind_member, kind, &table](const nlohmann::json& v, const std::string& path, S* out) {
    out->*kind_member = kind;
    return table.Parse(v, path, out);
  };
  f.reset = [](S*) {};
  f.write = [kind_member, kind, &table](const S& s) -> std::optional<nlohmann::json> {
    if (s.*kind_member != kind) return std::nullopt;
    return table.Write(s);
  };
  f.omit_empty = false;
  return f;
}

// A list of integers: min_items..max_items entries, each in [min, max].
template <typename S>
Field<S> IntList(std::string name, std::vector<int> S::*m, int64_t min_items, int64_t max_items,
                 int64_t min, int64_t max, std::string description) {
  Field<S> f;
  f.name = std::move(name);
  Schema item = IntegerSchema("int32", "", static_cast<double>(min));
  item.maximum = static_cast<double>(max);
  f.schema = ArraySchema(std::move(description), std::move(item));
  f.schema.min_items = min_items;
  f.schema.max_items = max_items;
  f.schema.list_type = "atomic";
  f.read = [=](const nlohmann::json& v, const std::string& path, S* out) {
    RT_RETURN_IF_ERROR(table_detail::CheckArrayOf(v, min_items, max_items, path));
    std::vector<int> values;
    for (size_t i = 0; i < v.size(); ++i) {
      int64_t value = 0;
      RT_RETURN_IF_ERROR(ReadInt(v[i], IndexPath(path, i), min, max, &value));
      values.push_back(static_cast<int>(value));
    }
    out->*m = std::move(values);
    return Status::Ok();
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m](const S& s) -> std::optional<nlohmann::json> { return s.*m; };
  return f;
}

// A list of finite numbers, min_items..max_items entries, each at least the one before it
// (the CRD checks the order with the Kubernetes CEL list library's isSorted).
template <typename S>
Field<S> AscendingNumberList(std::string name, std::vector<double> S::*m, int64_t min_items,
                             int64_t max_items, std::string description) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = ArraySchema(std::move(description), NumberSchema(""));
  f.schema.min_items = min_items;
  f.schema.max_items = max_items;
  f.schema.list_type = "atomic";
  f.schema.rules.push_back({.rule = "self.isSorted()", .message = "must be in ascending order"});
  f.read = [=](const nlohmann::json& v, const std::string& path, S* out) {
    RT_RETURN_IF_ERROR(table_detail::CheckArrayOf(v, min_items, max_items, path));
    std::vector<double> values;
    for (size_t i = 0; i < v.size(); ++i) {
      double value = 0;
      RT_RETURN_IF_ERROR(ReadDouble(v[i], IndexPath(path, i), &value));
      if (!values.empty() && value < values.back()) {
        return FieldError(path, "must be in ascending order (entry " + std::to_string(i) +
                                    " is below the one before it)");
      }
      values.push_back(value);
    }
    out->*m = std::move(values);
    return Status::Ok();
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m](const S& s) -> std::optional<nlohmann::json> { return s.*m; };
  return f;
}

// What makes the items of a list unique: the JSON field `field`, as the C++ value `key` gives
// it; a duplicate reads `<path>[i].<field>: <duplicate> "<key>" already`.
template <typename T>
struct UniqueKey {
  std::string field;
  std::function<std::string(const T&)> key;
  std::string duplicate;  // "another volume is named"
};

// A list of objects, at most max_items, unique by `unique` (a CRD list of type map).
template <typename S, typename T>
Field<S> List(std::string name, std::vector<T> S::*m, const Object<T>& table, int64_t max_items,
              UniqueKey<T> unique, std::string description) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = ArraySchema(std::move(description), table.ToSchema());
  f.schema.max_items = max_items;
  f.schema.list_type = "map";
  f.schema.list_map_keys = {unique.field};
  f.read = [m, &table, max_items, unique](const nlohmann::json& v, const std::string& path,
                                          S* out) {
    RT_RETURN_IF_ERROR(ExpectArray(v, path));
    if (static_cast<int64_t>(v.size()) > max_items) {
      return FieldError(path, "must have at most " + std::to_string(max_items) + " items (got " +
                                  std::to_string(v.size()) + ")");
    }
    std::vector<T> items;
    std::set<std::string> keys;
    for (size_t i = 0; i < v.size(); ++i) {
      T item;
      RT_RETURN_IF_ERROR(table.Parse(v[i], IndexPath(path, i), &item));
      const std::string key = unique.key(item);
      if (!keys.insert(key).second) {
        return FieldError(IndexPath(path, i) + "." + unique.field,
                          unique.duplicate + " \"" + key + "\" already");
      }
      items.push_back(std::move(item));
    }
    out->*m = std::move(items);
    return Status::Ok();
  };
  f.reset = [m](S* out) { out->*m = S{}.*m; };
  f.write = [m, &table](const S& s) -> std::optional<nlohmann::json> {
    nlohmann::json list = nlohmann::json::array();
    for (const T& item : s.*m) list.push_back(table.Write(item));
    return list;
  };
  return f;
}

// A field with hand-written parts, for shapes the builders above do not cover (maps of
// quantities, label maps). `schema` is its CRD schema.
template <typename S>
Field<S> Custom(std::string name, Schema schema,
                std::function<Status(const nlohmann::json&, const std::string&, S*)> read,
                std::function<std::optional<nlohmann::json>(const S&)> write,
                std::function<void(S*)> reset) {
  Field<S> f;
  f.name = std::move(name);
  f.schema = std::move(schema);
  f.read = std::move(read);
  f.write = std::move(write);
  f.reset = std::move(reset);
  return f;
}

// The fields of a base B as fields of a derived D (the replica fields of ParameterServerSpec).
template <typename D, typename B>
std::vector<Field<D>> AsFieldsOf(std::vector<Field<B>> fields) {
  static_assert(std::is_base_of_v<B, D>);
  std::vector<Field<D>> out;
  for (Field<B>& b : fields) {
    Field<D> d;
    d.name = std::move(b.name);
    d.schema = std::move(b.schema);
    d.required = b.required;
    d.discriminator = b.discriminator;
    d.in_crd = b.in_crd;
    d.crd_required = b.crd_required;
    d.omit_empty = b.omit_empty;
    d.when = std::move(b.when);
    d.read = [read = std::move(b.read)](const nlohmann::json& v, const std::string& path, D* o) {
      return read(v, path, o);
    };
    d.reset = [reset = std::move(b.reset)](D* o) { reset(o); };
    d.write = [write = std::move(b.write)](const D& s) { return write(s); };
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace ringtrain::job::internal

#endif  // RINGTRAIN_SRC_JOB_FIELD_TABLE_H_
