// The field table of spec.volumes and the roles' volumeMounts: the parts of a TrainingJob that
// reach the pods' storage. That every mount names a volume is a rule of the spec
// (MountsNameVolumesRule), checked once both are read.
#include "formats.h"
#include "spec_table.h"

namespace ringtrain::job::internal {
namespace {

const Object<VolumeSpec>& PersistentVolumeClaimTable() {
  static const auto* t = new Object<VolumeSpec>({
      String("claimName", &VolumeSpec::source_name, ObjectNameFormat(), "The claim's name.")
          .Required(),
      Bool("readOnly", &VolumeSpec::read_only, "Mount the claim read-only.", false),
  });
  return *t;
}

const Object<VolumeSpec>& HostPathTable() {
  static const auto* t = new Object<VolumeSpec>({
      String("path", &VolumeSpec::source_name, HostPathFormat(),
             "Absolute path on the node, without '..'.")
          .Required(),
      String("type", &VolumeSpec::host_path_type, HostPathTypeFormat(),
             "What must be at path (\"\" checks nothing)."),
  });
  return *t;
}

const Object<VolumeSpec>& EmptyDirTable() {
  static const auto* t = new Object<VolumeSpec>({
      String("medium", &VolumeSpec::medium, EmptyDirMediumFormat(),
             "\"\" (the node's disk) or Memory (tmpfs)."),
      String("sizeLimit", &VolumeSpec::size_limit, SizeLimitFormat(),
             "Most space it may use, a quantity such as \"1Gi\"."),
  });
  return *t;
}

const Object<VolumeSpec>& NfsTable() {
  static const auto* t = new Object<VolumeSpec>({
      String("server", &VolumeSpec::server, NfsServerFormat(),
             "Host name or address of the NFS server.")
          .Required(),
      String("path", &VolumeSpec::source_name, AbsolutePathFormat(), "Absolute path of the export.")
          .Required(),
      Bool("readOnly", &VolumeSpec::read_only, "Mount the export read-only.", false),
  });
  return *t;
}

const Object<VolumeSpec>& ConfigMapTable() {
  static const auto* t = new Object<VolumeSpec>({
      String("name", &VolumeSpec::source_name, ObjectNameFormat(), "The ConfigMap's name.")
          .Required(),
      Bool("optional", &VolumeSpec::optional, "Start the pod even if the ConfigMap does not exist.",
           false),
  });
  return *t;
}

const Object<VolumeSpec>& SecretTable() {
  static const auto* t = new Object<VolumeSpec>({
      String("secretName", &VolumeSpec::source_name, ObjectNameFormat(), "The Secret's name.")
          .Required(),
      Bool("optional", &VolumeSpec::optional, "Start the pod even if the Secret does not exist.",
           false),
  });
  return *t;
}

}  // namespace

const Object<VolumeSpec>& VolumeTable() {
  using K = VolumeSourceKind;
  static const auto* t = new Object<VolumeSpec>(
      Object<VolumeSpec>(
          {
              String("name", &VolumeSpec::name, VolumeNameFormat(),
                     "A DNS-1123 label, unique among the volumes; not \"spec\" (the operator's).")
                  .Required(),
              Variant("persistentVolumeClaim", &VolumeSpec::kind, K::kPersistentVolumeClaim,
                      PersistentVolumeClaimTable(),
                      "A PersistentVolumeClaim in the job's namespace."),
              Variant("hostPath", &VolumeSpec::kind, K::kHostPath, HostPathTable(),
                      "A file or directory of the node the pod runs on."),
              Variant("emptyDir", &VolumeSpec::kind, K::kEmptyDir, EmptyDirTable(),
                      "Scratch space that lives as long as the pod."),
              Variant("nfs", &VolumeSpec::kind, K::kNfs, NfsTable(), "An NFS export."),
              Variant("configMap", &VolumeSpec::kind, K::kConfigMap, ConfigMapTable(),
                      "A ConfigMap in the job's namespace, its keys as files."),
              Variant("secret", &VolumeSpec::kind, K::kSecret, SecretTable(),
                      "A Secret in the job's namespace, its keys as files."),
          })
          .ExactlyOne("source", {"persistentVolumeClaim", "hostPath", "emptyDir", "nfs",
                                 "configMap", "secret"}));
  return *t;
}

const Object<VolumeMountSpec>& VolumeMountTable() {
  static const auto* t = new Object<VolumeMountSpec>({
      String("name", &VolumeMountSpec::name, MountVolumeNameFormat(),
             "The name of one of spec.volumes.")
          .Required(),
      String("mountPath", &VolumeMountSpec::mount_path, MountPathFormat(),
             std::string("Absolute path in the container, without ':'; not ") + kSpecMountDir +
                 " (the job's spec) or below it, nor " + kTerminationLogPath +
                 ", nor a parent of them.")
          .Required(),
      String("subPath", &VolumeMountSpec::sub_path, SubPathFormat(),
             "A relative path inside the volume, without '..' (default its root)."),
      Bool("readOnly", &VolumeMountSpec::read_only, "Mount read-only.", false),
  });
  return *t;
}

ObjectRule<TrainingJobSpec> MountsNameVolumesRule(
    const std::string& role_field,
    std::function<const std::vector<VolumeMountSpec>&(const TrainingJobSpec&)> mounts) {
  const std::string role = "self." + role_field;
  ObjectRule<TrainingJobSpec> rule;
  rule.cel.rule = "!has(" + role + ") || !has(" + role + ".volumeMounts) || " + role +
                  ".volumeMounts.all(m, has(self.volumes) && self.volumes.exists(v, v.name == "
                  "m.name))";
  rule.cel.message = "every name must be one of spec.volumes";
  rule.cel.field_path = "." + role_field + ".volumeMounts";
  rule.check = [role_field, mounts](const TrainingJobSpec& spec, const std::string& path) {
    const std::vector<VolumeMountSpec>& list = mounts(spec);
    const std::string list_path = FieldPath(FieldPath(path, role_field), "volumeMounts");
    std::vector<std::string_view> names;
    for (const VolumeSpec& volume : spec.volumes) names.push_back(volume.name);
    for (size_t i = 0; i < list.size(); ++i) {
      bool found = false;
      for (std::string_view name : names) found = found || name == list[i].name;
      if (found) continue;
      std::string message = "no volume named \"" + list[i].name + "\" in spec.volumes";
      const std::string hint = ClosestName(list[i].name, names);
      if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
      return FieldError(IndexPath(list_path, i) + ".name", message);
    }
    return Status::Ok();
  };
  return rule;
}

}  // namespace ringtrain::job::internal
