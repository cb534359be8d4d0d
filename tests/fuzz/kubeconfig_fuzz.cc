// libFuzzer target: a kubeconfig file as the operator loads it (op::kube::LoadKubeconfig), handed
// over as a file (a memfd, through /proc/self/fd). Files it names are looked up as they are.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "ringtrain/operator/kube/kubeconfig.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = ::memfd_create("kubeconfig", MFD_CLOEXEC);
  if (fd < 0) __builtin_trap();
  if (size > 0 && ::write(fd, data, size) != static_cast<ssize_t>(size)) __builtin_trap();
  (void)ringtrain::op::kube::LoadKubeconfig("/proc/self/fd/" + std::to_string(fd));
  ::close(fd);
  return 0;
}
