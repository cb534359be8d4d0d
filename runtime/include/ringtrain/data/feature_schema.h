// The feature schema of a click-through model's CSV data: which columns are features, and how
// each becomes entries (field, key, value) of a data::SparseBatch row.
//
// Field f (0-based, its place in the schema; at most kMaxFeatureFields) reads its column so:
//   categorical          the cell is one token; key FeatureKey(f, token, hash_space), value 1.
//   categorical with     the cell is split at `separator` into tokens (a multi-valued field,
//   a separator          such as a movie's genres); each token's key as above, with value 1
//                        (combiner sum) or 1/n for n tokens (combiner mean).
//   numeric              the cell is a number x; key FeatureKey(f, "", 0), value x.
//   numeric with         the cell is a number x, put in bucket b = the number of boundaries
//   buckets              <= x (0..buckets.size()); key FeatureKey(f, "#b", 0), value 1.
// Tokens are trimmed of spaces and tabs; an empty cell or token is a missing value and gives no
// entry. Columns the schema does not name (and the label column) give none either.
//
// FeatureKey is field-aware, so the same token in two fields gives two keys: bits 63-56 hold
// f + 1, bits 55-0 the top 56 bits of Hash64(token) (common/hash.h), or, with hash_space > 0,
// ScaleToRange(Hash64(token), hash_space): at most hash_space keys in the field, tokens sharing
// them (the hashing trick). With hash_space 0 it is data::CriteoKey (text_records.h).
//
// SparseCsvParser: the CSV file's header names the columns (text_records.h's CsvSchema rules:
// comma-separated, quotes around a cell allowed, no quoted commas); every record has as many
// cells. The label column holds 0 or 1 (-1 reads as 0).
//
// Errors: SparseCsvParser::Make returns InvalidArgument "fields[i].<what>: ..." for a schema the
// header does not fit (no such column, the label column, a column named twice) and the header's
// own errors; Parse returns "column <k>: ..." (1-based) for a bad record, and leaves the batch
// as it was. Callers prefix "<uri>:<line>: ".
//
// Thread-safety: parsers are values; Parse is const.
#ifndef RINGTRAIN_DATA_FEATURE_SCHEMA_H_
#define RINGTRAIN_DATA_FEATURE_SCHEMA_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/data/sparse_batch.h"

namespace ringtrain::data {

enum class FeatureKind { kCategorical, kNumeric };
enum class FeatureCombiner { kMean, kSum };

struct FeatureField {
  std::string column;
  FeatureKind kind = FeatureKind::kCategorical;
  std::string separator{};                            // categorical: multi-valued when not empty
  FeatureCombiner combiner = FeatureCombiner::kMean;  // multi-valued only
  std::vector<double> buckets{};  // numeric: ascending boundaries; empty: the value itself
  uint64_t hash_space = 0;        // categorical: keys of the field, 1..2^56; 0: 2^56
};

inline constexpr int kMaxFeatureFields = 255;
inline constexpr uint64_t kMaxHashSpace = uint64_t{1} << 56;

// REQUIRES: 0 <= field < kMaxFeatureFields; hash_space <= kMaxHashSpace.
uint64_t FeatureKey(int field, std::string_view token, uint64_t hash_space);

// Checks a schema on its own: 1..kMaxFeatureFields fields, each with a column name, buckets
// ascending and finite, hash_space <= kMaxHashSpace, a separator only on categorical
// fields and buckets only on numeric ones. InvalidArgument "fields[i].<field>: ...".
Status ValidateFeatureSchema(std::span<const FeatureField> fields);

class SparseCsvParser {
 public:
  // `header` is the file's first line; `label_column` a column name or "#k" (1-based).
  static StatusOr<SparseCsvParser> Make(std::span<const FeatureField> fields,
                                        std::string_view header, std::string_view label_column);

  // Appends the row of `line` to *out (its entries, then EndRow with its label).
  [[nodiscard]] Status Parse(std::string_view line, SparseBatch* out) const;

  int columns() const { return static_cast<int>(role_.size()); }

 private:
  struct Field {
    FeatureField spec;
    std::vector<uint64_t> bucket_keys;  // numeric: one per bucket, or the value's key
  };
  static constexpr int kIgnored = -1;
  static constexpr int kLabel = -2;

  SparseCsvParser() = default;
  Status ParseCell(int f, std::string_view cell, size_t column, SparseBatch* out) const;

  std::vector<int> role_;  // per column: a field, kIgnored or kLabel
  std::vector<Field> fields_;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_FEATURE_SCHEMA_H_
