#include "formats.h"

#include <string>
#include <string_view>

#include "checks.h"

namespace ringtrain::job::internal {
namespace {

constexpr size_t kMaxPathLength = 4096;
constexpr char kDns1123Label[] = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
constexpr char kDns1123Subdomain[] =
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
constexpr char kQuantityPattern[] =
    "^\\+?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+|[mkMGTPE]|[KMGTPE]i)?$";
constexpr char kNoDotDot[] = "!self.matches('(^|/)[.][.](/|$)')";

// A format built once and kept (the tables hold references to it).
const StringFormat& Keep(StringFormat format) { return *new StringFormat(std::move(format)); }

CelRule Rule(std::string rule, std::string message) {
  CelRule r;
  r.rule = std::move(rule);
  r.message = std::move(message);
  return r;
}

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

Status CheckMountPath(const std::string& path, const std::string& mount) {
  RT_RETURN_IF_ERROR(CheckAbsolutePath(path, mount));
  if (mount.find(':') != std::string::npos) {
    return FieldError(path, "must not contain ':' (got \"" + mount + "\")");
  }
  // Clean, so that the checks below and the uniqueness of mounts compare what gets mounted.
  const bool unclean =
      mount == "/" || mount.back() == '/' || mount.find("//") != std::string::npos ||
      mount.find("/./") != std::string::npos || mount.find("/../") != std::string::npos ||
      mount.compare(mount.size() - 2, 2, "/.") == 0 ||
      (mount.size() >= 3 && mount.compare(mount.size() - 3, 3, "/..") == 0);
  if (unclean) {
    return FieldError(path,
                      "must be a clean path below \"/\": no \"//\", \".\" or \"..\" elements and "
                      "no trailing '/' (got \"" +
                          mount + "\")");
  }
  const std::string spec_dir = kSpecMountDir;
  const std::string termination_log = kTerminationLogPath;
  if (mount == spec_dir || mount.rfind(spec_dir + "/", 0) == 0 || mount == termination_log) {
    return FieldError(path, "\"" + mount + "\" is the operator's (" + spec_dir +
                                " holds the job's spec, " + termination_log +
                                " the termination message)");
  }
  // A volume at a parent ("/etc", "/dev") would have to hold the operator's mount points: the
  // container runtime fails on a read-only one and writes into a writable one.
  for (const std::string& own : {spec_dir, termination_log}) {
    if (own.rfind(mount + "/", 0) == 0) {
      return FieldError(path, "\"" + mount + "\" would hold the operator's " + own);
    }
  }
  return Status::Ok();
}

}  // namespace

const StringFormat& ImageFormat() {
  static const StringFormat& f =
      Keep({.check = CheckImage, .min_length = 1, .pattern = "^[^\\x00-\\x20\\x7F]+$"});
  return f;
}

const StringFormat& DataUriFormat() {
  static const StringFormat& f = Keep(
      {.check = CheckDataUri,
       .min_length = 1,
       .max_length = 4096,
       .rules = {Rule("!self.contains('://') || (self.startsWith('file:///') && size(self) > 8) "
                      "|| self.matches('^(https?|s3)://[^/]')",
                      "must be file:///absolute/path, http(s)://host/..., s3://bucket/key or a "
                      "plain path")}});
  return f;
}

const StringFormat& EndpointFormat() {
  static const StringFormat& f =
      Keep({.check =
                [](const std::string& path, const std::string& value) {
                  const size_t sep = value.find("://");
                  const std::string scheme = sep == std::string::npos ? "" : value.substr(0, sep);
                  const std::string rest = sep == std::string::npos ? "" : value.substr(sep + 3);
                  if ((scheme == "http" || scheme == "https") && !rest.empty() &&
                      rest.find_first_of("/?#@ ") == std::string::npos) {
                    return Status::Ok();
                  }
                  return FieldError(path, "must be http(s)://host[:port] (got \"" + value + "\")");
                },
            .min_length = 1,
            .max_length = 512,
            .pattern = "^https?://[^/?#@ ]+$"});
  return f;
}

const StringFormat& RegionFormat() {
  static const StringFormat& f = Keep(
      {.check =
           [](const std::string& path, const std::string& value) {
             for (const char c : value) {
               if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                 return FieldError(path, "must hold only a-z, 0-9 and '-' (got \"" + value + "\")");
               }
             }
             return Status::Ok();
           },
       .min_length = 1,
       .max_length = 64,
       .pattern = "^[a-z0-9-]+$"});
  return f;
}

