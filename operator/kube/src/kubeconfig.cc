#include "ringtrain/operator/kube/kubeconfig.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "base64.h"
#include "ringtrain/common/input_file.h"

namespace ringtrain::op::kube {
namespace {

namespace fs = std::filesystem;

// Kubeconfig files, tokens, certificates and keys are small: anything larger is not one.
constexpr uint64_t kMaxFileBytes = 4 << 20;

// The file's bytes. Only a regular file is read (common/input_file.h: a FIFO or a device named
// in a kubeconfig would block or never end), of at most kMaxFileBytes.
StatusOr<std::string> ReadWholeFile(const std::string& path, const std::string& what) {
  StatusOr<InputFile> file = OpenInputFile(path);
  if (!file.ok()) {
    return Status(file.status().code(), what + ": cannot read " + file.status().message());
  }
  StatusOr<std::string> text = ReadInputFile(
      *file, path, kMaxFileBytes, "a kubeconfig and the files it names are at most 4 MiB");
  if (!text.ok()) return Status(text.status().code(), what + ": " + text.status().message());
  return text;
}

std::string TrimWhitespace(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

bool IsAbsolute(const std::string& path) { return !path.empty() && path[0] == '/'; }

// Parses one kubeconfig and reports errors as "<file>:<line>: <field path>: <problem>".
class KubeconfigReader {
 public:
  explicit KubeconfigReader(std::string path) : path_(std::move(path)) {
    dir_ = fs::path(path_).parent_path().string();
    if (dir_.empty()) dir_ = ".";
  }

  StatusOr<ClusterConfig> Load(const std::string& context_arg) {
    RT_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path_, "kubeconfig"));
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return InvalidArgument(path_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                             std::to_string(e.mark.column + 1) + ": not valid YAML: " + e.msg);
    }
    if (!root.IsMap()) return InvalidArgument(path_ + ": kubeconfig must be a YAML mapping");

    RT_ASSIGN_OR_RETURN(std::string current, String(root, "current-context", ""));
    const std::string context_name = context_arg.empty() ? current : context_arg;
    if (context_name.empty()) {
      return InvalidArgument(path_ + ": current-context: not set and no context was given");
    }

    std::string context_path;
    RT_ASSIGN_OR_RETURN(std::optional<YAML::Node> found_context,
                        FindNamed(root, "contexts", "context", context_name, &context_path));
    const std::string context_origin =
        context_arg.empty() ? "current-context" : "the requested context";
    if (!found_context) {
      return InvalidArgument(path_ + ": contexts: no context named \"" + context_name + "\" (" +
                             context_origin + ")");
    }
    const YAML::Node context = *found_context;
    RT_ASSIGN_OR_RETURN(std::string cluster_name, String(context, "cluster", context_path));
    RT_ASSIGN_OR_RETURN(std::string user_name, String(context, "user", context_path));
    RT_ASSIGN_OR_RETURN(std::string ns, String(context, "namespace", context_path));
    if (cluster_name.empty()) {
      return InvalidArgument(Where(context) + context_path + ".cluster: must be set");
    }

    ClusterConfig config;
    config.source = "kubeconfig " + path_ + " (context " + context_name + ")";
    if (!ns.empty()) config.default_namespace = ns;

    std::string cluster_path;
    RT_ASSIGN_OR_RETURN(std::optional<YAML::Node> cluster,
                        FindNamed(root, "clusters", "cluster", cluster_name, &cluster_path));
    if (!cluster) {
      return InvalidArgument(Where(context) + context_path + ".cluster: no cluster named \"" +
                             cluster_name + "\" in clusters");
    }
    RT_RETURN_IF_ERROR(ReadCluster(*cluster, cluster_path, &config));

    if (!user_name.empty()) {
      std::string user_path;
      RT_ASSIGN_OR_RETURN(std::optional<YAML::Node> user,
                          FindNamed(root, "users", "user", user_name, &user_path));
      if (!user) {
        return InvalidArgument(Where(context) + context_path + ".user: no user named \"" +
                               user_name + "\" in users");
      }
      RT_RETURN_IF_ERROR(ReadUser(*user, user_path, &config));
    }
    return config;
  }

 private:
  std::string Where(const YAML::Node& node) const {
    return path_ + ":" + std::to_string(node.Mark().line + 1) + ": ";
  }

