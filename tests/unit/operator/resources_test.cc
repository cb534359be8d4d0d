#include "ringtrain/operator/resources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "fake_job_keys.h"
#include "ringtrain/job/parse.h"
#include "ringtrain/operator/api_convert.h"

namespace ringtrain::op {
namespace {

job::TrainingJob MakeJob() {
  job::TrainingJob j;
  j.api_version = job::kApiVersion;
  j.kind = job::kKind;
  j.metadata.name = "mnist";
  j.metadata.namespace_ = "team";
  j.spec.image = "registry.example/ringtrain:1";
  j.spec.model.type = job::ModelType::kSoftmax;
  j.spec.dataset.train = {"file:///data/images.gz", "file:///data/labels.gz", ""};
  j.spec.parameter_servers.replicas = 2;
  j.spec.workers.replicas = 3;
  j.spec.workers.resources.requests = {{"cpu", "2"}, {"memory", "1Gi"}};
  return j;
}

JobView View(const job::TrainingJob& j) {
  JobView v;
  v.name = j.metadata.name;
  v.ns = j.metadata.namespace_;
  v.uid = "uid-7";
  v.job = j;
  return v;
}

std::map<std::string, std::string> Env(const nlohmann::json& pod) {
  std::map<std::string, std::string> env;
  for (const auto& e : pod["spec"]["containers"][0]["env"]) env[e["name"]] = e["value"];
  return env;
}

TEST(ResourcesTest, WorkerPodCarriesThePodContract) {
  auto j = MakeJob();
  nlohmann::json pod = BuildPod(View(j), j, job::Role::kWorker, 1, TestResourceOptions());
  EXPECT_EQ(pod["metadata"]["name"], "mnist-worker-1");
  EXPECT_EQ(pod["metadata"]["namespace"], "team");
  EXPECT_EQ(pod["spec"]["hostname"], "mnist-worker-1");
  EXPECT_EQ(pod["spec"]["subdomain"], "mnist-worker");
  EXPECT_EQ(pod["spec"]["restartPolicy"], "Never");
  const auto& owner = pod["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "TrainingJob");
  EXPECT_EQ(owner["uid"], "uid-7");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(pod["metadata"]["labels"][kLabelRole], "worker");
  EXPECT_EQ(pod["metadata"]["labels"][kLabelIndex], "1");
  EXPECT_EQ(pod["metadata"]["labels"][kLabelSpecHash], SpecHash(j));
  const auto& c = pod["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "registry.example/ringtrain:1");
  EXPECT_EQ(c["args"][0], "worker");
  EXPECT_EQ(c["resources"]["requests"]["cpu"], "2");

  // What the runtime reads back through job::FromEnv is what the pod was told.
  auto env = Env(pod);
  auto contract = job::FromEnv([&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  ASSERT_TRUE(contract.ok()) << contract.status().ToString();
  EXPECT_EQ(contract->role, job::Role::kWorker);
  EXPECT_EQ(contract->index, 1);
  EXPECT_EQ(contract->num_workers, 3);
  EXPECT_THAT(contract->ps_endpoints,
              ::testing::ElementsAre("tcp://mnist-ps-0.mnist-ps.team.svc:7070",
                                     "tcp://mnist-ps-1.mnist-ps.team.svc:7070"));
  EXPECT_EQ(contract->spec_path, "/etc/ringtrain/job.json");
}

TEST(ResourcesTest, ServerPodBindsItsPortAndServiceIsHeadless) {
  auto j = MakeJob();
  nlohmann::json pod = BuildPod(View(j), j, job::Role::kParameterServer, 0, TestResourceOptions());
  EXPECT_EQ(Env(pod)["RINGTRAIN_BIND"], "tcp://*:7070");
  EXPECT_EQ(pod["spec"]["containers"][0]["ports"][0]["containerPort"], 7070);
  // Its status socket answers with its last checkpoint (status.checkpoint).
  EXPECT_EQ(Env(pod)["RINGTRAIN_STATUS_BIND"], "tcp://*:7072");
  EXPECT_EQ(pod["spec"]["containers"][0]["ports"].size(), 2u);
  EXPECT_EQ(pod["spec"]["containers"][0]["ports"][1]["name"], "status");
  EXPECT_EQ(pod["spec"]["containers"][0]["ports"][1]["containerPort"], 7072);
  nlohmann::json svc = BuildService(View(j), job::Role::kParameterServer, TestResourceOptions());
  EXPECT_EQ(svc["metadata"]["name"], "mnist-ps");
  EXPECT_EQ(svc["spec"]["clusterIP"], "None");
  EXPECT_EQ(svc["spec"]["selector"][kLabelRole], "ps");
  EXPECT_EQ(svc["spec"]["selector"][kLabelJobName], "mnist");
}

TEST(ResourcesTest, ConfigMapHoldsTheJobTheRuntimeParses) {
  auto j = MakeJob();
  nlohmann::json cm = BuildConfigMap(View(j), j);
  EXPECT_EQ(cm["metadata"]["name"], "mnist-spec");
  auto parsed =
      job::ParseTrainingJob(nlohmann::json::parse(cm["data"]["job.json"].get<std::string>()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, j);
}

// spec.dataset.storage: the workers (they read the data) get the store's endpoint, region
// and style as values, and the credentials by reference to the Secret: the operator never
// reads them, and neither the pod nor the ConfigMap holds them. The servers get them only when
// their checkpoints are in the object store.
TEST(ResourcesTest, WorkersGetTheStorageAndItsCredentialsByReference) {
  auto j = MakeJob();
  j.spec.dataset.format = job::DataFormat::kLibsvm;
  j.spec.dataset.train = {"", "", "s3://data/train/"};
  j.spec.dataset.features = 784;
  j.spec.dataset.classes = 10;
  j.spec.dataset.storage = job::StorageSpec{"http://seaweedfs.storage:8333", "eu-west-1",
                                            job::AddressingStyle::kPath, "s3-credentials"};
  const nlohmann::json worker = BuildPod(View(j), j, job::Role::kWorker, 0, TestResourceOptions());
  std::map<std::string, nlohmann::json> env;
  for (const auto& e : worker["spec"]["containers"][0]["env"]) env[e["name"]] = e;
  EXPECT_EQ(env["AWS_ENDPOINT_URL_S3"]["value"], "http://seaweedfs.storage:8333");
  EXPECT_EQ(env["AWS_S3_ADDRESSING_STYLE"]["value"], "path");
  EXPECT_EQ(env["AWS_REGION"]["value"], "eu-west-1");
  EXPECT_EQ(env["AWS_ACCESS_KEY_ID"]["valueFrom"],
            nlohmann::json::parse(
                R"({"secretKeyRef": {"name": "s3-credentials", "key": "AWS_ACCESS_KEY_ID"}})"));
  EXPECT_EQ(env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["key"],
            "AWS_SECRET_ACCESS_KEY");
  EXPECT_FALSE(env["AWS_SECRET_ACCESS_KEY"].contains("value"));
  EXPECT_EQ(env["AWS_SESSION_TOKEN"]["valueFrom"]["secretKeyRef"]["optional"], true);
  const nlohmann::json server =
      BuildPod(View(j), j, job::Role::kParameterServer, 0, TestResourceOptions());
  for (const auto& e : server["spec"]["containers"][0]["env"]) {
    EXPECT_FALSE(e["name"].get<std::string>().starts_with("AWS_")) << e.dump();
  }
  const std::string cm = BuildConfigMap(View(j), j).dump();
  EXPECT_THAT(cm, ::testing::HasSubstr("s3-credentials")) << "the Secret's name, not its data";
  EXPECT_THAT(cm, ::testing::Not(::testing::HasSubstr("AWS_SECRET_ACCESS_KEY")));

  // Checkpoints in the object store: the servers write them, so they get the storage too.
  j.spec.checkpoint = job::CheckpointSpec{};
  j.spec.checkpoint->path = "s3://data/checkpoints";
  j.spec.checkpoint->every_steps = 100;
  const nlohmann::json writer =
      BuildPod(View(j), j, job::Role::kParameterServer, 1, TestResourceOptions());
  std::map<std::string, nlohmann::json> server_env;
  for (const auto& e : writer["spec"]["containers"][0]["env"]) server_env[e["name"]] = e;
  EXPECT_EQ(server_env["AWS_ENDPOINT_URL_S3"]["value"], "http://seaweedfs.storage:8333");
  EXPECT_EQ(server_env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"],
            "s3-credentials");
}

TEST(ResourcesTest, SpecHashIgnoresRunPolicyOnly) {
  auto a = MakeJob();
  auto b = a;
  b.spec.run_policy.backoff_limit = 9;
  b.spec.run_policy.suspend = true;
  EXPECT_EQ(SpecHash(a), SpecHash(b));
  b.spec.workers.replicas = 4;
  EXPECT_NE(SpecHash(a), SpecHash(b));
}

TEST(ResourcesTest, WorkerZeroServesStatusAndNoPodGetsApiCredentials) {
  auto j = MakeJob();
  nlohmann::json w0 = BuildPod(View(j), j, job::Role::kWorker, 0, TestResourceOptions());
  nlohmann::json w1 = BuildPod(View(j), j, job::Role::kWorker, 1, TestResourceOptions());
  nlohmann::json ps = BuildPod(View(j), j, job::Role::kParameterServer, 0, TestResourceOptions());
  auto env = [](const nlohmann::json& pod, const std::string& name) {
    auto all = Env(pod);
    return all.count(name) ? all[name] : std::string("<unset>");
  };
  EXPECT_EQ(env(w0, "RINGTRAIN_STATUS_BIND"), "tcp://*:7071");
  EXPECT_EQ(w0["spec"]["containers"][0]["ports"][0]["name"], "status");
  EXPECT_EQ(env(w1, "RINGTRAIN_STATUS_BIND"), "<unset>");
  EXPECT_FALSE(w1["spec"]["containers"][0].contains("ports"));
  for (const nlohmann::json* pod : {&w0, &w1, &ps}) {
    EXPECT_EQ((*pod)["spec"]["automountServiceAccountToken"], false);
    EXPECT_EQ(env(*pod, "RINGTRAIN_TERMINATION_LOG"), "/dev/termination-log");
    EXPECT_EQ((*pod)["spec"]["containers"][0]["terminationMessagePolicy"], "FallbackToLogsOnError");
  }
}

TEST(ResourcesTest, EachRoleGetsTheVolumesItMountsAfterTheSpecVolume) {
  auto j = MakeJob();
  job::VolumeSpec data;
  data.name = "data";
  data.kind = job::VolumeSourceKind::kPersistentVolumeClaim;
  data.source_name = "fashion-mnist";
  data.read_only = true;
  job::VolumeSpec scratch;
  scratch.name = "scratch";
  scratch.kind = job::VolumeSourceKind::kEmptyDir;
  job::VolumeSpec unused;
  unused.name = "unused";
  unused.kind = job::VolumeSourceKind::kHostPath;
  unused.source_name = "/srv";
  j.spec.volumes = {data, scratch, unused};
  // Mounted in another order than declared: pods list volumes in spec.volumes order.
  j.spec.workers.volume_mounts = {{"scratch", "/tmp/scratch", "", false},
                                  {"data", "/data", "fashion", true}};
  j.spec.parameter_servers.volume_mounts = {{"scratch", "/scratch", "", false}};
  // (plaintext: the spec's volume is the ConfigMap alone; with keys see below)
  j.spec.security.authentication = job::Authentication::kNone;

  const nlohmann::json worker = BuildPod(View(j), j, job::Role::kWorker, 1, TestResourceOptions());
  EXPECT_EQ(worker["spec"]["volumes"], nlohmann::json::parse(R"([
      {"name": "spec", "configMap": {"name": "mnist-spec"}},
      {"name": "data", "persistentVolumeClaim": {"claimName": "fashion-mnist", "readOnly": true}},
      {"name": "scratch", "emptyDir": {}}])"));
  EXPECT_EQ(worker["spec"]["containers"][0]["volumeMounts"], nlohmann::json::parse(R"([
      {"name": "spec", "mountPath": "/etc/ringtrain", "readOnly": true},
      {"name": "scratch", "mountPath": "/tmp/scratch"},
      {"name": "data", "mountPath": "/data", "subPath": "fashion", "readOnly": true}])"));

  const nlohmann::json ps =
      BuildPod(View(j), j, job::Role::kParameterServer, 0, TestResourceOptions());
  EXPECT_EQ(ps["spec"]["volumes"], nlohmann::json::parse(R"([
      {"name": "spec", "configMap": {"name": "mnist-spec"}},
      {"name": "scratch", "emptyDir": {}}])"));
  EXPECT_EQ(ps["spec"]["containers"][0]["volumeMounts"].size(), 2u);

  // The controller reads the job back from its ConfigMap as the job the pods were made for:
  // volumes and all, with the hash the ConfigMap is labelled with, or it would never make them.
  const nlohmann::json config_map = BuildConfigMap(View(j), j);
  const std::optional<job::TrainingJob> back = JobFromConfigMap(config_map);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, j);
  EXPECT_EQ(SpecHash(*back), config_map["metadata"]["labels"][kLabelSpecHash]);
  // Volumes shape the pods: editing them changes the spec hash.
  auto edited = j;
  edited.spec.volumes[0].source_name = "fashion-mnist-v2";
  EXPECT_NE(SpecHash(edited), SpecHash(j));
}

// Authentication (the default): the Secret holds every process's secret key, the ConfigMap the
// public keys beside the spec, and each pod mounts, in the spec's directory, the ConfigMap and
// its own key alone, readable by its group only (fsGroup: the image's user), and is told where.
TEST(ResourcesTest, EachPodMountsItsOwnKeyAloneBesideTheSpecAndPublicKeys) {
  job::TrainingJob j = MakeJob();
  const JobView v = View(j);
  const ResourceOptions options = TestResourceOptions();
  StatusOr<JobKeyFiles> keys = options.keys->Files(v.uid, 2, 3);
  ASSERT_TRUE(keys.ok());
  const nlohmann::json secret = BuildKeySecret(v, j, *keys);
  const std::string name = JobKeySecretName(v.name, v.uid, 2, 3);
  EXPECT_EQ(secret["kind"], "Secret");
  EXPECT_EQ(secret["metadata"]["name"], name);
  EXPECT_EQ(secret["metadata"]["ownerReferences"][0]["name"], "mnist");
  EXPECT_EQ(secret["stringData"].size(), 5u);
  EXPECT_EQ(secret["stringData"]["ps-1.key"], "secret of " + v.uid + "/ps-1");
  const nlohmann::json cm = BuildConfigMap(v, j, &*keys);
  EXPECT_EQ(cm["data"]["public-keys"], keys->public_keys);
  EXPECT_FALSE(cm.dump().find("secret of") != std::string::npos) << "no secret in the ConfigMap";

  const nlohmann::json pod = BuildPod(v, j, job::Role::kWorker, 1, options);
  EXPECT_EQ(pod["spec"]["volumes"][0], nlohmann::json::parse(R"({"name": "spec", "projected": {
      "defaultMode": 288, "sources": [
        {"configMap": {"name": "mnist-spec"}},
        {"secret": {"name": ")" + name + R"(",
                    "items": [{"key": "worker-1.key", "path": "worker-1.key"}]}}]}})"));
  EXPECT_EQ(pod["spec"]["securityContext"]["fsGroup"], kRuntimeGroup);
  std::map<std::string, std::string> env;
  for (const auto& e : pod["spec"]["containers"][0]["env"]) env[e["name"]] = e["value"];
  EXPECT_EQ(env["RINGTRAIN_PUBLIC_KEYS"], "/etc/ringtrain/public-keys");
  EXPECT_EQ(env["RINGTRAIN_SECRET_KEY"], "/etc/ringtrain/worker-1.key");
  // Still no Kubernetes credentials in the pod.
  EXPECT_EQ(pod["spec"]["automountServiceAccountToken"], false);

  // Plaintext: none of it.
  j.spec.security.authentication = job::Authentication::kNone;
  const nlohmann::json plain = BuildPod(v, j, job::Role::kWorker, 1, options);
  EXPECT_EQ(plain["spec"]["volumes"][0],
            nlohmann::json::parse(R"({"name": "spec", "configMap": {"name": "mnist-spec"}})"));
  EXPECT_EQ(plain.dump().find("RINGTRAIN_SECRET_KEY"), std::string::npos);
}

// The NetworkPolicy: the job's pods take connections only from the job's own pods (data port)
// and the operator's (data port for takeovers, status ports); without the operator's labels,
// from the job's pods alone.
TEST(ResourcesTest, TheNetworkPolicyAdmitsTheJobsPodsAndTheOperatorOnly) {
  job::TrainingJob j = MakeJob();
  ResourceOptions options = TestResourceOptions();
  options.operator_namespace = "ringtrain-system";
  options.operator_pod_labels = {{"app.kubernetes.io/name", "ringtrain"},
                                 {"app.kubernetes.io/component", "operator"}};
  const nlohmann::json p = BuildNetworkPolicy(View(j), options);
  EXPECT_EQ(p["metadata"]["name"], "mnist-network");
  EXPECT_EQ(p["metadata"]["ownerReferences"][0]["name"], "mnist");
  EXPECT_EQ(p["spec"], nlohmann::json::parse(R"({
      "podSelector": {"matchLabels": {"ringtrain.io/job-name": "mnist"}},
      "policyTypes": ["Ingress"],
      "ingress": [
        {"from": [{"podSelector": {"matchLabels": {"ringtrain.io/job-name": "mnist"}}}],
         "ports": [{"protocol": "TCP", "port": 7070}]},
        {"from": [{"namespaceSelector": {"matchLabels":
                       {"kubernetes.io/metadata.name": "ringtrain-system"}},
                   "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ringtrain",
                                                   "app.kubernetes.io/component": "operator"}}}],
         "ports": [{"protocol": "TCP", "port": 7070}, {"protocol": "TCP", "port": 7071},
                   {"protocol": "TCP", "port": 7072}]}]})"));
  options.operator_pod_labels.clear();
  EXPECT_EQ(BuildNetworkPolicy(View(j), options)["spec"]["ingress"].size(), 1u);
}

}  // namespace
}  // namespace ringtrain::op