const StringFormat& ColumnNameFormat() {
  static const StringFormat& f = Keep({.min_length = 1, .max_length = 256});
  return f;
}

const StringFormat& ValueSeparatorFormat() {
  static const StringFormat& f =
      Keep({.check =
                [](const std::string& path, const std::string& value) {
                  if (value.empty() || value.size() > 8) {
                    return FieldError(path, "must be 1 to 8 characters (got " +
                                                std::to_string(value.size()) + ")");
                  }
                  if (value.find(',') != std::string::npos) {
                    return FieldError(path, "must not hold a comma (a csv cell holds none)");
                  }
                  return Status::Ok();
                },
            .min_length = 1,
            .max_length = 8,
            .pattern = "^[^,]+$"});
  return f;
}

namespace {

// Where `what` is written: a directory on the local file system ("file:///absolute/path" or a
// plain path) or a key prefix in an object store ("s3://bucket/prefix"); not http(s), which
// cannot be written.
StringFormat WritableDirectoryFormat(const std::string& what) {
  return {.check =
              [what](const std::string& path, const std::string& value) {
                RT_RETURN_IF_ERROR(CheckDataUri(path, value));
                if (value.find("://") == std::string::npos || value.rfind("file://", 0) == 0 ||
                    value.rfind("s3://", 0) == 0) {
                  return Status::Ok();
                }
                return FieldError(path, what +
                                            " cannot be written there: write "
                                            "file:///absolute/path, a path or "
                                            "s3://bucket/prefix (got \"" +
                                            value + "\")");
              },
          .min_length = 1,
          .max_length = kMaxPathLength,
          .rules = {Rule("!self.contains('://') || (self.startsWith('file:///') && size(self) > 8) "
                         "|| self.matches('^s3://[^/]')",
                         "must be file:///absolute/path, a path or s3://bucket/prefix")}};
}

}  // namespace

const StringFormat& CheckpointPathFormat() {
  static const StringFormat& f = Keep(WritableDirectoryFormat("checkpoints"));
  return f;
}

const StringFormat& OutputPathFormat() {
  static const StringFormat& f = Keep(WritableDirectoryFormat("the model"));
  return f;
}

const StringFormat& JobNameFormat() {
  static const StringFormat& f =
      Keep({.check =
                [](const std::string& path, const std::string& value) {
                  return CheckDns1035Label(path, value, kMaxJobNameLength);
                },
            .max_length = kMaxJobNameLength,
            .pattern = "^[a-z]([-a-z0-9]*[a-z0-9])?$"});
  return f;
}

const StringFormat& NamespaceFormat() {
  static const StringFormat& f =
      Keep({.check = [](const std::string& path, const std::string& value) {
        return CheckDns1123Label(path, value);
      }});
  return f;
}

const StringFormat& VolumeNameFormat() {
  static const StringFormat& f =
      Keep({.check =
                [](const std::string& path, const std::string& value) {
                  RT_RETURN_IF_ERROR(CheckDns1123Label(path, value));
                  if (value == kSpecVolumeName) {
                    return FieldError(path, "\"" + value + "\" is the operator's (the job's spec)");
                  }
                  return Status::Ok();
                },
            .max_length = 63,
            .pattern = kDns1123Label,
            .rules = {Rule(std::string("self != '") + kSpecVolumeName + "'",
                           "is the operator's (the job's spec)")}});
  return f;
}

const StringFormat& ObjectNameFormat() {
  static const StringFormat& f =
      Keep({.check = [](const std::string& path,
                        const std::string& value) { return CheckDns1123Subdomain(path, value); },
            .max_length = 253,
            .pattern = kDns1123Subdomain});
  return f;
}

const StringFormat& AbsolutePathFormat() {
  static const StringFormat& f =
      Keep({.check = CheckAbsolutePath, .max_length = kMaxPathLength, .pattern = "^/"});
  return f;
}

const StringFormat& HostPathFormat() {
  static const StringFormat& f =
      Keep({.check =
                [](const std::string& path, const std::string& value) {
                  RT_RETURN_IF_ERROR(CheckAbsolutePath(path, value));
                  if (HasDotDot(value)) {
                    return FieldError(path, "must not contain \"..\" (got \"" + value + "\")");
                  }
                  return Status::Ok();
                },
            .max_length = kMaxPathLength,
            .pattern = "^/",
            .rules = {Rule(kNoDotDot, "must not contain '..'")}});
  return f;
}

