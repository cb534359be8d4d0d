// libFuzzer target: a TrainingJob object as the operator reads it from the API server (JSON, then
// the view of spec and status the planner works on).
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "ringtrain/operator/api_convert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json object =
      nlohmann::json::parse(data, data + size, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return 0;
  (void)ringtrain::op::JobViewFromObject(object);
  return 0;
}
