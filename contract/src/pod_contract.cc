#include "ringtrain/job/pod_contract.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string_view>

#include "checks.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::job {
namespace {

constexpr int kMaxParameterServers = 1024;
constexpr int kMaxWorkers = 4096;

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

Status VarError(std::string_view var, const std::string& message) {
  return InvalidArgument(std::string(var) + ": " + message);
}

// Host of a tcp endpoint: a name or IPv4 address, a bracketed IPv6 address, or (when
// binding) '*'.
bool IsValidHost(std::string_view host, bool allow_wildcard) {
  if (host.empty()) return false;
  if (host == "*") return allow_wildcard;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    return true;
  }
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

// "tcp://host:port". Binding allows host '*' and port 0 or '*'.
bool IsTcpEndpoint(std::string_view s, bool for_bind) {
  constexpr std::string_view kPrefix = "tcp://";
  if (s.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = s.substr(kPrefix.size());
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = rest.substr(0, colon);
  std::string_view port = rest.substr(colon + 1);
  if (!IsValidHost(host, for_bind)) return false;
  if (port == "*") return for_bind;
  int value = -1;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size()) return false;
  return value >= (for_bind ? 0 : 1) && value <= 65535;
}

// "ipc://<dir>/<name>": a socket in the run's directory `dir` (no deeper, no "..").
bool IsIpcEndpointIn(std::string_view s, const std::string& dir) {
  const std::string prefix = "ipc://" + dir + "/";
  if (dir.empty() || s.substr(0, prefix.size()) != prefix) return false;
  const std::string_view name = s.substr(prefix.size());
  return !name.empty() && name.find('/') == std::string_view::npos && name != "." && name != "..";
}

// A bind endpoint whose port the system picks (0 or '*'): two of them never collide.
bool BindsAnyPort(std::string_view s) { return s.ends_with(":0") || s.ends_with(":*"); }

StatusOr<std::string> Required(const EnvLookup& env, const char* var) {
  std::optional<std::string> v = env(var);
  if (!v || v->empty()) return VarError(var, "required but not set");
  return *v;
}

StatusOr<int> RequiredInt(const EnvLookup& env, const char* var) {
  RT_ASSIGN_OR_RETURN(std::string text, Required(env, var));
  int value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return VarError(var, "expected an integer (got " + Quoted(text) + ")");
  }
  return value;
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

Status CheckCount(const char* var, int value, int max) {
  if (value < 1 || value > max) {
    return VarError(var, "must be between 1 and " + std::to_string(max) + " (got " +
                             std::to_string(value) + ")");
  }
  return Status::Ok();
}

}  // namespace

const char* Name(Role role) {
  switch (role) {
    case Role::kParameterServer:
      return "ps";
    case Role::kWorker:
      return "worker";
  }
  return "?";
}

