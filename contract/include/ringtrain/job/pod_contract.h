// The pod contract: THE one definition of what each ringtrain process (a local child of
// `ringtrain run`, or a pod created by the operator) is told about its place in a job.
//
// The contract travels as environment variables (the names below) and one argument, the role.
// The operator and `ringtrain run` both call ContractFor() with a Placement of their own (DNS
// names and fixed ports in a cluster; the loopback ports servers report locally), then ToEnv()
// and ProcessArgs(); the process calls FromEnv() once in main() and passes the result down
// explicitly (no environment lookups deep in the code).
//
// Errors: FromEnv and ValidatePodContract return InvalidArgument whose message starts with the
// name of the offending variable, e.g. "RINGTRAIN_INDEX: must be in [0, RINGTRAIN_NUM_WORKERS
// = 2), got 2" or "RINGTRAIN_PS_ENDPOINTS[1]: expected tcp://host:port
// (got "tcp://ps-1")".
//
// Thread-safety: values and pure functions. ProcessEnvLookup() reads the process environment
// (getenv) and must not race with setenv.
#ifndef RINGTRAIN_JOB_POD_CONTRACT_H_
#define RINGTRAIN_JOB_POD_CONTRACT_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::job {

enum class Role { kParameterServer, kWorker };

// "ps" or "worker".
const char* Name(Role role);

inline constexpr char kEnvJobName[] = "RINGTRAIN_JOB_NAME";
inline constexpr char kEnvRole[] = "RINGTRAIN_ROLE";
inline constexpr char kEnvIndex[] = "RINGTRAIN_INDEX";
inline constexpr char kEnvNumPs[] = "RINGTRAIN_NUM_PS";
inline constexpr char kEnvNumWorkers[] = "RINGTRAIN_NUM_WORKERS";
inline constexpr char kEnvPsEndpoints[] = "RINGTRAIN_PS_ENDPOINTS";  // comma-separated
inline constexpr char kEnvBind[] = "RINGTRAIN_BIND";
inline constexpr char kEnvSpecPath[] = "RINGTRAIN_SPEC_PATH";
inline constexpr char kEnvControlEndpoint[] = "RINGTRAIN_CONTROL_ENDPOINT";
inline constexpr char kEnvStatusBind[] = "RINGTRAIN_STATUS_BIND";
inline constexpr char kEnvTerminationLog[] = "RINGTRAIN_TERMINATION_LOG";
inline constexpr char kEnvOutputDir[] = "RINGTRAIN_OUTPUT_DIR";
inline constexpr char kEnvPublicKeys[] = "RINGTRAIN_PUBLIC_KEYS";
inline constexpr char kEnvSecretKey[] = "RINGTRAIN_SECRET_KEY";
inline constexpr char kEnvRunDir[] = "RINGTRAIN_RUN_DIR";

// The port a parameter server listens on inside a pod.
inline constexpr int kDefaultPsPort = 7070;
// The port worker 0 answers status requests on inside a pod (RINGTRAIN_STATUS_BIND).
inline constexpr int kDefaultStatusPort = 7071;
// The port a parameter server answers status requests on inside a pod (RINGTRAIN_STATUS_BIND):
// its last checkpoint.
inline constexpr int kDefaultPsStatusPort = 7072;

