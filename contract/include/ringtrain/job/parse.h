// Converting a TrainingJob between its JSON form (the Kubernetes object, camelCase fields) and
// the value types of spec.h.
//
// ParseTrainingJob is strict: every field is type-checked and range-checked, unknown fields are
// errors (with the closest known name suggested when one is near), required fields must be
// present, and cross-field rules are enforced (for example: momentum is not allowed for sgd,
// a step schedule needs stepSize, softmax has no hiddenLayers, a resource request must not
// exceed its limit, a role's memory limit must hold what the spec alone says that role needs:
// memory_estimate.h). Defaults documented in spec.h fill absent fields; a null value counts as
// absent. Integers may be written as whole floats (3.0) but not 3.5.
//
// Fields the API server adds to a stored object are accepted and ignored, so the operator can
// parse what it reads: metadata.{uid, resourceVersion, generation, creationTimestamp,
// deletionTimestamp, deletionGracePeriodSeconds, ownerReferences, finalizers, managedFields,
// generateName, selfLink} and the top-level `status`.
//
// Errors: InvalidArgument whose message starts with the full field path of the first problem
// found, with array indices in brackets and map keys that are not plain identifiers quoted:
//   spec.training.batchSize: must be between 1 and 1048576 (got 0)
//   spec.model.hiddenLayers[1]: must be between 1 and 65536 (got 0)
//   spec.training.batchsize: unknown field (did you mean "batchSize"?)
//   spec.dataset.format: "csv" is not supported yet (supported: idx)
//
// Thread-safety: pure functions; safe to call concurrently.
#ifndef RINGTRAIN_JOB_PARSE_H_
#define RINGTRAIN_JOB_PARSE_H_

#include <nlohmann/json.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::job {

// Parses and validates one TrainingJob object (for YAML text see yaml.h).
[[nodiscard]] StatusOr<TrainingJob> ParseTrainingJob(const nlohmann::json& doc);

// The rules that only a cluster needs, which `ringtrain run` does not apply (the CRD does):
// spec.checkpoint.path must be an absolute path on a volume the parameter servers mount
// read-write, of a kind that outlives a pod (persistentVolumeClaim or nfs; an emptyDir or
// hostPath would leave a rescheduled server without its checkpoints); likewise spec.output.path
// on a volume the workers mount (worker 0 writes the model there). The operator refuses a job
// that breaks one. REQUIRES: `job` came from ParseTrainingJob.
[[nodiscard]] Status CheckForCluster(const TrainingJob& job);

// Writes every field of `job` in the camelCase schema ParseTrainingJob reads, including
// defaults; fields that only apply to another variant (momentum for sgd, stepSize for a
// non-step schedule, ...) and empty optional values are left out. For any job returned by
// ParseTrainingJob, ParseTrainingJob(ToJson(job)) returns a value equal to it.
nlohmann::json ToJson(const TrainingJob& job);

// One of spec.volumes as a Kubernetes core/v1 Volume ({"name": ..., "<source>": {...}}), the
// shape ToJson writes it in and the operator puts in pods.
nlohmann::json VolumeToJson(const VolumeSpec& volume);
// A volumeMounts entry as a Kubernetes core/v1 VolumeMount ({"name", "mountPath", "subPath"
// when set, "readOnly" when true}), likewise.
nlohmann::json VolumeMountToJson(const VolumeMountSpec& mount);

}  // namespace ringtrain::job

#endif  // RINGTRAIN_JOB_PARSE_H_