Status ValidatePodContract(const PodContract& c) {
  RT_RETURN_IF_ERROR(internal::CheckDns1035Label(kEnvJobName, c.job_name, kMaxJobNameLength));
  RT_RETURN_IF_ERROR(CheckCount(kEnvNumPs, c.num_ps, kMaxParameterServers));
  RT_RETURN_IF_ERROR(CheckCount(kEnvNumWorkers, c.num_workers, kMaxWorkers));
  const bool is_ps = c.role == Role::kParameterServer;
  const int count = is_ps ? c.num_ps : c.num_workers;
  if (c.index < 0 || c.index >= count) {
    return VarError(kEnvIndex, "must be in [0, " + std::string(is_ps ? kEnvNumPs : kEnvNumWorkers) +
                                   " = " + std::to_string(count) + "), got " +
                                   std::to_string(c.index));
  }
  if (c.ps_endpoints.empty() && !is_ps) {
    return VarError(kEnvPsEndpoints, "required for role worker but not set");
  }
  if (!c.ps_endpoints.empty()) {
    if (c.ps_endpoints.size() != static_cast<size_t>(c.num_ps)) {
      return VarError(kEnvPsEndpoints, "has " + std::to_string(c.ps_endpoints.size()) +
                                           " endpoints but " + kEnvNumPs + " is " +
                                           std::to_string(c.num_ps));
    }
    for (size_t i = 0; i < c.ps_endpoints.size(); ++i) {
      if (!IsTcpEndpoint(c.ps_endpoints[i], /*for_bind=*/false) &&
          !IsIpcEndpointIn(c.ps_endpoints[i], c.run_dir)) {
        return VarError(
            std::string(kEnvPsEndpoints) + "[" + std::to_string(i) + "]",
            "expected tcp://host:port" +
                (c.run_dir.empty() ? std::string() : " or ipc://" + c.run_dir + "/<name>") +
                " (got " + Quoted(c.ps_endpoints[i]) + ")");
      }
    }
  }
  if (c.bind_endpoint.empty() && is_ps) {
    return VarError(kEnvBind, "required for role ps but not set");
  }
  if (!c.run_dir.empty() && c.run_dir.front() != '/') {
    return VarError(kEnvRunDir, "expected an absolute path (got " + Quoted(c.run_dir) + ")");
  }
  if (!c.bind_endpoint.empty() && !IsTcpEndpoint(c.bind_endpoint, /*for_bind=*/true) &&
      !IsIpcEndpointIn(c.bind_endpoint, c.run_dir)) {
    return VarError(kEnvBind,
                    "expected tcp://host:port, where host may be * and port 0 or * (got " +
                        Quoted(c.bind_endpoint) + ")");
  }
  if (!c.status_bind.empty() && !IsTcpEndpoint(c.status_bind, /*for_bind=*/true)) {
    return VarError(kEnvStatusBind,
                    "expected tcp://host:port, where host may be * and port 0 or * (got " +
                        Quoted(c.status_bind) + ")");
  }
  if (!c.status_bind.empty() && c.status_bind == c.bind_endpoint &&
      !BindsAnyPort(c.bind_endpoint)) {
    return VarError(kEnvStatusBind, "must not be " + std::string(kEnvBind) + " (both are " +
                                        Quoted(c.bind_endpoint) + ")");
  }
  if (c.spec_path.empty()) return VarError(kEnvSpecPath, "required but not set");
  if (!c.output_dir.empty()) {
    if (c.role != Role::kWorker || c.index != 0) {
      return VarError(kEnvOutputDir, "only worker 0 writes the model");
    }
    if (c.output_dir.front() != '/' && !IsObjectStoreLocation(c.output_dir)) {
      return VarError(kEnvOutputDir, "expected an absolute path or s3://bucket/prefix (got " +
                                         Quoted(c.output_dir) + ")");
    }
  }
  if (c.public_keys_path.empty() != c.secret_key_path.empty()) {
    return VarError(c.public_keys_path.empty() ? kEnvPublicKeys : kEnvSecretKey,
                    "required when " +
                        std::string(c.public_keys_path.empty() ? kEnvSecretKey : kEnvPublicKeys) +
                        " is set (a process authenticates with both)");
  }
  for (auto [var, path] : {std::pair{kEnvPublicKeys, &c.public_keys_path},
                           std::pair{kEnvSecretKey, &c.secret_key_path}}) {
    if (!path->empty() && path->front() != '/') {
      return VarError(var, "expected an absolute path (got " + Quoted(*path) + ")");
    }
  }
  const std::string& control = c.control_endpoint;
  if (!control.empty() && !IsTcpEndpoint(control, /*for_bind=*/false) &&
      !(control.rfind("ipc://", 0) == 0 && control.size() > 6)) {
    return VarError(kEnvControlEndpoint,
                    "expected tcp://host:port or ipc://path (got " + Quoted(control) + ")");
  }
  return Status::Ok();
}

