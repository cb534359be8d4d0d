// RowRange: a half-open range [begin, end) of row indices.
//
// A plain value; thread-compatible.
#ifndef RINGTRAIN_DATA_ROW_RANGE_H_
#define RINGTRAIN_DATA_ROW_RANGE_H_

#include <cstdint>

namespace ringtrain::data {

struct RowRange {
  int64_t begin = 0;
  int64_t end = 0;

  int64_t size() const { return end - begin; }
  bool empty() const { return end <= begin; }
  friend bool operator==(const RowRange&, const RowRange&) = default;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_ROW_RANGE_H_
