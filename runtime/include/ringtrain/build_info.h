// Build information of the ringtrain binary.
#ifndef RINGTRAIN_BUILD_INFO_H_
#define RINGTRAIN_BUILD_INFO_H_

#include <string>

namespace ringtrain {

// The release version, e.g. "0.1.0".
const char* Version();

// What the runtime's math runs on, as compiled into it: e.g. "Eigen 3.4.0, SIMD SSE, SSE2,
// 1 thread" (Eigen's version, Eigen::SimdInstructionSetsInUse(), Eigen::nbThreads()). For
// benchmarks, which compare against libraries whose speed depends on theirs.
std::string MathBackend();

}  // namespace ringtrain

#endif  // RINGTRAIN_BUILD_INFO_H_
