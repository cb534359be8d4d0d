// spec.volumes and the roles' volumeMounts: the parts of a TrainingJob that reach the pods'
// storage. The cross-check (every mount names a volume) is CheckVolumeMounts, run by
// ParseSpec once both are read.
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "checks.h"
#include "json_reader.h"
#include "parse_internal.h"

namespace ringtrain::job::internal {
namespace {

using nlohmann::json;

constexpr size_t kMaxPathLength = 4096;

struct SourceField {
  std::string_view key;
  VolumeSourceKind kind;
};

constexpr SourceField kSources[] = {
    {"persistentVolumeClaim", VolumeSourceKind::kPersistentVolumeClaim},
    {"hostPath", VolumeSourceKind::kHostPath},
    {"emptyDir", VolumeSourceKind::kEmptyDir},
    {"nfs", VolumeSourceKind::kNfs},
    {"configMap", VolumeSourceKind::kConfigMap},
    {"secret", VolumeSourceKind::kSecret},
};

constexpr std::string_view kHostPathTypes[] = {
    "",       "DirectoryOrCreate", "Directory",  "FileOrCreate", "File",
    "Socket", "CharDevice",        "BlockDevice"};

// Whether `p` has a ".." element ("..", "../x", "x/..", "x/../y").
bool HasDotDot(const std::string& p) {
  return p == ".." || p.rfind("../", 0) == 0 || p.find("/../") != std::string::npos ||
         (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0);
}

Status CheckAbsolutePath(const std::string& path, const std::string& value) {
  if (value.empty() || value.front() != '/') {
    return FieldError(path, "must be an absolute path (got \"" + value + "\")");
  }
  if (Utf8Length(value) > kMaxPathLength) {
    return FieldError(path, "must be at most " + std::to_string(kMaxPathLength) + " characters");
  }
  return Status::Ok();
}

// A required string field holding a DNS-1123 subdomain (the name of a namespaced object).
Status GetObjectName(const ObjectReader& r, std::string_view key, std::string* out) {
  RT_RETURN_IF_ERROR(r.Require(key));
  RT_RETURN_IF_ERROR(r.GetString(key, out));
  return CheckDns1123Subdomain(r.PathOf(key), *out);
}

Status ParseSource(const json& v, const std::string& path, VolumeSourceKind kind, VolumeSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  switch (kind) {
    case VolumeSourceKind::kPersistentVolumeClaim:
      RT_RETURN_IF_ERROR(r.CheckFields({"claimName", "readOnly"}));
      RT_RETURN_IF_ERROR(GetObjectName(r, "claimName", &out->source_name));
      return r.GetBool("readOnly", &out->read_only);
    case VolumeSourceKind::kHostPath: {
      RT_RETURN_IF_ERROR(r.CheckFields({"path", "type"}));
      RT_RETURN_IF_ERROR(r.Require("path"));
      RT_RETURN_IF_ERROR(r.GetString("path", &out->source_name));
      RT_RETURN_IF_ERROR(CheckAbsolutePath(r.PathOf("path"), out->source_name));
      if (HasDotDot(out->source_name)) {
        return r.Error("path", "must not contain \"..\" (got \"" + out->source_name + "\")");
      }
      RT_RETURN_IF_ERROR(r.GetString("type", &out->host_path_type));
      for (std::string_view t : kHostPathTypes) {
        if (out->host_path_type == t) return Status::Ok();
      }
      std::vector<std::string_view> names(std::begin(kHostPathTypes) + 1, std::end(kHostPathTypes));
      return r.Error("type", "unknown value \"" + out->host_path_type +
                                 "\" (expected one of: " + JoinNames(names) + ")");
    }
    case VolumeSourceKind::kEmptyDir: {
      RT_RETURN_IF_ERROR(r.CheckFields({"medium", "sizeLimit"}));
      RT_RETURN_IF_ERROR(r.GetString("medium", &out->medium));
      if (!out->medium.empty() && out->medium != "Memory") {
        return r.Error("medium", "must be \"Memory\" or empty (the node's disk) (got \"" +
                                     out->medium + "\")");
      }
      if (!r.Has("sizeLimit")) return Status::Ok();
      RT_RETURN_IF_ERROR(r.GetString("sizeLimit", &out->size_limit));
      std::optional<long double> q = ParseQuantity(out->size_limit);
      if (!q || *q < 0 || out->size_limit.front() == '-') {
        return r.Error("sizeLimit",
                       "must be a non-negative Kubernetes quantity such as \"1Gi\" (got \"" +
                           out->size_limit + "\")");
      }
      return Status::Ok();
    }
    case VolumeSourceKind::kNfs:
      RT_RETURN_IF_ERROR(r.CheckFields({"server", "path", "readOnly"}));
      RT_RETURN_IF_ERROR(r.Require("server"));
      RT_RETURN_IF_ERROR(r.GetString("server", &out->server));
      if (out->server.empty() || Utf8Length(out->server) > 253 ||
          out->server.find_first_of(" \t\r\n\f\v/") != std::string::npos) {
        return r.Error("server", "must be a host name or address (got \"" + out->server + "\")");
      }
      RT_RETURN_IF_ERROR(r.Require("path"));
      RT_RETURN_IF_ERROR(r.GetString("path", &out->source_name));
      RT_RETURN_IF_ERROR(CheckAbsolutePath(r.PathOf("path"), out->source_name));
      return r.GetBool("readOnly", &out->read_only);
    case VolumeSourceKind::kConfigMap:
      RT_RETURN_IF_ERROR(r.CheckFields({"name", "optional"}));
      RT_RETURN_IF_ERROR(GetObjectName(r, "name", &out->source_name));
      return r.GetBool("optional", &out->optional);
    case VolumeSourceKind::kSecret:
      RT_RETURN_IF_ERROR(r.CheckFields({"secretName", "optional"}));
      RT_RETURN_IF_ERROR(GetObjectName(r, "secretName", &out->source_name));
      return r.GetBool("optional", &out->optional);
  }
  return Internal(path + ": unhandled volume source");
}

Status ParseVolume(const json& v, const std::string& path, VolumeSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(r.CheckFields(
      {"name", "persistentVolumeClaim", "hostPath", "emptyDir", "nfs", "configMap", "secret"}));
  RT_RETURN_IF_ERROR(r.Require("name"));
  RT_RETURN_IF_ERROR(r.GetString("name", &out->name));
  RT_RETURN_IF_ERROR(CheckDns1123Label(r.PathOf("name"), out->name));
  if (out->name == kSpecVolumeName) {
    return r.Error("name", "\"" + out->name + "\" is the operator's (the job's spec)");
  }
  std::vector<std::string_view> given, all;
  for (const SourceField& source : kSources) {
    all.push_back(source.key);
    if (r.Has(source.key)) given.push_back(source.key);
  }
  if (given.size() != 1) {
    return FieldError(path, (given.empty() ? std::string("needs a source: one of ")
                                           : "has more than one source (" + JoinNames(given) +
                                                 "); write one of ") +
                                JoinNames(all));
  }
  for (const SourceField& source : kSources) {
    if (source.key != given.front()) continue;
    out->kind = source.kind;
    return ParseSource(*r.Find(source.key), r.PathOf(source.key), source.kind, out);
  }
  return Status::Ok();
}

Status ParseVolumeMount(const json& v, const std::string& path, VolumeMountSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(r.CheckFields({"name", "mountPath", "subPath", "readOnly"}));
  RT_RETURN_IF_ERROR(r.Require("name"));
  RT_RETURN_IF_ERROR(r.GetString("name", &out->name));
  RT_RETURN_IF_ERROR(r.Require("mountPath"));
  RT_RETURN_IF_ERROR(r.GetString("mountPath", &out->mount_path));
  const std::string& mount = out->mount_path;
  RT_RETURN_IF_ERROR(CheckAbsolutePath(r.PathOf("mountPath"), mount));
  if (mount.find(':') != std::string::npos) {
    return r.Error("mountPath", "must not contain ':' (got \"" + mount + "\")");
  }
  // Clean, so that the checks below and the uniqueness of mounts compare what gets mounted.
  const bool unclean =
      mount == "/" || mount.back() == '/' || mount.find("//") != std::string::npos ||
      mount.find("/./") != std::string::npos || mount.find("/../") != std::string::npos ||
      mount.compare(mount.size() - 2, 2, "/.") == 0 ||
      (mount.size() >= 3 && mount.compare(mount.size() - 3, 3, "/..") == 0);
  if (unclean) {
    return r.Error("mountPath",
                   "must be a clean path below \"/\": no \"//\", \".\" or \"..\" elements and no "
                   "trailing '/' (got \"" +
                       mount + "\")");
  }
  const std::string spec_dir = kSpecMountDir;
  const std::string termination_log = kTerminationLogPath;
  if (mount == spec_dir || mount.rfind(spec_dir + "/", 0) == 0 || mount == termination_log) {
    return r.Error("mountPath", "\"" + mount + "\" is the operator's (" + spec_dir +
                                    " holds the job's spec, " + termination_log +
                                    " the termination message)");
  }
  // A volume at a parent ("/etc", "/dev") would have to hold the operator's mount points: the
  // container runtime fails on a read-only one and writes into a writable one.
  for (const std::string& own : {spec_dir, termination_log}) {
    if (own.rfind(mount + "/", 0) == 0) {
      return r.Error("mountPath", "\"" + mount + "\" would hold the operator's " + own);
    }
  }
  RT_RETURN_IF_ERROR(r.GetString("subPath", &out->sub_path));
  const std::string& sub = out->sub_path;
  if ((!sub.empty() && sub.front() == '/') || HasDotDot(sub) || Utf8Length(sub) > kMaxPathLength) {
    return r.Error("subPath", "must be a relative path inside the volume, without \"..\" (got \"" +
                                  sub + "\")");
  }
  return r.GetBool("readOnly", &out->read_only);
}

}  // namespace

Status ParseVolumes(const json& v, const std::string& path, std::vector<VolumeSpec>* out) {
  RT_RETURN_IF_ERROR(ExpectArray(v, path));
  if (v.size() > static_cast<size_t>(kMaxVolumes)) {
    return FieldError(path, "must have at most " + std::to_string(kMaxVolumes) + " items (got " +
                                std::to_string(v.size()) + ")");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < v.size(); ++i) {
    VolumeSpec volume;
    RT_RETURN_IF_ERROR(ParseVolume(v[i], IndexPath(path, i), &volume));
    if (!names.insert(volume.name).second) {
      return FieldError(IndexPath(path, i) + ".name",
                        "another volume is named \"" + volume.name + "\" already");
    }
    out->push_back(std::move(volume));
  }
  return Status::Ok();
}

Status ParseVolumeMounts(const json& v, const std::string& path,
                         std::vector<VolumeMountSpec>* out) {
  RT_RETURN_IF_ERROR(ExpectArray(v, path));
  if (v.size() > static_cast<size_t>(kMaxVolumes)) {
    return FieldError(path, "must have at most " + std::to_string(kMaxVolumes) + " items (got " +
                                std::to_string(v.size()) + ")");
  }
  std::set<std::string> mount_paths;
  for (size_t i = 0; i < v.size(); ++i) {
    VolumeMountSpec mount;
    RT_RETURN_IF_ERROR(ParseVolumeMount(v[i], IndexPath(path, i), &mount));
    if (!mount_paths.insert(mount.mount_path).second) {
      return FieldError(IndexPath(path, i) + ".mountPath",
                        "another mount of this role is at \"" + mount.mount_path + "\" already");
    }
    out->push_back(std::move(mount));
  }
  return Status::Ok();
}

Status CheckVolumeMounts(const std::vector<VolumeSpec>& volumes,
                         const std::vector<VolumeMountSpec>& mounts, const std::string& path) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    bool found = false;
    std::vector<std::string_view> names;
    for (const VolumeSpec& volume : volumes) {
      names.push_back(volume.name);
      found = found || volume.name == mounts[i].name;
    }
    if (found) continue;
    std::string message = "no volume named \"" + mounts[i].name + "\" in spec.volumes";
    const std::string hint = ClosestName(mounts[i].name, names);
    if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
    return FieldError(IndexPath(path, i) + ".name", message);
  }
  return Status::Ok();
}

}  // namespace ringtrain::job::internal