  // The string at node[key] ("" if absent); `path` is node's field path.
  StatusOr<std::string> String(const YAML::Node& node, const std::string& key,
                               const std::string& path) const {
    const YAML::Node v = node[key];
    if (!v || v.IsNull()) return std::string();
    if (!v.IsScalar()) {
      return InvalidArgument(Where(v) + Join(path, key) + ": must be a string");
    }
    return v.Scalar();
  }

  StatusOr<bool> Bool(const YAML::Node& node, const std::string& key,
                      const std::string& path) const {
    const YAML::Node v = node[key];
    if (!v || v.IsNull()) return false;
    bool out = false;
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, out)) {
      return InvalidArgument(Where(v) + Join(path, key) + ": must be true or false");
    }
    return out;
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  // Finds the entry of root[list] whose name is `name` and returns its `field` mapping; sets
  // *field_path to "<list>[i].<field>". nullopt if there is no such entry.
  StatusOr<std::optional<YAML::Node>> FindNamed(const YAML::Node& root, const std::string& list,
                                                const std::string& field, const std::string& name,
                                                std::string* field_path) const {
    const YAML::Node entries = root[list];
    if (!entries || entries.IsNull()) return std::optional<YAML::Node>();
    if (!entries.IsSequence()) return InvalidArgument(Where(entries) + list + ": must be a list");
    for (size_t i = 0; i < entries.size(); ++i) {
      const YAML::Node entry = entries[i];
      const std::string entry_path = list + "[" + std::to_string(i) + "]";
      if (!entry.IsMap()) return InvalidArgument(Where(entry) + entry_path + ": must be a mapping");
      RT_ASSIGN_OR_RETURN(std::string entry_name, String(entry, "name", entry_path));
      if (entry_name != name) continue;
      *field_path = entry_path + "." + field;
      const YAML::Node value = entry[field];
      if (!value || !value.IsMap()) {
        return InvalidArgument(Where(entry) + *field_path + ": must be a mapping");
      }
      return std::optional<YAML::Node>(value);
    }
    return std::optional<YAML::Node>();
  }

  std::string Resolve(const std::string& file) const {
    return IsAbsolute(file) ? file : dir_ + "/" + file;
  }

  // Reads `<key>-data` (base64) or `<key>` (a file path); "" if neither is set.
  StatusOr<std::string> DataOrFile(const YAML::Node& node, const std::string& key,
                                   const std::string& path) const {
    RT_ASSIGN_OR_RETURN(std::string data, String(node, key + "-data", path));
    RT_ASSIGN_OR_RETURN(std::string file, String(node, key, path));
    if (!data.empty()) {
      std::optional<std::string> decoded = Base64Decode(data);
      if (!decoded) {
        return InvalidArgument(Where(node[key + "-data"]) + path + "." + key +
                               "-data: not valid base64");
      }
      return *decoded;
    }
    if (file.empty()) return std::string();
    auto content = ReadWholeFile(Resolve(file), path_ + ": " + path + "." + key);
    if (!content.ok()) return content.status();
    return std::move(content).value();
  }

  Status ReadCluster(const YAML::Node& cluster, const std::string& path,
                     ClusterConfig* config) const {
    RT_ASSIGN_OR_RETURN(std::string server, String(cluster, "server", path));
    if (server.empty()) return InvalidArgument(Where(cluster) + path + ".server: must be set");
    if (server.rfind("https://", 0) != 0 && server.rfind("http://", 0) != 0) {
      return InvalidArgument(Where(cluster["server"]) + path +
                             ".server: must start with https:// or http:// (got \"" + server +
                             "\")");
    }
    while (server.size() > 1 && server.back() == '/') server.pop_back();
    config->server = server;
    RT_ASSIGN_OR_RETURN(config->ca_pem, DataOrFile(cluster, "certificate-authority", path));
    RT_ASSIGN_OR_RETURN(config->insecure_skip_tls_verify,
                        Bool(cluster, "insecure-skip-tls-verify", path));
    return Status::Ok();
  }

  Status ReadUser(const YAML::Node& user, const std::string& path, ClusterConfig* config) const {
    for (const char* unsupported : {"exec", "auth-provider", "username", "password"}) {
      if (user[unsupported]) {
        return Unimplemented(Where(user[unsupported]) + path + "." + unsupported +
                             ": not supported (use a token or a client certificate)");
      }
    }
    RT_ASSIGN_OR_RETURN(config->token, String(user, "token", path));
    // client-go's field is tokenFile; token-file is accepted as a spelling variant.
    for (const char* key : {"tokenFile", "token-file"}) {
      RT_ASSIGN_OR_RETURN(std::string file, String(user, key, path));
      if (file.empty() || !config->token.empty()) continue;
      config->token_file = Resolve(file);
      RT_ASSIGN_OR_RETURN(std::string token,
                          ReadWholeFile(config->token_file, path_ + ": " + path + "." + key));
      if (TrimWhitespace(token).empty()) {
        return InvalidArgument(path_ + ": " + path + "." + key + ": " + config->token_file +
                               " is empty");
      }
      break;
    }
    RT_ASSIGN_OR_RETURN(config->client_cert_pem, DataOrFile(user, "client-certificate", path));
    RT_ASSIGN_OR_RETURN(config->client_key_pem, DataOrFile(user, "client-key", path));
    if (config->client_cert_pem.empty() != config->client_key_pem.empty()) {
      const char* missing = config->client_cert_pem.empty() ? "client-certificate" : "client-key";
      return InvalidArgument(
          Where(user) + path + "." + missing + ": must be set together with " +
          (config->client_cert_pem.empty() ? "client-key" : "client-certificate"));
    }
    return Status::Ok();
  }

  std::string path_;
  std::string dir_;
};