std::map<std::string, std::string> ToEnv(const PodContract& c) {
  std::map<std::string, std::string> env = {
      {kEnvJobName, c.job_name},
      {kEnvRole, Name(c.role)},
      {kEnvIndex, std::to_string(c.index)},
      {kEnvNumPs, std::to_string(c.num_ps)},
      {kEnvNumWorkers, std::to_string(c.num_workers)},
      {kEnvSpecPath, c.spec_path},
  };
  if (!c.ps_endpoints.empty()) {
    std::string joined;
    for (const std::string& e : c.ps_endpoints) joined += (joined.empty() ? "" : ",") + e;
    env[kEnvPsEndpoints] = joined;
  }
  if (!c.bind_endpoint.empty()) env[kEnvBind] = c.bind_endpoint;
  if (!c.control_endpoint.empty()) env[kEnvControlEndpoint] = c.control_endpoint;
  if (!c.status_bind.empty()) env[kEnvStatusBind] = c.status_bind;
  if (!c.termination_log.empty()) env[kEnvTerminationLog] = c.termination_log;
  if (!c.output_dir.empty()) env[kEnvOutputDir] = c.output_dir;
  if (!c.public_keys_path.empty()) env[kEnvPublicKeys] = c.public_keys_path;
  if (!c.secret_key_path.empty()) env[kEnvSecretKey] = c.secret_key_path;
  if (!c.run_dir.empty()) env[kEnvRunDir] = c.run_dir;
  return env;
}

StatusOr<PodContract> FromEnv(const EnvLookup& env) {
  PodContract c;
  RT_ASSIGN_OR_RETURN(c.job_name, Required(env, kEnvJobName));
  RT_ASSIGN_OR_RETURN(std::string role, Required(env, kEnvRole));
  if (role == Name(Role::kParameterServer)) {
    c.role = Role::kParameterServer;
  } else if (role == Name(Role::kWorker)) {
    c.role = Role::kWorker;
  } else {
    return VarError(kEnvRole, "unknown role " + Quoted(role) + " (expected ps or worker)");
  }
  RT_ASSIGN_OR_RETURN(c.num_ps, RequiredInt(env, kEnvNumPs));
  RT_ASSIGN_OR_RETURN(c.num_workers, RequiredInt(env, kEnvNumWorkers));
  RT_ASSIGN_OR_RETURN(c.index, RequiredInt(env, kEnvIndex));
  auto optional = [&env](const char* var) { return env(var).value_or(""); };
  if (std::string endpoints = optional(kEnvPsEndpoints); !endpoints.empty()) {
    c.ps_endpoints = SplitCommas(endpoints);
  }
  c.bind_endpoint = optional(kEnvBind);
  RT_ASSIGN_OR_RETURN(c.spec_path, Required(env, kEnvSpecPath));
  c.control_endpoint = optional(kEnvControlEndpoint);
  c.status_bind = optional(kEnvStatusBind);
  c.termination_log = optional(kEnvTerminationLog);
  c.output_dir = optional(kEnvOutputDir);
  c.public_keys_path = optional(kEnvPublicKeys);
  c.secret_key_path = optional(kEnvSecretKey);
  c.run_dir = optional(kEnvRunDir);
  RT_RETURN_IF_ERROR(ValidatePodContract(c));
  return c;
}

EnvLookup ProcessEnvLookup() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

PodContract ContractFor(const TrainingJob& job, Role role, int index, const Placement& placement) {
  PodContract c;
  c.job_name = job.metadata.name;
  c.role = role;
  c.index = index;
  c.num_ps = job.spec.parameter_servers.replicas;
  c.num_workers = job.spec.workers.replicas;
  c.ps_endpoints = placement.ps_endpoints;
  if (role == Role::kParameterServer) {
    c.bind_endpoint = placement.ps_bind;
    c.status_bind = placement.ps_status_bind;
  }
  c.spec_path = placement.spec_path;
  c.control_endpoint = placement.control_endpoint;
  if (role == Role::kWorker && index == 0) {
    c.status_bind = placement.status_bind;
    c.output_dir = placement.output_dir;
  }
  c.termination_log = placement.termination_log;
  c.run_dir = placement.run_dir;
  if (!placement.public_keys_path.empty()) {
    c.public_keys_path = placement.public_keys_path;
    c.secret_key_path = placement.secret_key_dir + "/" + SecretKeyFileName(role, index);
  }
  return c;
}

std::vector<std::string> ProcessArgs(Role role) { return {Name(role)}; }

std::string ProcessName(Role role, int index) {
  return std::string(Name(role)) + "-" + std::to_string(index);
}

std::string SecretKeyFileName(Role role, int index) { return ProcessName(role, index) + ".key"; }

}  // namespace ringtrain::job
