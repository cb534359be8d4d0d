// Internal to the job library: the field table of the TrainingJob (see field_table.h), split
// like the spec: spec_table.cc (the object, metadata, replicas, run policy, resources),
// spec_table_training.cc (model, dataset, training), spec_table_volumes.cc (volumes and
// volume mounts) and spec_table_storage.cc (where checkpoints and the model's output may be in
// a cluster). Adding a spec field means a member in spec.h, an entry here, its cross-field
// rules if any, and its line in the README's reference; parser, ToJson and CRD follow.
//
// Thread-safety: the tables are built on first use (thread-safe statics) and immutable.
#ifndef RINGTRAIN_SRC_JOB_SPEC_TABLE_H_
#define RINGTRAIN_SRC_JOB_SPEC_TABLE_H_

#include "field_table.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::job::internal {

const Object<TrainingJob>& TrainingJobTable();
const Object<TrainingJobSpec>& SpecTable();

const Object<ModelSpec>& ModelTable();
const Object<DatasetSpec>& DatasetTable();
const Object<TrainingSpec>& TrainingTable();
const Object<VolumeSpec>& VolumeTable();
const Object<VolumeMountSpec>& VolumeMountTable();

// The rule of TrainingJobSpec that every mount of the role at `role_field` ("workers"),
// whose mounts `mounts` returns, names one of spec.volumes.
ObjectRule<TrainingJobSpec> MountsNameVolumesRule(
    const std::string& role_field,
    std::function<const std::vector<VolumeMountSpec>&(const TrainingJobSpec&)> mounts);

// Cluster rules of TrainingJobSpec: the checkpoint directory is on a durable volume the
// parameter servers mount read-write; the output directory on one the workers mount.
ObjectRule<TrainingJobSpec> CheckpointsOnDurableVolumeRule();
ObjectRule<TrainingJobSpec> OutputOnDurableVolumeRule();

}  // namespace ringtrain::job::internal

#endif  // RINGTRAIN_SRC_JOB_SPEC_TABLE_H_
