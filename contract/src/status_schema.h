// Internal to the job library: the CRD schema of a TrainingJob's `status`, which the operator
// writes (operator/core's status conversion) and the spec parser ignores.
//
// Thread-safety: pure function.
#ifndef RINGTRAIN_SRC_JOB_STATUS_SCHEMA_H_
#define RINGTRAIN_SRC_JOB_STATUS_SCHEMA_H_

#include "schema.h"

namespace ringtrain::job::internal {

Schema StatusSchema();

}  // namespace ringtrain::job::internal

#endif  // RINGTRAIN_SRC_JOB_STATUS_SCHEMA_H_
