// The x86-64 microarchitecture level this build was compiled for (CMake's
// RINGTRAIN_X86_64_LEVEL, x86-64-v3 by default: AVX2 and FMA for Eigen's kernels).
//
// Every executable that links ringtrain::common runs the check before anything else: a static
// constructor of the highest priority, in a file compiled for the plain x86-64 baseline, writes
// which features the CPU lacks and how to rebuild, and exits with status 1 instead of letting the
// first AVX2 instruction end the process with SIGILL.
#ifndef RINGTRAIN_COMMON_CPU_LEVEL_H_
#define RINGTRAIN_COMMON_CPU_LEVEL_H_

namespace ringtrain {

// "x86-64-v3" and the like, or "" when the build kept the compiler's default.
const char* BuildCpuLevel();

}  // namespace ringtrain

#endif  // RINGTRAIN_COMMON_CPU_LEVEL_H_
