// Records of the text formats, one line each, parsed without allocating once the record's
// vectors have grown to the data's widest line (std::from_chars, no locale, no streams).
//
//   LibSVM / SVMlight   "<label> [qid:<n>] <index>:<value> ... [# comment]": indices ascending,
//                       `index_base` (1 in LibSVM files, 0 in some) mapped to feature 0;
//                       with num_features > 0, an index beyond it is an error.
//   CSV                 a header line naming the columns (CsvSchema), then one number per
//                       column; the label column chosen by name or index, every other column a
//                       feature in order. Fields may be quoted ("1.5"); no quoted commas or
//                       newlines (numeric data only).
//   Criteo              tab-separated: the label (0 or 1), 13 integer columns (I1-I13, possibly
//                       empty or negative), 26 categorical columns (C1-C26, usually 8 hex
//                       digits, possibly empty). Integers go to dense (empty -> 0, with its
//                       bit clear in present), categorical values become 64-bit keys with
//                       CriteoKey (empty ones none).
//
// Errors: InvalidArgument whose message starts with "column <k>: " (1-based; for LibSVM the
// whitespace-separated token) and says what is wrong: not a number, NaN or infinite values,
// index out of range or not ascending, a wrong number of columns, an unknown label column.
// Callers prefix "<uri>:<line>: ".
//
// Thread-safety: parsers are values; Parse is const and may be called from several threads
// with different records.
#ifndef RINGTRAIN_DATA_TEXT_RECORDS_H_
#define RINGTRAIN_DATA_TEXT_RECORDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringtrain/common/status.h"

namespace ringtrain::data {

struct TextRecord {
  float label = 0;
  std::vector<uint64_t> indices;  // LibSVM: 0-based feature indices, ascending
  std::vector<float> values;      // LibSVM: their values
  std::vector<float> dense;       // CSV: the feature columns; Criteo: I1-I13
  uint32_t present = 0;           // Criteo: bit i set when I(i+1) had a value
  std::vector<uint64_t> keys;     // Criteo: the non-empty categorical columns' keys

  void Clear() {
    label = 0;
    indices.clear();
    values.clear();
    dense.clear();
    present = 0;
    keys.clear();
  }
};

// The Criteo categorical key of `value` in categorical column `field` (0-based, C1 = 0):
// bits 63-56 hold field + 1 (so keys of different columns never collide, and 0 is left for
// keys of other origins), bits 55-0 the top 56 bits of Hash64(value) (common/hash.h:
// FNV-1a 64 then MurmurHash3's finaliser), so the same value in the same column gives the same
// key on every machine. The sparse-model issue reads these keys.
uint64_t CriteoKey(int field, std::string_view value);

inline constexpr int kCriteoIntegerColumns = 13;
inline constexpr int kCriteoCategoricalColumns = 26;

class LibsvmParser {
 public:
  // REQUIRES: index_base is 0 or 1; num_features >= 0 (0: unchecked)
  LibsvmParser(int index_base, uint64_t num_features)
      : index_base_(index_base), num_features_(num_features) {}
  [[nodiscard]] Status Parse(std::string_view line, TextRecord* out) const;

 private:
  int index_base_;
  uint64_t num_features_;
};

// The columns of a CSV file, from its header line.
struct CsvSchema {
  std::vector<std::string> names;
  int label_column = 0;  // 0-based

  int features() const { return static_cast<int>(names.size()) - 1; }
};

// `label` is a column name, or "#<k>" for the k-th column (1-based). InvalidArgument if the
// header has fewer than two columns, an empty or repeated name, or no such label column.
[[nodiscard]] StatusOr<CsvSchema> ParseCsvHeader(std::string_view header, std::string_view label);

class CsvParser {
 public:
  explicit CsvParser(CsvSchema schema) : schema_(std::move(schema)) {}
  [[nodiscard]] Status Parse(std::string_view line, TextRecord* out) const;
  const CsvSchema& schema() const { return schema_; }

 private:
  CsvSchema schema_;
};

class CriteoParser {
 public:
  [[nodiscard]] Status Parse(std::string_view line, TextRecord* out) const;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_TEXT_RECORDS_H_
