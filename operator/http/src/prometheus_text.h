// Pieces of the Prometheus text exposition format 0.0.4: name validation, escaping and
// number formatting. Internal to the metrics registry. Pure functions; thread-safe.
#ifndef RINGTRAIN_OPERATOR_SRC_PROMETHEUS_TEXT_H_
#define RINGTRAIN_OPERATOR_SRC_PROMETHEUS_TEXT_H_

#include <string>
#include <vector>

namespace ringtrain::op::prom {

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(const std::string& name);
// [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__" (reserved for Prometheus).
bool IsValidLabelName(const std::string& name);

// For # HELP lines: backslash and newline escaped.
std::string EscapeHelp(const std::string& help);
// For label values: backslash, double quote and newline escaped.
std::string EscapeLabelValue(const std::string& value);

// "3", "0.25", "1e-07", "NaN", "+Inf", "-Inf": integers in plain digits, other values in the
// shortest form that reads back exactly.
std::string FormatValue(double value);

// `{a="x",b="y"}` (with `le="<le>"` last if `le` is non-empty), or "" when there are no labels.
// REQUIRES: names.size() == values.size()
std::string FormatLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values, const std::string& le = "");

}  // namespace ringtrain::op::prom

#endif  // RINGTRAIN_OPERATOR_SRC_PROMETHEUS_TEXT_H_
