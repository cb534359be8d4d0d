// The controller against a real kube-apiserver + etcd (one control plane for this executable;
// each test has a namespace and a controller of its own). Nothing runs pods: the test plays
// the kubelet, setting pod phases and exit codes through the pods' status subresource.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "control_plane.h"
#include "events.h"
#include "ringtrain/operator/controller.h"
#include "ringtrain/operator/progress_source.h"
#include "ringtrain/operator/resources.h"
#include "ringtrain/transport/status_server.h"
#include "ringtrain/worker/progress_recorder.h"

namespace ringtrain::op {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using SteadyClock = std::chrono::steady_clock;
using Json = nlohmann::json;

const kube::Resource kNamespaces{"", "v1", "namespaces", false};

class ControllerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cp = testing::ControlPlane::Start();
    if (!cp.ok()) {
      setup_error_ = new std::string(cp.status().ToString());
      return;
    }
    cp_ = std::move(cp).value().release();
    Status crd = cp_->InstallCrd();
    if (!crd.ok()) {
      setup_error_ = new std::string(crd.ToString());
      return;
    }
    kube::ClientOptions options;
    options.request_timeout = seconds(20);
    options.watch_read_timeout = seconds(90);
    auto client = cp_->Client(options);
    if (!client.ok()) {
      setup_error_ = new std::string(client.status().ToString());
      return;
    }
    client_ = std::move(client).value().release();
  }

  static void TearDownTestSuite() {
    delete client_;
    client_ = nullptr;
    delete cp_;
    cp_ = nullptr;
    delete setup_error_;
    setup_error_ = nullptr;
  }

  void SetUp() override {
    if (setup_error_ != nullptr) GTEST_FAIL() << *setup_error_;
    std::string name = "c-";
    for (char c : std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
      name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    ns_ = name.substr(0, 63);
    auto created = client_->Create(kNamespaces, "", {{"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void TearDown() override { StopController(); }

  void StartController(ProgressSource* progress = nullptr, int status_port = 0,
                       int ps_status_port = 0) {
    ControllerOptions options;
    options.progress_source = progress;
    options.progress_interval = milliseconds(100);
    if (status_port != 0) options.resources.status_port = status_port;
    if (ps_status_port != 0) options.resources.ps_status_port = ps_status_port;
    options.ns = ns_;
    options.workers = 2;
    options.watch_timeout = seconds(30);
    // The jobs' keys, derived as the operator's main derives them (here from a fixed secret).
    options.resources.keys = MakeDerivedKeySource(std::string(40, 'k')).value();
    options.log = [](const std::string& line) {
      std::fprintf(stderr, "operator: %s\n", line.c_str());
    };
    controller_ = std::make_unique<Controller>(*client_, options);
    Status s = controller_->Start(seconds(30));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void StopController() { controller_.reset(); }

  // A small valid job: `ps` servers, `workers` workers; `run_policy` merged into runPolicy.
  Json Job(const std::string& name, int ps, int workers, const Json& run_policy = Json::object()) {
    Json j = {{"apiVersion", "ringtrain.io/v1alpha1"},
              {"kind", "TrainingJob"},
              {"metadata", {{"name", name}, {"namespace", ns_}}},
              {"spec",
               {{"image", "ringtrain/runtime:test"},
                {"model", {{"type", "softmax"}}},
                {"dataset",
                 {{"train",
                   {{"images", "file:///data/train-images.gz"},
                    {"labels", "file:///data/train-labels.gz"}}}}},
                {"parameterServers",
                 {{"replicas", ps}, {"resources", {{"requests", {{"cpu", "500m"}}}}}}},
                {"workers",
                 {{"replicas", workers},
                  {"resources", {{"requests", {{"cpu", "1"}, {"memory", "1Gi"}}}}}}},
                {"runPolicy", run_policy}}}};
    return j;
  }

  Json CreateJob(const Json& job) {
    auto created = client_->Create(kube::TrainingJobs(), ns_, job);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : Json();
  }

  // The job, with an empty status object if it has none yet.
  Json GetJob(const std::string& name) {
    auto got = client_->Get(kube::TrainingJobs(), ns_, name);
    Json j = got.ok() ? *got : Json::object();
    if (!j.contains("status") || !j["status"].is_object()) j["status"] = Json::object();
    return j;
  }

  std::map<std::string, Json> Pods(const std::string& job) {
    kube::ListOptions o;
    o.label_selector = std::string(kLabelJobName) + "=" + job;
    auto list = client_->List(kube::Pods(), ns_, o);
    std::map<std::string, Json> out;
    if (!list.ok()) return out;
    for (const Json& p : (*list)["items"]) out[p["metadata"]["name"]] = p;
    return out;
  }

  // Polls `done` every 50 ms until it holds or `timeout` passes.
  static bool WaitUntil(const std::function<bool()>& done, milliseconds timeout = seconds(30)) {
    const auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return done();
  }

  bool WaitForPhase(const std::string& job, const std::string& phase,
                    milliseconds timeout = seconds(30)) {
    return WaitUntil([&] { return GetJob(job)["status"].value("phase", "") == phase; }, timeout);
  }

  bool WaitForPods(const std::string& job, size_t n) {
    return WaitUntil([&] {
      auto pods = Pods(job);
      return pods.size() == n && std::none_of(pods.begin(), pods.end(), [](const auto& p) {
               return p.second["metadata"].contains("deletionTimestamp");
             });
    });
  }

  // What a kubelet reports: phase, readiness and (once terminated) the exit code.
  // `missing_ok`: a pod the operator has deleted meanwhile is not an error (for jobs that may
  // end on their own, e.g. by a deadline, while the test is still marking their pods).
  void SetPod(const std::string& pod, const std::string& phase, int exit_code = 0,
              const std::string& message = "", bool missing_ok = false) {
    Json container = {{"name", "main"},    {"image", "ringtrain/runtime:test"},
                      {"imageID", ""},     {"ready", phase == "Running"},
                      {"restartCount", 0}, {"state", Json::object()}};
    if (phase == "Running") {
      container["state"] = {{"running", {{"startedAt", "2026-12-01T00:00:00Z"}}}};
    } else if (phase == "Succeeded" || phase == "Failed") {
      container["state"] = {{"terminated",
                             {{"exitCode", exit_code},
                              {"message", message},
                              {"reason", exit_code == 0 ? "Completed" : "Error"}}}};
    }
    Json status = {
        {"phase", phase},
        {"podIP", "127.0.0.1"},
        {"conditions", {{{"type", "Ready"}, {"status", phase == "Running" ? "True" : "False"}}}},
        {"containerStatuses", {container}}};
    auto patched = client_->PatchStatus(kube::Pods(), ns_, pod, {{"status", status}});
    if (missing_ok && patched.status().code() == StatusCode::kNotFound) return;
    ASSERT_TRUE(patched.ok()) << pod << ": " << patched.status().ToString();
  }

  void SetAll(const std::string& job, const std::string& phase) {
    for (const auto& [name, pod] : Pods(job)) SetPod(name, phase);
  }

  static Json Condition(const Json& job, const std::string& type) {
    for (const Json& c : job["status"].value("conditions", Json::array())) {
      if (c["type"] == type) return c;
    }
    return Json::object();
  }

  static std::string Env(const Json& pod, const std::string& name) {
    for (const Json& e : pod["spec"]["containers"][0]["env"]) {
      if (e["name"] == name) return e["value"];
    }
    return "<unset>";
  }

  std::vector<std::string> EventReasons(const std::string& job) {
    auto list = client_->List(kube::Events(), ns_, {});
    std::vector<std::string> out;
    if (!list.ok()) return out;
    for (const Json& e : (*list)["items"]) {
      if (e["involvedObject"]["name"] == job) out.push_back(e["reason"]);
    }
    return out;
  }

  static testing::ControlPlane* cp_;
  static kube::RestClient* client_;
  static std::string* setup_error_;
  std::string ns_;
  // Declared before the controller, so it outlives it (the poller uses it until Stop).
  std::unique_ptr<ProgressSource> progress_source_;
  std::unique_ptr<Controller> controller_;
};

testing::ControlPlane* ControllerTest::cp_ = nullptr;
kube::RestClient* ControllerTest::client_ = nullptr;
std::string* ControllerTest::setup_error_ = nullptr;

TEST_F(ControllerTest, CreatesConfigMapServicesAndPodsWithThePodContract) {
  StartController();
  const Json job = CreateJob(Job("mnist", 2, 3));
  ASSERT_TRUE(WaitForPods("mnist", 5));
  ASSERT_TRUE(WaitForPhase("mnist", "Created"));
  const std::string uid = job["metadata"]["uid"];

  auto pods = Pods("mnist");
  const Json& w1 = pods.at("mnist-worker-1");
  EXPECT_EQ(w1["spec"]["hostname"], "mnist-worker-1");
  EXPECT_EQ(w1["spec"]["subdomain"], "mnist-worker");
  EXPECT_EQ(w1["spec"]["restartPolicy"], "Never");
  EXPECT_EQ(w1["spec"]["containers"][0]["image"], "ringtrain/runtime:test");
  EXPECT_EQ(w1["spec"]["containers"][0]["args"], Json::array({"worker"}));
  EXPECT_EQ(w1["spec"]["containers"][0]["resources"]["requests"]["memory"], "1Gi");
  EXPECT_EQ(pods.at("mnist-ps-0")["spec"]["containers"][0]["resources"]["requests"]["cpu"], "500m");
  EXPECT_EQ(Env(w1, "RINGTRAIN_ROLE"), "worker");
  EXPECT_EQ(Env(w1, "RINGTRAIN_INDEX"), "1");
  EXPECT_EQ(Env(w1, "RINGTRAIN_NUM_PS"), "2");
  EXPECT_EQ(Env(w1, "RINGTRAIN_NUM_WORKERS"), "3");
  EXPECT_EQ(Env(w1, "RINGTRAIN_JOB_NAME"), "mnist");
  EXPECT_EQ(Env(w1, "RINGTRAIN_PS_ENDPOINTS"), "tcp://mnist-ps-0.mnist-ps." + ns_ +
                                                   ".svc:7070,tcp://mnist-ps-1.mnist-ps." + ns_ +
                                                   ".svc:7070");
  EXPECT_EQ(Env(pods.at("mnist-ps-1"), "RINGTRAIN_BIND"), "tcp://*:7070");
  EXPECT_EQ(Env(w1, "RINGTRAIN_SPEC_PATH"), "/etc/ringtrain/job.json");
  EXPECT_EQ(Env(w1, "RINGTRAIN_SECRET_KEY"), "/etc/ringtrain/worker-1.key");
  // The keys' Secret, as the API server stores it (read here with the test's admin rights; the
  // operator never reads it), holds the secret key of each of the 5 pods.
  auto secrets = client_->List(kube::Secrets(), ns_, {});
  ASSERT_TRUE(secrets.ok()) << secrets.status().ToString();
  ASSERT_EQ((*secrets)["items"].size(), 1u);
  EXPECT_EQ((*secrets)["items"][0]["data"].size(), 5u);
  EXPECT_EQ((*secrets)["items"][0]["metadata"]["ownerReferences"][0]["uid"], uid);
  const Json& owner = w1["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["uid"], uid);
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(owner["kind"], "TrainingJob");
  EXPECT_EQ(w1["metadata"]["labels"]["ringtrain.io/role"], "worker");
  EXPECT_EQ(w1["metadata"]["labels"]["ringtrain.io/index"], "1");

  auto ps_svc = client_->Get(kube::Services(), ns_, "mnist-ps");
  ASSERT_TRUE(ps_svc.ok()) << ps_svc.status().ToString();
  EXPECT_EQ((*ps_svc)["spec"]["clusterIP"], "None");
  EXPECT_EQ((*ps_svc)["spec"]["ports"][0]["port"], 7070);
  EXPECT_TRUE(client_->Get(kube::Services(), ns_, "mnist-worker").ok());
  auto cm = client_->Get(kube::ConfigMaps(), ns_, "mnist-spec");
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  const Json spec = Json::parse((*cm)["data"]["job.json"].get<std::string>());
  EXPECT_EQ(spec["spec"]["workers"]["replicas"], 3);

  // The status is written before the pods are made, so their count arrives one write later.
  EXPECT_TRUE(WaitUntil([&] {
    return GetJob("mnist")["status"]
               .value("replicaStatuses", Json::object())
               .value("workers", Json::object())
               .value("active", 0) == 3;
  }));
  const Json now = GetJob("mnist");
  EXPECT_EQ(Condition(now, "Created")["status"], "True");
  EXPECT_EQ(now["status"]["observedGeneration"], 1);
  EXPECT_TRUE(WaitUntil([&] {
    auto r = EventReasons("mnist");
    return std::find(r.begin(), r.end(), "PodsCreated") != r.end();
  }));
}

// The API server validates pods as a kubelet would receive them: the volumes of spec.volumes
// must come out as valid core/v1 volumes and mounts.
TEST_F(ControllerTest, PodsGetTheVolumesTheirRoleMounts) {
  StartController();
  Json job = Job("vols", 1, 2);
  job["spec"]["volumes"] = Json::parse(R"([
      {"name": "data", "persistentVolumeClaim": {"claimName": "fashion-mnist", "readOnly": true}},
      {"name": "node", "hostPath": {"path": "/srv/datasets", "type": "DirectoryOrCreate"}},
      {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}},
      {"name": "share", "nfs": {"server": "10.0.0.7", "path": "/exports", "readOnly": true}},
      {"name": "settings", "configMap": {"name": "job-settings", "optional": true}},
      {"name": "token", "secret": {"secretName": "s3-credentials", "optional": true}}])");
  job["spec"]["workers"]["volumeMounts"] = Json::parse(R"([
      {"name": "data", "mountPath": "/data", "readOnly": true},
      {"name": "node", "mountPath": "/node"},
      {"name": "share", "mountPath": "/share", "subPath": "v1"},
      {"name": "settings", "mountPath": "/settings"},
      {"name": "token", "mountPath": "/token", "readOnly": true}])");
  job["spec"]["parameterServers"]["volumeMounts"] =
      Json::parse(R"([{"name": "scratch", "mountPath": "/scratch"}])");
  CreateJob(job);
  ASSERT_TRUE(WaitForPods("vols", 3));

  auto pods = Pods("vols");
  const Json& w0 = pods.at("vols-worker-0");
  std::vector<std::string> names;
  for (const Json& v : w0["spec"]["volumes"]) names.push_back(v["name"]);
  EXPECT_EQ(names,
            (std::vector<std::string>{"spec", "data", "node", "share", "settings", "token"}));
  EXPECT_EQ(w0["spec"]["volumes"][1]["persistentVolumeClaim"]["claimName"], "fashion-mnist");
  EXPECT_EQ(w0["spec"]["volumes"][3]["nfs"]["server"], "10.0.0.7");
  const Json& mounts = w0["spec"]["containers"][0]["volumeMounts"];
  ASSERT_EQ(mounts.size(), 6u);
  EXPECT_EQ(mounts[0]["mountPath"], "/etc/ringtrain");
  EXPECT_EQ(mounts[1]["mountPath"], "/data");
  EXPECT_EQ(mounts[1]["readOnly"], true);
  EXPECT_EQ(mounts[3]["subPath"], "v1");

  const Json& ps = pods.at("vols-ps-0");
  ASSERT_EQ(ps["spec"]["volumes"].size(), 2u);
  EXPECT_EQ(ps["spec"]["volumes"][1]["emptyDir"]["medium"], "Memory");
  EXPECT_EQ(ps["spec"]["volumes"][1]["emptyDir"]["sizeLimit"], "256Mi");
  EXPECT_EQ(ps["spec"]["containers"][0]["volumeMounts"][1]["mountPath"], "/scratch");
}

// Progress, pulled: a real worker status server (the runtime's) on 127.0.0.1 stands for
// worker 0; the operator asks it and writes what it says into the status, then takes the
// final numbers from the pod's termination message once worker 0 has succeeded.
TEST_F(ControllerTest, ProgressIsPulledFromWorkerZeroIntoTheStatus) {
  zmq::context_t context(1);
  worker::ProgressRecorder recorder(nullptr, "mnist", 2, 128);
  auto server = transport::StatusServer::Start(context, "tcp://127.0.0.1:0", "mnist",
                                               [&recorder] { return recorder.Snapshot(); });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string endpoint = (*server)->endpoint();
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  progress_source_ = MakeZmqProgressSource();
  StartController(progress_source_.get(), port);
  // Plaintext: the status server stands in for a pod before the job (and so its keys) exists.
  // The same poll over CURVE, against real pods, is operator_training_e2e's.
  Json mnist = Job("mnist", 1, 2);
  mnist["spec"]["security"] = {{"authentication", "none"}};
  CreateJob(mnist);
  ASSERT_TRUE(WaitForPods("mnist", 3));
  SetAll("mnist", "Running");
  ASSERT_TRUE(WaitForPhase("mnist", "Running"));
  proto::Event e = testing::WorkerEvent(proto::EVAL, 0, 300, 900, 1);
  e.set_loss(0.52);
  e.set_accuracy(0.81);
  e.set_samples(19200);
  recorder.Send(e);
  ASSERT_TRUE(WaitUntil([&] {
    return GetJob("mnist")["status"].value("progress", Json::object()).value("step", 0) == 300;
  })) << GetJob("mnist")["status"].dump();
  Json progress = GetJob("mnist")["status"]["progress"];
  EXPECT_EQ(progress["totalSteps"], 900);
  EXPECT_EQ(progress["accuracy"], 0.81);
  EXPECT_EQ(progress["globalBatchSize"], 128);
  EXPECT_TRUE(progress.contains("updateTime"));

  // Worker 0 is done and gone: its last words carry the final numbers.
  server->reset();
  SetPod("mnist-worker-1", "Succeeded");
  SetPod("mnist-worker-0", "Succeeded", 0,
         R"({"step":900,"totalSteps":900,"epoch":3,"loss":0.31,"accuracy":0.87,)"
         R"("samplesPerSecond":21000,"globalBatchSize":128})");
  ASSERT_TRUE(WaitForPhase("mnist", "Succeeded"));
  ASSERT_TRUE(WaitUntil([&] {
    return GetJob("mnist")["status"].value("progress", Json::object()).value("step", 0) == 900;
  }));
  EXPECT_EQ(GetJob("mnist")["status"]["progress"]["accuracy"], 0.87);
  EXPECT_GE(controller_->stats().progress_polls, 1u);
}

// status.checkpoint: a status server on 127.0.0.1 stands for the job's parameter server (the
// runtime's, answering as ringtrain ps does: its last checkpoint); the operator asks it while
// the job runs, and the API server (the CRD's status schema) keeps what it writes.
TEST_F(ControllerTest, TheServersLastCheckpointIsPulledIntoTheStatus) {
  zmq::context_t context(1);
  std::mutex mu;
  proto::CheckpointInfo last;  // GUARDED_BY(mu); step 0: none yet
  auto server = transport::StatusServer::Start(context, "tcp://127.0.0.1:0", "ckpt", [&] {
    std::lock_guard<std::mutex> lock(mu);
    proto::StatusReply reply;
    if (last.step() > 0) *reply.mutable_checkpoint() = last;
    return reply;
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string endpoint = (*server)->endpoint();
  progress_source_ = MakeZmqProgressSource();
  // Worker 0 answers nowhere (port 1): its progress is not what this test is about.
  StartController(progress_source_.get(), 1, std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
  Json job = Job("ckpt", 1, 2);
  job["spec"]["volumes"] = {{{"name", "ckpt"}, {"persistentVolumeClaim", {{"claimName", "c"}}}}};
  job["spec"]["parameterServers"]["volumeMounts"] = {{{"name", "ckpt"}, {"mountPath", "/ckpt"}}};
  job["spec"]["checkpoint"] = {{"path", "/ckpt/runs/"}, {"everySteps", 10}};
  job["spec"]["security"] = {{"authentication", "none"}};  // (as in the progress test above)
  CreateJob(job);
  ASSERT_TRUE(WaitForPods("ckpt", 3));
  SetAll("ckpt", "Running");
  ASSERT_TRUE(WaitForPhase("ckpt", "Running"));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_FALSE(GetJob("ckpt")["status"].contains("checkpoint")) << "the server has none yet";
  {
    std::lock_guard<std::mutex> lock(mu);
    last.set_step(40);
    last.set_unix_ms(1764806400250);  // 2025-12-04T00:00:00.25Z
    last.set_location("/ckpt/runs/ckpt/ps-0/ckpt-0000000004-step-000000000040");
  }
  ASSERT_TRUE(WaitUntil([&] {
    return GetJob("ckpt")["status"].value("checkpoint", Json::object()).value("step", 0) == 40;
  })) << GetJob("ckpt")["status"].dump();
  Json checkpoint = GetJob("ckpt")["status"]["checkpoint"];
  EXPECT_EQ(checkpoint["time"], "2025-12-04T00:00:00Z");
  EXPECT_EQ(checkpoint["location"], "/ckpt/runs/ckpt");
  {
    std::lock_guard<std::mutex> lock(mu);
    last.set_step(50);
  }
  ASSERT_TRUE(WaitUntil([&] {
    return GetJob("ckpt")["status"].value("checkpoint", Json::object()).value("step", 0) == 50;
  })) << GetJob("ckpt")["status"].dump();
  // The server is gone (its pod replaced, say): the status keeps the last checkpoint.
  server->reset();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(GetJob("ckpt")["status"]["checkpoint"]["step"], 50);
}

TEST_F(ControllerTest, NeverTouchesObjectsItDoesNotOwn) {
  // A pod with the job's name and labels, made by someone else (no ownerReference).
  Json stranger = {{"apiVersion", "v1"},
                   {"kind", "Pod"},
                   {"metadata",
                    {{"name", "mnist-worker-5"},
                     {"labels",
                      {{kLabelJobName, "mnist"},
                       {kLabelManagedBy, kManagedBy},
                       {kLabelRole, "worker"},
                       {kLabelIndex, "5"}}}}},
                   {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
  ASSERT_TRUE(client_->Create(kube::Pods(), ns_, stranger).ok());
  StartController();
  CreateJob(Job("mnist", 1, 1));
  ASSERT_TRUE(WaitForPods("mnist", 3));  // its two and the stranger
  SetAll("mnist", "Running");
  ASSERT_TRUE(WaitForPhase("mnist", "Running"));
  EXPECT_TRUE(client_->Get(kube::Pods(), ns_, "mnist-worker-5").ok())
      << "an index beyond the replicas, but not ours: left alone";
}

TEST_F(ControllerTest, SucceedsWhenEveryWorkerSucceedsAndCleansRunningPods) {
  StartController();
  CreateJob(Job("mnist", 2, 2));
  ASSERT_TRUE(WaitForPods("mnist", 4));
  SetAll("mnist", "Running");
  ASSERT_TRUE(WaitForPhase("mnist", "Running"));
  EXPECT_EQ(GetJob("mnist")["status"]["replicaStatuses"]["workers"]["ready"], 2);
  SetPod("mnist-worker-0", "Succeeded");
  // One worker done is not the job done.
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(GetJob("mnist")["status"]["phase"], "Running");
  SetPod("mnist-worker-1", "Succeeded");
  ASSERT_TRUE(WaitForPhase("mnist", "Succeeded"));
  const Json done = GetJob("mnist");
  EXPECT_EQ(Condition(done, "Succeeded")["reason"], "AllWorkersSucceeded");
  EXPECT_EQ(Condition(done, "Running")["status"], "False");
  EXPECT_TRUE(done["status"].contains("completionTime"));
  // cleanPodPolicy Running (the default): the servers go, the finished workers stay.
  ASSERT_TRUE(WaitUntil([&] { return Pods("mnist").size() == 2; }));
  EXPECT_EQ(Pods("mnist").count("mnist-worker-0"), 1u);
}

TEST_F(ControllerTest, CleanPodPolicyAllAndNone) {
  StartController();
  CreateJob(Job("all", 1, 1, {{"cleanPodPolicy", "All"}}));
  CreateJob(Job("none", 1, 1, {{"cleanPodPolicy", "None"}}));
  ASSERT_TRUE(WaitForPods("all", 2));
  ASSERT_TRUE(WaitForPods("none", 2));
  for (const std::string job : {"all", "none"}) {
    SetPod(job + "-ps-0", "Running");
    SetPod(job + "-worker-0", "Succeeded");
  }
  ASSERT_TRUE(WaitForPhase("all", "Succeeded"));
  ASSERT_TRUE(WaitForPhase("none", "Succeeded"));
  EXPECT_TRUE(WaitUntil([&] { return Pods("all").empty(); }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Pods("none").size(), 2u);
}

TEST_F(ControllerTest, RetryableFailureReplacesThePodAloneUntilTheBackoffLimit) {
  StartController();
  CreateJob(Job("mnist", 1, 2, {{"restartPolicy", "ExitCode"}, {"backoffLimit", 1}}));
  ASSERT_TRUE(WaitForPods("mnist", 3));
  SetAll("mnist", "Running");
  ASSERT_TRUE(WaitForPhase("mnist", "Running"));
  std::map<std::string, std::string> uids;
  for (const auto& [name, pod] : Pods("mnist")) uids[name] = pod["metadata"]["uid"];
  SetPod("mnist-worker-1", "Failed", 137);  // killed by SIGKILL: retryable
  // That pod alone goes and comes back (a new UID): one restart; the others keep theirs.
  ASSERT_TRUE(WaitUntil([&] {
    auto pods = Pods("mnist");
    return pods.size() == 3 && pods.count("mnist-worker-1") &&
           pods.at("mnist-worker-1")["metadata"]["uid"] != uids["mnist-worker-1"] &&
           pods.at("mnist-worker-1")["status"].value("phase", "") == "Pending";
  }));
  for (const std::string name : {"mnist-ps-0", "mnist-worker-0"}) {
    EXPECT_EQ(Pods("mnist").at(name)["metadata"]["uid"], uids[name]) << name;
  }
  Json job = GetJob("mnist");
  EXPECT_EQ(job["status"]["restartCount"], 1);
  EXPECT_EQ(job["status"]["replicaStatuses"]["workers"]["restarts"], 1);
  EXPECT_EQ(Condition(job, "Restarting")["reason"], "WorkerReplaced");
  EXPECT_THAT(Condition(job, "Restarting")["message"].get<std::string>(),
              HasSubstr("mnist-worker-1 failed with exit code 137"));
  SetPod("mnist-worker-1", "Running");
  ASSERT_TRUE(WaitForPhase("mnist", "Running"));
  EXPECT_EQ(Condition(GetJob("mnist"), "Restarting")["status"], "False");

  SetPod("mnist-ps-0", "Failed", 143);
  ASSERT_TRUE(WaitForPhase("mnist", "Failed"));
  job = GetJob("mnist");
  EXPECT_EQ(Condition(job, "Failed")["reason"], "BackoffLimitExceeded");
  EXPECT_EQ(job["status"]["restartCount"], 1) << "counted once per failure";
  EXPECT_TRUE(WaitUntil([&] {
    auto r = EventReasons("mnist");
    return std::count(r.begin(), r.end(), "WorkerReplaced") == 1 &&
           std::count(r.begin(), r.end(), "BackoffLimitExceeded") == 1;
  }));
}

TEST_F(ControllerTest, PermanentExitCodeFailsAtOnce) {
  StartController();
  CreateJob(Job("mnist", 1, 1, {{"restartPolicy", "ExitCode"}, {"backoffLimit", 5}}));
  ASSERT_TRUE(WaitForPods("mnist", 2));
  SetAll("mnist", "Running");
  SetPod("mnist-worker-0", "Failed", 1);
  ASSERT_TRUE(WaitForPhase("mnist", "Failed"));
  const Json job = GetJob("mnist");
  EXPECT_EQ(Condition(job, "Failed")["reason"], "PermanentExitCode");
  EXPECT_EQ(job["status"]["restartCount"], 0);
  // cleanPodPolicy Running: the running server is deleted, the failed worker kept for its logs.
  ASSERT_TRUE(WaitUntil([&] { return Pods("mnist").size() == 1; }));
  EXPECT_EQ(Pods("mnist").count("mnist-worker-0"), 1u);
}

TEST_F(ControllerTest, ActiveDeadlineFailsTheJob) {
  StartController();
  // Long enough for the pods to be made first even under ThreadSanitizer (2 s was not: the
  // job failed before it had any).
  CreateJob(Job("mnist", 1, 1, {{"activeDeadlineSeconds", 6}}));
  ASSERT_TRUE(WaitForPods("mnist", 2));
  // The deadline runs from the job's start, so on a slow machine (ThreadSanitizer) it may pass
  // and the pods be deleted before the test has marked them all Running.
  for (const auto& [name, pod] : Pods("mnist")) SetPod(name, "Running", 0, "", /*missing_ok=*/true);
  ASSERT_TRUE(WaitForPhase("mnist", "Failed", seconds(20)));
  EXPECT_EQ(Condition(GetJob("mnist"), "Failed")["reason"], "DeadlineExceeded");
  EXPECT_TRUE(WaitUntil([&] { return Pods("mnist").empty(); }));
}

TEST_F(ControllerTest, TtlDeletesTheFinishedJob) {
  StartController();
  CreateJob(Job("mnist", 1, 1, {{"ttlSecondsAfterFinished", 1}}));
  ASSERT_TRUE(WaitForPods("mnist", 2));
  SetPod("mnist-ps-0", "Running");
  SetPod("mnist-worker-0", "Succeeded");
  ASSERT_TRUE(WaitUntil(
      [&] {
        return client_->Get(kube::TrainingJobs(), ns_, "mnist").status().code() ==
               StatusCode::kNotFound;
      },
      seconds(15)));
}

TEST_F(ControllerTest, SuspendDeletesPodsAndResumeRecreatesThemWithEditsApplied) {
  StartController();
  CreateJob(Job("mnist", 1, 2));
  ASSERT_TRUE(WaitForPods("mnist", 3));
  SetAll("mnist", "Running");
  ASSERT_TRUE(WaitForPhase("mnist", "Running"));
  ASSERT_TRUE(client_
                  ->Patch(kube::TrainingJobs(), ns_, "mnist", kube::PatchType::kMerge,
                          {{"spec", {{"runPolicy", {{"suspend", true}}}}}})
                  .ok());
  ASSERT_TRUE(WaitForPhase("mnist", "Suspended"));
  ASSERT_TRUE(WaitUntil([&] { return Pods("mnist").empty(); }));
  EXPECT_EQ(Condition(GetJob("mnist"), "Suspended")["status"], "True");
  // Suspended, the job may change shape: resumed, it runs with the edit.
  ASSERT_TRUE(client_
                  ->Patch(kube::TrainingJobs(), ns_, "mnist", kube::PatchType::kMerge,
                          {{"spec", {{"workers", {{"replicas", 3}}}}}})
                  .ok());
  ASSERT_TRUE(client_
                  ->Patch(kube::TrainingJobs(), ns_, "mnist", kube::PatchType::kMerge,
                          {{"spec", {{"runPolicy", {{"suspend", false}}}}}})
                  .ok());
  ASSERT_TRUE(WaitForPods("mnist", 4));
  EXPECT_EQ(Env(Pods("mnist").at("mnist-worker-2"), "RINGTRAIN_NUM_WORKERS"), "3");
  const Json job = GetJob("mnist");
  EXPECT_EQ(Condition(job, "Suspended")["status"], "False");
  EXPECT_EQ(Condition(job, "Suspended")["reason"], "Resumed");
}

TEST_F(ControllerTest, SpecEditOfARunningJobIsRefused) {
  StartController();
  CreateJob(Job("mnist", 1, 2));
  ASSERT_TRUE(WaitForPods("mnist", 3));
  SetAll("mnist", "Running");
  ASSERT_TRUE(WaitForPhase("mnist", "Running"));
  ASSERT_TRUE(client_
                  ->Patch(kube::TrainingJobs(), ns_, "mnist", kube::PatchType::kMerge,
                          {{"spec", {{"workers", {{"replicas", 4}}}}}})
                  .ok());
  ASSERT_TRUE(WaitUntil([&] {
    return Condition(GetJob("mnist"), "SpecChangeRefused").value("status", "") == "True";
  }));
  EXPECT_EQ(Condition(GetJob("mnist"), "SpecChangeRefused")["observedGeneration"], 2);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Pods("mnist").size(), 3u) << "the running job keeps the shape it started with";
  EXPECT_EQ(GetJob("mnist")["status"]["phase"], "Running");
}

TEST_F(ControllerTest, OperatorRestartMidJobCreatesNoDuplicatesAndLosesNoStatus) {
  StartController();
  CreateJob(Job("mnist", 2, 2, {{"backoffLimit", 3}}));
  ASSERT_TRUE(WaitForPods("mnist", 4));
  SetAll("mnist", "Running");
  ASSERT_TRUE(WaitForPhase("mnist", "Running"));
  const Json before = GetJob("mnist");
  std::map<std::string, std::string> uids;
  for (const auto& [name, pod] : Pods("mnist")) uids[name] = pod["metadata"]["uid"];
  StopController();

  // While no operator runs, a server fails: without checkpoints, the whole job restarts.
  SetPod("mnist-ps-1", "Failed", 137);
  StartController();
  ASSERT_TRUE(WaitUntil([&] {
    auto pods = Pods("mnist");
    return pods.size() == 4 &&
           pods.at("mnist-worker-0")["metadata"]["uid"] != uids["mnist-worker-0"];
  }));
  // And restarted once more right after it acted: nothing is counted twice.
  StopController();
  StartController();
  ASSERT_TRUE(WaitForPods("mnist", 4));
  SetAll("mnist", "Running");
  ASSERT_TRUE(WaitForPhase("mnist", "Running"));
  std::this_thread::sleep_for(milliseconds(500));
  const Json after = GetJob("mnist");
  EXPECT_EQ(after["status"]["restartCount"], 1);
  EXPECT_EQ(Condition(after, "Created")["lastTransitionTime"],
            Condition(before, "Created")["lastTransitionTime"])
      << "the status survived the operator";
  EXPECT_EQ(after["status"]["startTime"], before["status"]["startTime"]);
  EXPECT_EQ(Pods("mnist").size(), 4u);
}

TEST_F(ControllerTest, KeepsWorkingAcrossAnApiServerRestartAndRelistsAfter410) {
  StartController();
  CreateJob(Job("before", 1, 1));
  ASSERT_TRUE(WaitForPods("before", 2));
  const ControllerStats s0 = controller_->stats();
  // Down for a while (the operator's calls fail and back off), then back with a fresh watch
  // cache: resuming a watch from an old resourceVersion gets 410 Gone and relists.
  ASSERT_TRUE(cp_->RestartApiServer("stop").ok());
  // Meanwhile nothing works, and nothing crashes.
  std::this_thread::sleep_for(seconds(2));
  ASSERT_TRUE(cp_->RestartApiServer("start").ok());
  SetPod("before-ps-0", "Running");
  SetPod("before-worker-0", "Succeeded");
  ASSERT_TRUE(WaitForPhase("before", "Succeeded", seconds(60)));
  CreateJob(Job("after", 1, 1));
  ASSERT_TRUE(WaitForPods("after", 2));
  const ControllerStats s1 = controller_->stats();
  uint64_t errors = 0;
  uint64_t lists = 0;
  uint64_t lists_before = 0;
  for (size_t i = 0; i < s1.informers.size(); ++i) {
    errors += s1.informers[i].second.errors;
    lists += s1.informers[i].second.lists;
    lists_before += s0.informers[i].second.lists;
  }
  std::fprintf(stderr, "informers: %llu errors, %llu lists (%llu before)\n",
               static_cast<unsigned long long>(errors), static_cast<unsigned long long>(lists),
               static_cast<unsigned long long>(lists_before));
  EXPECT_GT(lists, lists_before) << "a watch cache that restarted answers old versions with 410";
}

// Puts the real CRD back however the test that swapped it ends (a failed ASSERT included), and
// waits until the API server judges TrainingJobs by it again, so no test depends on running
// before or after the one that swaps it.
class RealCrdRestorer {
 public:
  RealCrdRestorer(testing::ControlPlane* cp, kube::KubeClient* client, std::string ns)
      : cp_(cp), client_(client), ns_(std::move(ns)) {}
  RealCrdRestorer(const RealCrdRestorer&) = delete;
  RealCrdRestorer& operator=(const RealCrdRestorer&) = delete;
  ~RealCrdRestorer() {
    Status restored = cp_->InstallCrd();
    if (!restored.ok()) ADD_FAILURE() << "putting the real CRD back: " << restored.ToString();
    // A job the real schema refuses (replicas 0): once the server refuses it, it serves the
    // real schema; one it still let in is deleted before the next try.
    Json probe = {{"apiVersion", "ringtrain.io/v1alpha1"},
                  {"kind", "TrainingJob"},
                  {"metadata", {{"name", "schema-probe"}, {"namespace", ns_}}},
                  {"spec", {{"workers", {{"replicas", 0}}}}}};
    const auto deadline = SteadyClock::now() + seconds(60);
    while (SteadyClock::now() < deadline) {
      StatusOr<Json> created = client_->Create(kube::TrainingJobs(), ns_, probe);
      if (!created.ok() && created.status().code() == StatusCode::kInvalidArgument) return;
      if (created.ok()) (void)client_->Delete(kube::TrainingJobs(), ns_, "schema-probe");
      std::this_thread::sleep_for(milliseconds(200));
    }
    ADD_FAILURE() << "the API server still admits what the real CRD refuses after 60 s";
  }

 private:
  testing::ControlPlane* cp_;
  kube::KubeClient* client_;
  std::string ns_;
};

// What the schema cannot catch: a cluster still serving an older, looser CRD (here: one whose
// spec takes anything) lets a bad spec in. The operator fails the job with InvalidSpec, naming
// the field, and creates nothing. It swaps the cluster-wide CRD; RealCrdRestorer puts the real
// one back.
TEST_F(ControllerTest, InvalidSpecTheSchemaLetThroughFailsWithoutCreatingPods) {
  const std::string loose = cp_->dir() + "/loose-crd.json";
  testing::CommandResult made = testing::RunCommand(
      "python3 -c \"import json,sys,yaml; crd=yaml.safe_load(open(sys.argv[1])); "
      "v=crd['spec']['versions'][0]; "
      "v['schema']['openAPIV3Schema']['properties']['spec']={'type':'object',"
      "'x-kubernetes-preserve-unknown-fields':True}; "
      "v['schema']['openAPIV3Schema'].pop('x-kubernetes-validations',None); "
      "json.dump(crd,open(sys.argv[2],'w'))\" " RINGTRAIN_SOURCE_DIR
      "/crds/ringtrain.io_trainingjobs.yaml " +
      loose);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  RealCrdRestorer restore_afterwards(cp_, client_, ns_);
  testing::CommandResult applied = cp_->Kubectl("apply -f " + loose);
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  StartController();
  Json bad = Job("broken", 1, 1);
  bad["spec"]["workers"]["replicas"] = 0;
  // The API server may take a moment to serve the new schema: retry until it accepts.
  ASSERT_TRUE(WaitUntil([&] { return client_->Create(kube::TrainingJobs(), ns_, bad).ok(); }));
  ASSERT_TRUE(WaitForPhase("broken", "Failed"));
  const Json job = GetJob("broken");
  EXPECT_EQ(Condition(job, "Failed")["reason"], "InvalidSpec");
  EXPECT_THAT(Condition(job, "Failed")["message"].get<std::string>(),
              HasSubstr("spec.workers.replicas"));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_TRUE(Pods("broken").empty());
  EXPECT_EQ(client_->Get(kube::ConfigMaps(), ns_, "broken-spec").status().code(),
            StatusCode::kNotFound);
  StopController();
}

}  // namespace
}  // namespace ringtrain::op