struct PodContract {
  std::string job_name;  // metadata.name of the TrainingJob (DNS-1035 label, <= 50 chars)
  Role role = Role::kWorker;
  int index = 0;        // 0-based within the role: [0, num_ps) or [0, num_workers)
  int num_ps = 1;       // 1..1024
  int num_workers = 1;  // 1..4096
  // ZeroMQ endpoints "tcp://host:port" of parameter servers 0..num_ps-1, in order, or with
  // run_dir "ipc://<run_dir>/<name>". Required for workers; optional for parameter servers
  // (validated when present).
  std::vector<std::string> ps_endpoints;
  // Where a parameter server binds: "tcp://*:7070" in a pod (host may be '*', port may be 0 or
  // '*'), or with run_dir "ipc://<run_dir>/<name>". Required for parameter servers.
  std::string bind_endpoint;
  std::string spec_path;  // path of the TrainingJob file (YAML or JSON); required
  // Optional ZeroMQ endpoint ("tcp://host:port" or "ipc://path") to send progress events
  // to; empty = none.
  std::string control_endpoint;
  // Optional: where the process binds its status socket (proto::StatusRequest/StatusReply over
  // ZeroMQ REP): "tcp://*:7071" for worker 0 in a pod (its progress), "tcp://*:7072" for a
  // parameter server (its last checkpoint); same form as bind_endpoint, and a server's must not
  // be its bind_endpoint.
  std::string status_bind;
  // Optional: a file the process writes its final words to as it exits (worker 0: its final
  // progress as JSON; any process: the error that ended it). In a pod, the container's
  // terminationMessagePath, which Kubernetes copies into the pod's status.
  std::string termination_log;
  // Optional, worker 0 only: an absolute directory to write the trained model to instead of
  // spec.output.path (`ringtrain run` sets it to its default or --output; the operator leaves
  // it out, so a pod writes where spec.output says).
  std::string output_dir;
  // With spec.security.authentication: curve (the process checks that both are set): the
  // job's public keys file and this process's secret key file (ringtrain/auth/key_set.h,
  // keys.h); absolute paths. Both or neither.
  std::string public_keys_path;
  std::string secret_key_path;
  // Optional, `ringtrain run` only: the run's private directory (absolute; the process checks
  // that it is this user's, mode 0700), where the job's sockets are: the servers' endpoints
  // and the control endpoint are ipc:// paths in it, and, without keys, the directory's
  // permissions stand in for CURVE (nobody but this user can open a socket in it).
  std::string run_dir;

  bool operator==(const PodContract&) const = default;
};

// Checks every rule stated on the fields above; errors name the environment variable of the
// offending field.
[[nodiscard]] Status ValidatePodContract(const PodContract& contract);

// The environment variables for `contract`; empty optional fields are left out.
// REQUIRES: ValidatePodContract(contract).ok()
std::map<std::string, std::string> ToEnv(const PodContract& contract);

// Returns the value of an environment variable, or nullopt when unset. An empty value is
// treated as unset by FromEnv.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Decodes and validates a contract. FromEnv(lookup over ToEnv(c)) == c for every valid c.
[[nodiscard]] StatusOr<PodContract> FromEnv(const EnvLookup& env);

// An EnvLookup over the process environment; for use in main() only.
EnvLookup ProcessEnvLookup();

// Where the processes of one job find each other and what they are given; the caller's
// choice (see the top of this file).
struct Placement {
  std::vector<std::string> ps_endpoints;  // "tcp://host:port" of servers 0..M-1, in order
  std::string ps_bind;                    // where servers bind
  std::string spec_path;                  // the job file every process reads
  std::string control_endpoint;           // "" = none
  std::string status_bind;                // worker 0's status socket; "" = none
  std::string ps_status_bind;             // the servers' status sockets; "" = none
  std::string termination_log;            // "" = none
  std::string output_dir;  // worker 0's model directory or s3:// prefix; "" = spec.output
  // Authentication (spec.security.authentication: curve): the job's public keys file, and the
  // directory holding each process's secret key as "<ProcessName>.key" (a pod's holds only
  // its own). "" = none (plaintext).
  std::string public_keys_path;
  std::string secret_key_dir;
  std::string run_dir;  // a local run's private socket directory (PodContract::run_dir); "" = none
};

// THE definition of what process `index` of `role` in `job` is told: the job's name and
// shape, its own place, and from `placement` the servers' endpoints (given to every process
// when known; workers need them), the bind address and status socket of servers, the status
// socket and the output directory of worker 0 (other workers have neither), the spec path,
// control endpoint and termination log (everyone).
// REQUIRES: `job` is valid (ValidateTrainingJob); index within the role's replicas.
PodContract ContractFor(const TrainingJob& job, Role role, int index, const Placement& placement);

// The arguments a process of `role` runs with after the program's name: {"ps"} or {"worker"}.
std::vector<std::string> ProcessArgs(Role role);

// A process's name within its job: "ps-<index>" or "worker-<index>" (the local launcher's log
// names; the operator prefixes the job's name for its pods).
std::string ProcessName(Role role, int index);

// The file name of a process's secret key in Placement::secret_key_dir: "worker-0.key".
std::string SecretKeyFileName(Role role, int index);

}  // namespace ringtrain::job

#endif  // RINGTRAIN_JOB_POD_CONTRACT_H_