const StringFormat& HostPathTypeFormat() {
  static const std::vector<std::string> kTypes = {
      "",       "DirectoryOrCreate", "Directory",  "FileOrCreate", "File",
      "Socket", "CharDevice",        "BlockDevice"};
  static const StringFormat& f =
      Keep({.check =
                [](const std::string& path, const std::string& value) {
                  std::vector<std::string_view> names;
                  for (const std::string& t : kTypes) {
                    if (value == t) return Status::Ok();
                    if (!t.empty()) names.push_back(t);
                  }
                  return FieldError(path, "unknown value \"" + value +
                                              "\" (expected one of: " + JoinNames(names) + ")");
                },
            .enum_values = kTypes});
  return f;
}

const StringFormat& EmptyDirMediumFormat() {
  static const StringFormat& f =
      Keep({.check =
                [](const std::string& path, const std::string& value) {
                  if (value.empty() || value == "Memory") return Status::Ok();
                  return FieldError(path, "must be \"Memory\" or empty (the node's disk) (got \"" +
                                              value + "\")");
                },
            .enum_values = {"", "Memory"}});
  return f;
}

const StringFormat& SizeLimitFormat() {
  static const StringFormat& f =
      Keep({.check =
                [](const std::string& path, const std::string& value) {
                  std::optional<long double> q = ParseQuantity(value);
                  if (!q || *q < 0 || value.empty() || value.front() == '-') {
                    return FieldError(path,
                                      "must be a non-negative Kubernetes quantity such as \"1Gi\" "
                                      "(got \"" +
                                          value + "\")");
                  }
                  return Status::Ok();
                },
            .max_length = 64,
            .pattern = kQuantityPattern});
  return f;
}

const StringFormat& NfsServerFormat() {
  static const StringFormat& f = Keep(
      {.check =
           [](const std::string& path, const std::string& value) {
             if (value.empty() || Utf8Length(value) > 253 ||
                 value.find_first_of(" \t\r\n\f\v/") != std::string::npos) {
               return FieldError(path, "must be a host name or address (got \"" + value + "\")");
             }
             return Status::Ok();
           },
       .min_length = 1,
       .max_length = 253,
       .pattern = "^[^\\s\\v/]+$"});
  return f;
}

const StringFormat& MountVolumeNameFormat() {
  static const StringFormat& f = Keep({.max_length = 63});
  return f;
}

const StringFormat& MountPathFormat() {
  const std::string spec_dir = kSpecMountDir;
  const std::string log = kTerminationLogPath;
  static const StringFormat& f = Keep(
      {.check = CheckMountPath,
       .max_length = kMaxPathLength,
       .pattern = "^/[^:]*$",
       .rules = {Rule("self != '" + spec_dir + "' && !self.startsWith('" + spec_dir +
                          "/') && self != '" + log + "'",
                      "is the operator's (" + spec_dir + " holds the job's spec)"),
                 Rule("!'" + spec_dir + "'.startsWith(self + '/') && !'" + log +
                          "'.startsWith(self + '/')",
                      "would hold the operator's " + spec_dir + " or " + log),
                 Rule("self != '/' && !self.endsWith('/') && !self.matches('//|/[.][.]?(/|$)')",
                      "must be a clean path below /, with no //, . or .. elements and no "
                      "trailing /")}});
  return f;
}

const StringFormat& SubPathFormat() {
  static const StringFormat& f =
      Keep({.check =
                [](const std::string& path, const std::string& sub) {
                  if ((!sub.empty() && sub.front() == '/') || HasDotDot(sub) ||
                      Utf8Length(sub) > kMaxPathLength) {
                    return FieldError(path,
                                      "must be a relative path inside the volume, without \"..\" "
                                      "(got \"" +
                                          sub + "\")");
                  }
                  return Status::Ok();
                },
            .max_length = kMaxPathLength,
            .rules = {Rule(std::string("!self.startsWith('/') && ") + kNoDotDot,
                           "must be a relative path inside the volume, without '..'")}});
  return f;
}

}  // namespace ringtrain::job::internal
