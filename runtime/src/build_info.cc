#include "ringtrain/build_info.h"

#include <Eigen/Core>

#include "ringtrain/common/cpu_level.h"

namespace ringtrain {

const char* Version() { return RINGTRAIN_VERSION; }

std::string MathBackend() {
  const int threads = Eigen::nbThreads();
  return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
         std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION) +
         ", SIMD " + Eigen::SimdInstructionSetsInUse() + ", " + std::to_string(threads) +
         (threads == 1 ? " thread" : " threads") +
         (*BuildCpuLevel() != '\0' ? std::string(", built for ") + BuildCpuLevel() : std::string());
}

}  // namespace ringtrain