bool FileExists(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

std::optional<std::string> NonEmpty(const EnvLookup& env, const std::string& name) {
  std::optional<std::string> v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

}  // namespace

StatusOr<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  return KubeconfigReader(path).Load(context);
}

StatusOr<ClusterConfig> InClusterConfig(const EnvLookup& env, const std::string& root) {
  const std::optional<std::string> host = NonEmpty(env, "KUBERNETES_SERVICE_HOST");
  const std::optional<std::string> port = NonEmpty(env, "KUBERNETES_SERVICE_PORT");
  if (!host || !port) {
    return NotFound(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set "
        "(not running in a pod?)");
  }
  ClusterConfig config;
  config.source = "in-cluster service account " + root;
  // An IPv6 service address needs brackets in a URL.
  const bool ipv6 = host->find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;

  config.token_file = root + "/token";
  RT_ASSIGN_OR_RETURN(std::string token, ReadWholeFile(config.token_file, "in-cluster config"));
  if (TrimWhitespace(token).empty()) {
    return InvalidArgument("in-cluster config: " + config.token_file + " is empty");
  }
  RT_ASSIGN_OR_RETURN(config.ca_pem, ReadWholeFile(root + "/ca.crt", "in-cluster config"));
  if (TrimWhitespace(config.ca_pem).empty()) {
    return InvalidArgument("in-cluster config: " + root + "/ca.crt is empty");
  }
  const std::string ns_file = root + "/namespace";
  if (FileExists(ns_file)) {
    RT_ASSIGN_OR_RETURN(std::string ns, ReadWholeFile(ns_file, "in-cluster config"));
    ns = TrimWhitespace(ns);
    if (!ns.empty()) config.default_namespace = ns;
  }
  return config;
}

StatusOr<ClusterConfig> ResolveConfig(const std::string& kubeconfig_flag, const EnvLookup& env,
                                      const std::string& context,
                                      const std::string& in_cluster_root) {
  if (!kubeconfig_flag.empty()) return LoadKubeconfig(kubeconfig_flag, context);

  std::vector<std::string> tried;
  if (std::optional<std::string> list = NonEmpty(env, "KUBECONFIG")) {
    std::stringstream parts(*list);
    std::string part;
    while (std::getline(parts, part, ':')) {
      if (part.empty()) continue;
      if (FileExists(part)) return LoadKubeconfig(part, context);
      tried.push_back("$KUBECONFIG entry " + part + " (missing)");
    }
  } else {
    tried.push_back("$KUBECONFIG (unset)");
  }

  if (NonEmpty(env, "KUBERNETES_SERVICE_HOST")) return InClusterConfig(env, in_cluster_root);
  tried.push_back("in-cluster (KUBERNETES_SERVICE_HOST unset)");

  if (std::optional<std::string> home = NonEmpty(env, "HOME")) {
    const std::string path = *home + "/.kube/config";
    if (FileExists(path)) return LoadKubeconfig(path, context);
    tried.push_back(path + " (missing)");
  } else {
    tried.push_back("~/.kube/config ($HOME unset)");
  }

  std::string message = "no Kubernetes configuration found; tried --kubeconfig (not given)";
  for (const std::string& t : tried) message += ", " + t;
  return NotFound(message);
}

}  // namespace ringtrain::op::kube
