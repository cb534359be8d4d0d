// libFuzzer target: one line of a Kubernetes watch stream (op::kube::ParseWatchLine, and the
// error an ERROR event carries).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ringtrain/operator/kube/watch_event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  ringtrain::StatusOr<ringtrain::op::kube::WatchEvent> event =
      ringtrain::op::kube::ParseWatchLine("/apis/ringtrain.io/v1alpha1/trainingjobs", line);
  if (event.ok() && event->type == "ERROR") {
    (void)ringtrain::op::kube::WatchErrorStatus("/apis/ringtrain.io/v1alpha1/trainingjobs", *event);
  }
  return 0;
}
