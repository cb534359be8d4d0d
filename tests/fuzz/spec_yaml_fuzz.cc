// libFuzzer target: a TrainingJob file as `ringtrain run` and every process read it (YAML to
// JSON with its bounds, then the strict parser and the spec-only memory check).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ringtrain/job/parse.h"
#include "ringtrain/job/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ringtrain::StatusOr<nlohmann::json> doc = ringtrain::job::YamlToJson(text);
  if (!doc.ok()) return 0;
  ringtrain::StatusOr<ringtrain::job::TrainingJob> job = ringtrain::job::ParseTrainingJob(*doc);
  if (!job.ok()) return 0;
  // A valid job writes back as JSON that parses to the same job.
  ringtrain::StatusOr<ringtrain::job::TrainingJob> again =
      ringtrain::job::ParseTrainingJob(ringtrain::job::ToJson(*job));
  if (!again.ok() || !(*again == *job)) __builtin_trap();
  (void)ringtrain::job::CheckForCluster(*job);
  return 0;
}
