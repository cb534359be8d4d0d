// SparseBatch: rows of hashed categorical features, as sparse models read them.
//
// Each row is a list of entries (field, key, value): `key` a 64-bit feature key (a hashed
// categorical value, data/text_records.h's field-tagged keys, or an index of a LibSVM file),
// `field` the column it came from (0 when the data has no fields), `value` its weight (1 for a
// categorical value; a multi-valued field's values share it out as the data says). Rows are
// stored back to back (CSR): row r's entries are [offsets[r], offsets[r + 1]). Labels are 0 or 1.
//
// Thread-safety: a value.
#ifndef RINGTRAIN_DATA_SPARSE_BATCH_H_
#define RINGTRAIN_DATA_SPARSE_BATCH_H_

#include <cstdint>
#include <vector>

namespace ringtrain::data {

struct SparseBatch {
  std::vector<int64_t> offsets = {0};  // rows() + 1 entries, offsets[0] == 0
  std::vector<uint32_t> fields;        // per entry
  std::vector<uint64_t> keys;          // per entry
  std::vector<float> values;           // per entry
  std::vector<float> labels;           // per row: 0 or 1

  int64_t rows() const { return static_cast<int64_t>(labels.size()); }
  int64_t entries() const { return static_cast<int64_t>(keys.size()); }

  void Clear() {
    offsets.assign(1, 0);
    fields.clear();
    keys.clear();
    values.clear();
    labels.clear();
  }
  void Add(uint32_t field, uint64_t key, float value) {
    fields.push_back(field);
    keys.push_back(key);
    values.push_back(value);
  }
  // Ends the row whose entries were added since the last EndRow.
  void EndRow(float label) {
    labels.push_back(label);
    offsets.push_back(static_cast<int64_t>(keys.size()));
  }
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_SPARSE_BATCH_H_
