// The pod contract: ToEnv/FromEnv round trips, validation errors naming the variable, and
// ContractFor, the one definition of what each process of a job is told.
#include "ringtrain/job/pod_contract.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringtrain::job {
namespace {

using Env = std::map<std::string, std::string>;
using ::testing::HasSubstr;
using ::testing::StartsWith;

EnvLookup LookupIn(const Env& env) {
  return [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

PodContract Worker() {
  PodContract c;
  c.job_name = "fashion-mnist";
  c.role = Role::kWorker;
  c.index = 2;
  c.num_ps = 2;
  c.num_workers = 3;
  c.ps_endpoints = {"tcp://127.0.0.1:41001", "tcp://127.0.0.1:41002"};
  c.spec_path = "/etc/ringtrain/job.yaml";
  c.control_endpoint = "tcp://127.0.0.1:41000";
  c.status_bind = "tcp://*:7071";
  c.termination_log = "/dev/termination-log";
  return c;
}

PodContract ParameterServer() {
  PodContract c;
  c.job_name = "fashion-mnist";
  c.role = Role::kParameterServer;
  c.index = 1;
  c.num_ps = 2;
  c.num_workers = 3;
  c.bind_endpoint = "tcp://*:7070";
  c.spec_path = "/etc/ringtrain/job.yaml";
  return c;
}

TEST(PodContractTest, WorkerRoundTrips) {
  PodContract c = Worker();
  Env env = ToEnv(c);
  EXPECT_EQ(env.at("RINGTRAIN_JOB_NAME"), "fashion-mnist");
  EXPECT_EQ(env.at("RINGTRAIN_ROLE"), "worker");
  EXPECT_EQ(env.at("RINGTRAIN_INDEX"), "2");
  EXPECT_EQ(env.at("RINGTRAIN_NUM_PS"), "2");
  EXPECT_EQ(env.at("RINGTRAIN_NUM_WORKERS"), "3");
  EXPECT_EQ(env.at("RINGTRAIN_PS_ENDPOINTS"), "tcp://127.0.0.1:41001,tcp://127.0.0.1:41002");
  EXPECT_EQ(env.at("RINGTRAIN_SPEC_PATH"), "/etc/ringtrain/job.yaml");
  EXPECT_EQ(env.at("RINGTRAIN_CONTROL_ENDPOINT"), "tcp://127.0.0.1:41000");
  EXPECT_EQ(env.count("RINGTRAIN_BIND"), 0u);
  EXPECT_EQ(env.at("RINGTRAIN_STATUS_BIND"), "tcp://*:7071");
  EXPECT_EQ(env.at("RINGTRAIN_TERMINATION_LOG"), "/dev/termination-log");
  StatusOr<PodContract> back = FromEnv(LookupIn(env));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
}

TEST(PodContractTest, ParameterServerRoundTrips) {
  for (std::string bind : {"tcp://*:7070", "tcp://127.0.0.1:0", "tcp://[::1]:*"}) {
    PodContract c = ParameterServer();
    c.bind_endpoint = bind;
    Env env = ToEnv(c);
    EXPECT_EQ(env.at("RINGTRAIN_ROLE"), "ps");
    EXPECT_EQ(env.at("RINGTRAIN_BIND"), bind);
    EXPECT_EQ(env.count("RINGTRAIN_PS_ENDPOINTS"), 0u);
    EXPECT_EQ(env.count("RINGTRAIN_CONTROL_ENDPOINT"), 0u);
    StatusOr<PodContract> back = FromEnv(LookupIn(env));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, c);
  }
}

TEST(PodContractTest, ParameterServerStatusSocketRoundTrips) {
  PodContract c = ParameterServer();
  c.status_bind = "tcp://*:7072";
  Env env = ToEnv(c);
  EXPECT_EQ(env.at("RINGTRAIN_STATUS_BIND"), "tcp://*:7072");
  StatusOr<PodContract> back = FromEnv(LookupIn(env));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
  // Both on ports the system picks never collide (ringtrain run's servers bind port 0).
  c.bind_endpoint = "tcp://127.0.0.1:0";
  c.status_bind = "tcp://127.0.0.1:0";
  EXPECT_TRUE(ValidatePodContract(c).ok()) << ValidatePodContract(c).ToString();
}

TEST(PodContractTest, ParameterServerMayKnowAllEndpoints) {
  PodContract c = ParameterServer();
  c.ps_endpoints = {"tcp://fashion-mnist-ps-0.fashion-mnist-ps.default.svc:7070",
                    "tcp://fashion-mnist-ps-1.fashion-mnist-ps.default.svc:7070"};
  c.control_endpoint = "ipc:///tmp/ringtrain-control";
  StatusOr<PodContract> back = FromEnv(LookupIn(ToEnv(c)));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
}

TEST(PodContractTest, EmptyOptionalVariablesCountAsUnset) {
  Env env = ToEnv(ParameterServer());
  env["RINGTRAIN_CONTROL_ENDPOINT"] = "";
  env["RINGTRAIN_PS_ENDPOINTS"] = "";
  StatusOr<PodContract> back = FromEnv(LookupIn(env));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, ParameterServer());
}

struct EnvErrorCase {
  const char* name;
  bool worker;         // start from Worker() (else ParameterServer())
  const char* var;     // variable to change
  const char* value;   // new value; nullptr unsets it
  const char* prefix;  // expected message prefix (the variable)
  const char* detail;  // expected part of the message
};

constexpr EnvErrorCase kEnvCases[] = {
    {"MissingJobName", true, "RINGTRAIN_JOB_NAME", nullptr,
     "RINGTRAIN_JOB_NAME: ", "required but not set"},
    {"BadJobName", true, "RINGTRAIN_JOB_NAME", "Fashion",
     "RINGTRAIN_JOB_NAME: ", "lower-case letters"},
    {"MissingRole", true, "RINGTRAIN_ROLE", nullptr, "RINGTRAIN_ROLE: ", "required but not set"},
    {"BadRole", true, "RINGTRAIN_ROLE", "chief",
     "RINGTRAIN_ROLE: ", "unknown role \"chief\" (expected ps or worker)"},
    {"IndexNotInteger", true, "RINGTRAIN_INDEX", "2x",
     "RINGTRAIN_INDEX: ", "expected an integer (got \"2x\")"},
    {"WorkerIndexTooLarge", true, "RINGTRAIN_INDEX", "3",
     "RINGTRAIN_INDEX: ", "must be in [0, RINGTRAIN_NUM_WORKERS = 3), got 3"},
    {"PsIndexTooLarge", false, "RINGTRAIN_INDEX", "2",
     "RINGTRAIN_INDEX: ", "must be in [0, RINGTRAIN_NUM_PS = 2), got 2"},
    {"IndexNegative", true, "RINGTRAIN_INDEX", "-1", "RINGTRAIN_INDEX: ", "got -1"},
    {"NumPsZero", true, "RINGTRAIN_NUM_PS", "0",
     "RINGTRAIN_NUM_PS: ", "must be between 1 and 1024 (got 0)"},
    {"NumWorkersMissing", true, "RINGTRAIN_NUM_WORKERS", nullptr,
     "RINGTRAIN_NUM_WORKERS: ", "required but not set"},
    {"WorkerWithoutEndpoints", true, "RINGTRAIN_PS_ENDPOINTS", nullptr,
     "RINGTRAIN_PS_ENDPOINTS: ", "required for role worker"},
    {"EndpointCountMismatch", true, "RINGTRAIN_PS_ENDPOINTS", "tcp://a:1",
     "RINGTRAIN_PS_ENDPOINTS: ", "has 1 endpoints but RINGTRAIN_NUM_PS is 2"},
    {"EndpointWithoutPort", true, "RINGTRAIN_PS_ENDPOINTS", "tcp://a:1,tcp://ps-1",
     "RINGTRAIN_PS_ENDPOINTS[1]: ", "expected tcp://host:port (got \"tcp://ps-1\")"},
    {"EndpointWrongScheme", true, "RINGTRAIN_PS_ENDPOINTS", "udp://a:1,tcp://b:2",
     "RINGTRAIN_PS_ENDPOINTS[0]: ", "expected tcp://host:port"},
    {"EndpointPortZero", true, "RINGTRAIN_PS_ENDPOINTS", "tcp://a:1,tcp://b:0",
     "RINGTRAIN_PS_ENDPOINTS[1]: ", "(got \"tcp://b:0\")"},
    {"EndpointWildcardHost", true, "RINGTRAIN_PS_ENDPOINTS", "tcp://*:1,tcp://b:2",
     "RINGTRAIN_PS_ENDPOINTS[0]: ", "expected tcp://host:port"},
    {"StatusBindNotAnEndpoint", true, "RINGTRAIN_STATUS_BIND", "7071",
     "RINGTRAIN_STATUS_BIND: ", "expected tcp://host:port"},
    {"PsWithoutBind", false, "RINGTRAIN_BIND", nullptr, "RINGTRAIN_BIND: ", "required for role ps"},
    {"PsStatusOnItsOwnBind", false, "RINGTRAIN_STATUS_BIND", "tcp://*:7070",
     "RINGTRAIN_STATUS_BIND: ", "must not be RINGTRAIN_BIND (both are \"tcp://*:7070\")"},
    {"BindPortTooLarge", false, "RINGTRAIN_BIND", "tcp://*:70000",
     "RINGTRAIN_BIND: ", "(got \"tcp://*:70000\")"},
    {"MissingSpecPath", true, "RINGTRAIN_SPEC_PATH", nullptr,
     "RINGTRAIN_SPEC_PATH: ", "required but not set"},
    {"BadControlEndpoint", true, "RINGTRAIN_CONTROL_ENDPOINT", "localhost:9000",
     "RINGTRAIN_CONTROL_ENDPOINT: ", "expected tcp://host:port or ipc://path"},
    {"OutputDirOfAnotherWorker", true, "RINGTRAIN_OUTPUT_DIR", "/models",
     "RINGTRAIN_OUTPUT_DIR: ", "only worker 0 writes the model"},
    {"OutputDirOfAServer", false, "RINGTRAIN_OUTPUT_DIR", "/models",
     "RINGTRAIN_OUTPUT_DIR: ", "only worker 0 writes the model"},
};

class PodContractErrorTest : public ::testing::TestWithParam<EnvErrorCase> {};

TEST_P(PodContractErrorTest, NamesTheVariable) {
  const EnvErrorCase& c = GetParam();
  Env env = ToEnv(c.worker ? Worker() : ParameterServer());
  if (c.value == nullptr) {
    env.erase(c.var);
  } else {
    env[c.var] = c.value;
  }
  StatusOr<PodContract> contract = FromEnv(LookupIn(env));
  ASSERT_FALSE(contract.ok());
  EXPECT_EQ(contract.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(contract.status().message(), StartsWith(c.prefix));
  EXPECT_THAT(contract.status().message(), HasSubstr(c.detail));
}

INSTANTIATE_TEST_SUITE_P(Malformed, PodContractErrorTest, ::testing::ValuesIn(kEnvCases),
                         [](const ::testing::TestParamInfo<EnvErrorCase>& param) {
                           return std::string(param.param.name);
                         });

TEST(PodContractTest, WorkerZerosOutputDirRoundTripsAndIsAbsoluteOrInAnObjectStore) {
  PodContract c = Worker();
  c.index = 0;
  c.output_dir = "/models/run";
  Env env = ToEnv(c);
  EXPECT_EQ(env.at("RINGTRAIN_OUTPUT_DIR"), "/models/run");
  StatusOr<PodContract> back = FromEnv(LookupIn(env));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
  env["RINGTRAIN_OUTPUT_DIR"] = "models";
  EXPECT_THAT(FromEnv(LookupIn(env)).status().message(),
              StartsWith("RINGTRAIN_OUTPUT_DIR: expected an absolute path or s3://bucket/prefix "
                         "(got \"models\")"));
  env["RINGTRAIN_OUTPUT_DIR"] = "s3://bucket/models";
  ASSERT_TRUE(FromEnv(LookupIn(env)).ok());
  EXPECT_EQ(FromEnv(LookupIn(env))->output_dir, "s3://bucket/models");
}

TEST(PodContractTest, KeysRoundTripAndComeInPairsOfAbsolutePaths) {
  PodContract c = Worker();
  c.public_keys_path = "/etc/ringtrain/public-keys";
  c.secret_key_path = "/etc/ringtrain/worker-2.key";
  Env env = ToEnv(c);
  EXPECT_EQ(env.at("RINGTRAIN_PUBLIC_KEYS"), "/etc/ringtrain/public-keys");
  EXPECT_EQ(env.at("RINGTRAIN_SECRET_KEY"), "/etc/ringtrain/worker-2.key");
  StatusOr<PodContract> back = FromEnv(LookupIn(env));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
  Env half = env;
  half.erase("RINGTRAIN_SECRET_KEY");
  EXPECT_THAT(FromEnv(LookupIn(half)).status().message(),
              StartsWith("RINGTRAIN_SECRET_KEY: required when RINGTRAIN_PUBLIC_KEYS is set"));
  env["RINGTRAIN_SECRET_KEY"] = "worker-2.key";
  EXPECT_THAT(FromEnv(LookupIn(env)).status().message(),
              StartsWith("RINGTRAIN_SECRET_KEY: expected an absolute path"));
}

// A local run's sockets: ipc:// paths directly in its run directory, and only with one.
TEST(PodContractTest, IpcEndpointsOnlyInTheRunDirectory) {
  PodContract w = Worker();
  w.run_dir = "/tmp/ringtrain-run-abc";
  w.ps_endpoints = {"ipc:///tmp/ringtrain-run-abc/ps-0", "ipc:///tmp/ringtrain-run-abc/ps-1"};
  w.control_endpoint = "ipc:///tmp/ringtrain-run-abc/control";
  Env env = ToEnv(w);
  EXPECT_EQ(env.at("RINGTRAIN_RUN_DIR"), "/tmp/ringtrain-run-abc");
  StatusOr<PodContract> back = FromEnv(LookupIn(env));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, w);
  PodContract ps = ParameterServer();
  ps.run_dir = w.run_dir;
  ps.bind_endpoint = "ipc:///tmp/ringtrain-run-abc/ps-1";
  EXPECT_TRUE(ValidatePodContract(ps).ok());

  for (const char* bad : {"ipc:///tmp/elsewhere/ps-0", "ipc:///tmp/ringtrain-run-abc/a/ps-0",
                          "ipc:///tmp/ringtrain-run-abc/..", "ipc:///tmp/ringtrain-run-abc/"}) {
    PodContract c = w;
    c.ps_endpoints[0] = bad;
    EXPECT_THAT(ValidatePodContract(c).message(),
                StartsWith("RINGTRAIN_PS_ENDPOINTS[0]: expected tcp://host:port or "
                           "ipc:///tmp/ringtrain-run-abc/<name>"))
        << bad;
  }
  PodContract no_dir = w;
  no_dir.run_dir.clear();
  EXPECT_THAT(ValidatePodContract(no_dir).message(),
              StartsWith("RINGTRAIN_PS_ENDPOINTS[0]: expected tcp://host:port (got"));
  ps.run_dir = "tmp/run";
  EXPECT_THAT(ValidatePodContract(ps).message(),
              StartsWith("RINGTRAIN_RUN_DIR: expected an absolute path"));
}

TEST(PodContractTest, ValidateAcceptsTheExamples) {
  EXPECT_TRUE(ValidatePodContract(Worker()).ok());
  EXPECT_TRUE(ValidatePodContract(ParameterServer()).ok());
}

TEST(PodContractTest, RoleNames) {
  EXPECT_STREQ(Name(Role::kParameterServer), "ps");
  EXPECT_STREQ(Name(Role::kWorker), "worker");
}

TEST(PodContractTest, ProcessNamesAndArgs) {
  EXPECT_EQ(ProcessName(Role::kParameterServer, 0), "ps-0");
  EXPECT_EQ(ProcessName(Role::kWorker, 4095), "worker-4095");
  EXPECT_EQ(ProcessArgs(Role::kParameterServer), std::vector<std::string>{"ps"});
  EXPECT_EQ(ProcessArgs(Role::kWorker), std::vector<std::string>{"worker"});
}

TrainingJob TwoByThree() {
  TrainingJob job;
  job.metadata.name = "fashion-mnist";
  job.spec.parameter_servers.replicas = 2;
  job.spec.workers.replicas = 3;
  return job;
}

Placement FullPlacement() {
  Placement p;
  p.ps_endpoints = {"tcp://10.0.0.1:7070", "tcp://10.0.0.2:7070"};
  p.ps_bind = "tcp://*:7070";
  p.spec_path = "/etc/ringtrain/job.json";
  p.control_endpoint = "tcp://10.0.0.9:7000";
  p.status_bind = "tcp://*:7071";
  p.ps_status_bind = "tcp://*:7072";
  p.termination_log = "/dev/termination-log";
  p.output_dir = "/models";
  return p;
}

TEST(ContractForTest, ServersBindAndKnowThePlacement) {
  PodContract c = ContractFor(TwoByThree(), Role::kParameterServer, 1, FullPlacement());
  EXPECT_EQ(c.job_name, "fashion-mnist");
  EXPECT_EQ(c.role, Role::kParameterServer);
  EXPECT_EQ(c.index, 1);
  EXPECT_EQ(c.num_ps, 2);
  EXPECT_EQ(c.num_workers, 3);
  EXPECT_EQ(c.bind_endpoint, "tcp://*:7070");
  EXPECT_EQ(c.ps_endpoints, FullPlacement().ps_endpoints);
  EXPECT_EQ(c.status_bind, "tcp://*:7072");  // the servers' status socket (checkpoints)
  EXPECT_EQ(c.output_dir, "");               // only worker 0 writes the model
  EXPECT_EQ(c.spec_path, "/etc/ringtrain/job.json");
  EXPECT_EQ(c.control_endpoint, "tcp://10.0.0.9:7000");
  EXPECT_EQ(c.termination_log, "/dev/termination-log");
  EXPECT_TRUE(ValidatePodContract(c).ok()) << ValidatePodContract(c).ToString();
  StatusOr<PodContract> back = FromEnv(LookupIn(ToEnv(c)));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
}

TEST(ContractForTest, OnlyWorkerZeroServesStatusAndNoWorkerBinds) {
  PodContract w0 = ContractFor(TwoByThree(), Role::kWorker, 0, FullPlacement());
  PodContract w2 = ContractFor(TwoByThree(), Role::kWorker, 2, FullPlacement());
  EXPECT_EQ(w0.status_bind, "tcp://*:7071");  // worker 0's own, not the servers'
  EXPECT_EQ(w2.status_bind, "");
  EXPECT_EQ(w0.output_dir, "/models") << "worker 0 writes the model";
  EXPECT_EQ(w2.output_dir, "");
  EXPECT_EQ(w0.bind_endpoint, "");
  EXPECT_EQ(w2.bind_endpoint, "");
  EXPECT_EQ(w2.ps_endpoints, FullPlacement().ps_endpoints);
  for (const PodContract& c : {w0, w2}) {
    EXPECT_TRUE(ValidatePodContract(c).ok()) << ValidatePodContract(c).ToString();
    StatusOr<PodContract> back = FromEnv(LookupIn(ToEnv(c)));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, c);
  }
}

TEST(ContractForTest, LocalServersStartBeforeEndpointsAreKnown) {
  Placement local;
  local.ps_bind = "tcp://127.0.0.1:0";
  local.spec_path = "/tmp/job.yaml";
  PodContract ps = ContractFor(TwoByThree(), Role::kParameterServer, 0, local);
  EXPECT_TRUE(ps.ps_endpoints.empty());
  EXPECT_TRUE(ValidatePodContract(ps).ok()) << ValidatePodContract(ps).ToString();
  // A worker without the servers' endpoints is not a valid process.
  PodContract w = ContractFor(TwoByThree(), Role::kWorker, 1, local);
  EXPECT_THAT(ValidatePodContract(w).message(), StartsWith("RINGTRAIN_PS_ENDPOINTS"));
}

}  // namespace
}  // namespace ringtrain::job
