// Internal to the data area: the pieces of a text record's fields that the record parsers
// (text_records.cc, feature_schema.cc) share. Messages follow text_records.h: "column <k>: ..."
// (1-based), with a bad token quoted by Excerpt.
//
// Thread-safety: functions of their arguments.
#ifndef RINGTRAIN_SRC_DATA_TEXT_FIELDS_H_
#define RINGTRAIN_SRC_DATA_TEXT_FIELDS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "ringtrain/common/status.h"

namespace ringtrain::data::internal {

// `s` quoted, at most 40 bytes of it, control and non-ASCII bytes shown as '?'.
std::string Excerpt(std::string_view s);

// InvalidArgument "column <column>: <what>".
Status ColumnError(size_t column, const std::string& what);

// A finite float, the whole of `s` (a leading '+' allowed; too small for a float reads 0).
Status ParseFloat(std::string_view s, size_t column, float* out);

bool IsSpace(char c);  // ' ' or '\t'

// Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF) without
// control characters.
bool PrintableUtf8(std::string_view s);

// `s` without one pair of surrounding double quotes, if it has them.
std::string_view Unquote(std::string_view s);

}  // namespace ringtrain::data::internal

#endif  // RINGTRAIN_SRC_DATA_TEXT_FIELDS_H_
