// Internal to ringtrain::ckpt: the unsigned decimals of manifest headers and checkpoint
// directory names.
#ifndef RINGTRAIN_CKPT_SRC_DECIMAL_H_
#define RINGTRAIN_CKPT_SRC_DECIMAL_H_

#include <cstdint>
#include <string_view>

namespace ringtrain::ckpt::internal {

// Reads `s` as 1 to 19 decimal digits (no sign, no spaces; below 10^19, so no overflow).
// False, *out untouched, for anything else.
inline bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace ringtrain::ckpt::internal

#endif  // RINGTRAIN_CKPT_SRC_DECIMAL_H_
