// Compiled for the plain x86-64 baseline (common/CMakeLists.txt), whatever level the rest of the
// build uses, and without the C++ library's inline templates: a copy of one of those compiled for
// a higher level elsewhere could be the one the linker keeps.
#include "ringtrain/common/cpu_level.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#ifndef RINGTRAIN_CPU_LEVEL
#define RINGTRAIN_CPU_LEVEL ""
#endif

namespace ringtrain {
namespace {

struct Feature {
  int level;  // the first x86-64 level that has it
  const char* name;
  bool present;
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RT_FEATURE(level, name) \
  { level, name, __builtin_cpu_supports(name) != 0 }
#endif

int RequiredLevel() {
  const char* level = RINGTRAIN_CPU_LEVEL;
  if (std::strcmp(level, "x86-64-v2") == 0) return 2;
  if (std::strcmp(level, "x86-64-v3") == 0) return 3;
  if (std::strcmp(level, "x86-64-v4") == 0) return 4;
  return 1;
}

// Writes the features of the build's level this CPU lacks to `out` (comma-separated, at most
// `size` - 1 characters); returns how many are missing.
int MissingFeatures(char* out, size_t size) {
  out[0] = '\0';
#ifdef RT_FEATURE
  __builtin_cpu_init();
  const Feature features[] = {
      RT_FEATURE(2, "sse3"),     RT_FEATURE(2, "ssse3"),    RT_FEATURE(2, "sse4.1"),
      RT_FEATURE(2, "sse4.2"),   RT_FEATURE(2, "popcnt"),   RT_FEATURE(3, "avx"),
      RT_FEATURE(3, "avx2"),     RT_FEATURE(3, "fma"),      RT_FEATURE(3, "bmi"),
      RT_FEATURE(3, "bmi2"),     RT_FEATURE(4, "avx512f"),  RT_FEATURE(4, "avx512bw"),
      RT_FEATURE(4, "avx512cd"), RT_FEATURE(4, "avx512dq"), RT_FEATURE(4, "avx512vl"),
  };
  const int level = RequiredLevel();
  int missing = 0;
  for (const Feature& feature : features) {
    if (feature.level > level || feature.present) continue;
    if (missing++ > 0) std::strncat(out, ", ", size - std::strlen(out) - 1);
    std::strncat(out, feature.name, size - std::strlen(out) - 1);
  }
  return missing;
#else
  (void)size;
  return 0;
#endif
}

void Write(const char* text) {
  size_t left = std::strlen(text);
  while (left > 0) {
    const ssize_t wrote = ::write(STDERR_FILENO, text, left);
    if (wrote <= 0) return;
    text += wrote;
    left -= static_cast<size_t>(wrote);
  }
}

}  // namespace

const char* BuildCpuLevel() { return RINGTRAIN_CPU_LEVEL; }

}  // namespace ringtrain

// Runs before every other static constructor (priority 101, the first not reserved); the common
// target's link option keeps this file in every executable (--undefined of this symbol).
extern "C" __attribute__((constructor(101))) void ringtrain_require_cpu_level() {
  char missing[256];
  if (ringtrain::MissingFeatures(missing, sizeof missing) == 0) return;
  ringtrain::Write("ringtrain: this binary was built for ");
  ringtrain::Write(RINGTRAIN_CPU_LEVEL);
  ringtrain::Write(" (CMake's RINGTRAIN_X86_64_LEVEL), and this CPU lacks ");
  ringtrain::Write(missing);
  ringtrain::Write(". Build it again with -DRINGTRAIN_X86_64_LEVEL=x86-64.\n");
  std::_Exit(1);
}
