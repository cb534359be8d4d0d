// The cluster rules for what a job keeps beyond its pods: spec.checkpoint (the parameter
// servers' shard checkpoints) and spec.output (the trained model, written by worker 0) must each
// be on a volume that outlives the pod writing it.
#include <functional>
#include <string>
#include <vector>

#include "checks.h"
#include "formats.h"
#include "spec_table.h"

namespace ringtrain::job::internal {
namespace {

// A directory of the spec that must outlive the pods writing it, and how to talk about it.
struct DurableDirectory {
  std::string field;       // of spec: "checkpoint"
  std::string role_field;  // of spec, the role whose pods write it: "parameterServers"
  std::string role;        // "the parameter servers"
  std::string what;        // "checkpoints", for the CEL message
  // What goes wrong on each kind of unsuitable place, after "an emptyDir, deleted with its pod"
  // and the like.
  std::string lost_with_pod;
  std::string lost_with_node;
  std::string lost_unmounted;
  // The path as the spec writes it, or null when the field is absent.
  std::function<const std::string*(const TrainingJobSpec&)> path;
  std::function<const std::vector<VolumeMountSpec>&(const TrainingJobSpec&)> mounts;
};

// The directory of a spec path as a pod sees it (without "file://").
std::string LocalDirectory(const std::string& path) {
  return path.rfind("file://", 0) == 0 ? path.substr(7) : path;
}

// Why a mount of `volume` cannot hold `d`, or "" when it can.
std::string WhyNotDurable(const DurableDirectory& d, const VolumeMountSpec& mount,
                          const VolumeSpec& volume) {
  const std::string on = "is on volume \"" + volume.name + "\" (" + mount.mount_path + "), ";
  switch (volume.kind) {
    case VolumeSourceKind::kPersistentVolumeClaim:
    case VolumeSourceKind::kNfs:
      if (mount.read_only || volume.read_only) return on + "mounted read-only";
      return "";
    case VolumeSourceKind::kEmptyDir:
      return on + "an emptyDir, deleted with its pod: " + d.lost_with_pod;
    case VolumeSourceKind::kHostPath:
      return on + "a hostPath, which stays on one node: " + d.lost_with_node;
    case VolumeSourceKind::kConfigMap:
    case VolumeSourceKind::kSecret:
      return on + "which is read-only";
  }
  return on + "of an unknown kind";
}

// CEL: volume `v` is a read-write persistentVolumeClaim or nfs.
std::string CelWritableSource(const std::string& source) {
  return "(has(v." + source + ") && !(has(v." + source + ".readOnly) && v." + source +
         ".readOnly))";
}

// In a cluster, `d` must outlive the pod that writes it: every mount of its role that holds the
// directory (there must be one) is a read-write persistentVolumeClaim or nfs volume.
ObjectRule<TrainingJobSpec> DurableDirectoryRule(DurableDirectory d) {
  const std::string path = "self." + d.field + ".path";
  const std::string mounts = "self." + d.role_field + ".volumeMounts";
  const std::string p =
      "(" + path + ".startsWith('file://') ? " + path + ".substring(7) : " + path + ")";
  const std::string in_mount =
      "(" + p + " == m.mountPath || " + p + ".startsWith(m.mountPath + '/'))";
  ObjectRule<TrainingJobSpec> rule;
  // An object store outlives every pod: only a directory must be on a durable volume.
  rule.cel.rule = "!has(self." + d.field + ") || " + path + ".startsWith('s3://') || (" + p +
                  ".startsWith('/') && has(self." + d.role_field + ") && has(" + mounts + ") && " +
                  mounts + ".exists(m, " + in_mount + ") && " + mounts + ".all(m, !" + in_mount +
                  " || (!(has(m.readOnly) && m.readOnly) && has(self.volumes) && "
                  "self.volumes.exists(v, v.name == m.name && (" +
                  CelWritableSource("persistentVolumeClaim") + " || " + CelWritableSource("nfs") +
                  ")))))";
  rule.cel.message = "in a cluster " + d.what +
                     " must be on a persistentVolumeClaim or nfs volume " + d.role +
                     " mount read-write (an emptyDir or hostPath does not outlive its pod or node)";
  rule.cel.field_path = "." + d.field + ".path";
  rule.check = [d](const TrainingJobSpec& spec, const std::string& at) {
    const std::string* value = d.path(spec);
    if (value == nullptr || IsObjectStoreLocation(*value)) return Status::Ok();
    const std::string field = FieldPath(FieldPath(at, d.field), "path");
    const std::string dir = LocalDirectory(*value);
    if (dir.empty() || dir.front() != '/') {
      return FieldError(field, "must be an absolute path in a cluster, on a volume " + d.role +
                                   " mount (got \"" + *value + "\")");
    }
    bool mounted = false;
    for (const VolumeMountSpec& m : d.mounts(spec)) {
      if (dir != m.mount_path && dir.rfind(m.mount_path + "/", 0) != 0) continue;
      mounted = true;
      for (const VolumeSpec& v : spec.volumes) {
        if (v.name != m.name) continue;
        const std::string why = WhyNotDurable(d, m, v);
        if (!why.empty()) return FieldError(field, "\"" + dir + "\" " + why);
      }
    }
    if (mounted) return Status::Ok();
    return FieldError(field, "\"" + dir + "\" is on no volume " + d.role +
                                 " mount: in a cluster, mount a persistentVolumeClaim or nfs "
                                 "volume there (spec." +
                                 d.role_field + ".volumeMounts), or " + d.lost_unmounted);
  };
  return rule;
}

}  // namespace

ObjectRule<TrainingJobSpec> CheckpointsOnDurableVolumeRule() {
  return DurableDirectoryRule({
      .field = "checkpoint",
      .role_field = "parameterServers",
      .role = "the parameter servers",
      .what = "checkpoints",
      .lost_with_pod = "a replaced server would find no checkpoints",
      .lost_with_node = "a server rescheduled elsewhere would find no checkpoints",
      .lost_unmounted = "a replaced server finds no checkpoints",
      .path = [](const TrainingJobSpec& s) -> const std::string* {
        return s.checkpoint ? &s.checkpoint->path : nullptr;
      },
      .mounts = [](const TrainingJobSpec& s) -> const std::vector<VolumeMountSpec>& {
        return s.parameter_servers.volume_mounts;
      },
  });
}

ObjectRule<TrainingJobSpec> OutputOnDurableVolumeRule() {
  return DurableDirectoryRule({
      .field = "output",
      .role_field = "workers",
      .role = "the workers",
      .what = "the output",
      .lost_with_pod = "the model would be deleted with worker 0's pod",
      .lost_with_node = "the model would stay on whichever node ran worker 0",
      .lost_unmounted = "worker 0 writes the model into its container, which is deleted with it",
      .path = [](const TrainingJobSpec& s) -> const std::string* {
        return s.output ? &s.output->path : nullptr;
      },
      .mounts = [](const TrainingJobSpec& s) -> const std::vector<VolumeMountSpec>& {
        return s.workers.volume_mounts;
      },
  });
}

}  // namespace ringtrain::job::internal
