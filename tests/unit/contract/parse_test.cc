// ParseTrainingJob on valid input (every field of a full example, defaults of a minimal one,
// accepted edge cases) and the ToJson round trip.
#include "ringtrain/job/parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ringtrain/job/yaml.h"

namespace ringtrain::job {
namespace {

using nlohmann::json;

constexpr char kFullExample[] = R"(
apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata:
  name: fashion-mnist
  namespace: research
  labels: {team: vision, app.kubernetes.io/name: ringtrain}
  annotations: {example.com/owner: "Ada Lovelace"}
spec:
  image: ringtrain/runtime:0.1.0
  model: {type: mlp, hiddenLayers: [256, 128]}
  dataset:
    format: idx
    train: {images: file:///usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz,
            labels: /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz}
    test:  {images: https://example.com/t10k-images.gz, labels: s3://bucket/t10k-labels.gz}
    sharding: row
    shuffle: false
  training:
    epochs: 10
    batchSize: 64
    syncMode: ssp
    staleness: 5
    stalenessAwareLR: true
    seed: 7
    optimizer: {type: momentum, learningRate: 0.05, momentum: 0.8, weightDecay: 0.0001}
    schedule: {type: cosine, warmupSteps: 200, minLearningRate: 0.001}
    compression: {type: topk, ratio: 0.05, errorFeedback: false, warmupSteps: 1000}
  parameterServers:
    replicas: 2
    partitionSize: 131072
    resources: {requests: {cpu: "1", memory: 1Gi}, limits: {cpu: 2, memory: 2Gi}}
  workers:
    replicas: 3
    image: ringtrain/runtime:debug
    resources: {requests: {cpu: 500m, nvidia.com/gpu: 1}}
  runPolicy:
    restartPolicy: ExitCode
    backoffLimit: 5
    activeDeadlineSeconds: 3600
    ttlSecondsAfterFinished: 0
    cleanPodPolicy: All
    suspend: true
)";

constexpr char kMinimal[] = R"(
apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata: {name: tiny}
spec:
  model: {type: softmax}
  dataset: {train: {images: train-images.gz, labels: train-labels.gz}}
)";

json Yaml(const char* text) {
  StatusOr<json> doc = YamlToJson(text);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return doc.ok() ? *doc : json();
}

TrainingJob MustParse(const json& doc) {
  StatusOr<TrainingJob> job = ParseTrainingJob(doc);
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  return job.ok() ? *job : TrainingJob();
}

TEST(ParseTrainingJobTest, FullExampleSetsEveryField) {
  TrainingJob job = MustParse(Yaml(kFullExample));
  EXPECT_EQ(job.api_version, "ringtrain.io/v1alpha1");
  EXPECT_EQ(job.kind, "TrainingJob");
  EXPECT_EQ(job.metadata.name, "fashion-mnist");
  EXPECT_EQ(job.metadata.namespace_, "research");
  EXPECT_EQ(job.metadata.labels, (std::map<std::string, std::string>{
                                     {"team", "vision"}, {"app.kubernetes.io/name", "ringtrain"}}));
  EXPECT_EQ(job.metadata.annotations.at("example.com/owner"), "Ada Lovelace");

  const TrainingJobSpec& s = job.spec;
  EXPECT_EQ(s.image, "ringtrain/runtime:0.1.0");
  EXPECT_EQ(s.model.type, ModelType::kMlp);
  EXPECT_EQ(s.model.hidden_layers, (std::vector<int>{256, 128}));

  EXPECT_EQ(s.dataset.format, DataFormat::kIdx);
  EXPECT_EQ(s.dataset.train.images,
            "file:///usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
  EXPECT_EQ(s.dataset.train.labels, "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
  ASSERT_TRUE(s.dataset.test.has_value());
  EXPECT_EQ(s.dataset.test->images, "https://example.com/t10k-images.gz");
  EXPECT_EQ(s.dataset.test->labels, "s3://bucket/t10k-labels.gz");
  EXPECT_EQ(s.dataset.sharding, Sharding::kRow);
  EXPECT_FALSE(s.dataset.shuffle);

  const TrainingSpec& t = s.training;
  EXPECT_EQ(t.epochs, 10);
  EXPECT_EQ(t.batch_size, 64);
  EXPECT_EQ(t.sync_mode, SyncMode::kSsp);
  EXPECT_EQ(t.staleness, 5);
  EXPECT_TRUE(t.staleness_aware_lr);
  EXPECT_EQ(t.seed, 7u);
  EXPECT_EQ(t.optimizer.type, OptimizerType::kMomentum);
  EXPECT_DOUBLE_EQ(t.optimizer.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(t.optimizer.momentum, 0.8);
  EXPECT_DOUBLE_EQ(t.optimizer.weight_decay, 0.0001);
  EXPECT_EQ(t.schedule.type, ScheduleType::kCosine);
  EXPECT_EQ(t.schedule.warmup_steps, 200);
  EXPECT_DOUBLE_EQ(t.schedule.min_learning_rate, 0.001);
  EXPECT_EQ(t.compression.type, CompressionType::kTopK);
  EXPECT_DOUBLE_EQ(t.compression.ratio, 0.05);
  EXPECT_EQ(t.compression.block, 0);
  EXPECT_FALSE(t.compression.error_feedback);
  EXPECT_EQ(t.compression.warmup_steps, 1000);

  EXPECT_EQ(s.parameter_servers.replicas, 2);
  EXPECT_EQ(s.parameter_servers.partition_size, 131072);
  EXPECT_EQ(s.parameter_servers.resources.requests,
            (std::map<std::string, std::string>{{"cpu", "1"}, {"memory", "1Gi"}}));
  // A YAML number is stored as its quantity text.
  EXPECT_EQ(s.parameter_servers.resources.limits,
            (std::map<std::string, std::string>{{"cpu", "2"}, {"memory", "2Gi"}}));
  EXPECT_TRUE(s.parameter_servers.image.empty());
  EXPECT_EQ(s.workers.replicas, 3);
  EXPECT_EQ(s.workers.image, "ringtrain/runtime:debug");
  EXPECT_EQ(s.workers.resources.requests,
            (std::map<std::string, std::string>{{"cpu", "500m"}, {"nvidia.com/gpu", "1"}}));
  EXPECT_TRUE(s.workers.resources.limits.empty());

  EXPECT_EQ(s.run_policy.restart_policy, RestartPolicy::kExitCode);
  EXPECT_EQ(s.run_policy.backoff_limit, 5);
  EXPECT_EQ(s.run_policy.active_deadline_seconds, std::optional<int64_t>(3600));
  EXPECT_EQ(s.run_policy.ttl_seconds_after_finished, std::optional<int64_t>(0));
  EXPECT_EQ(s.run_policy.clean_pod_policy, CleanPodPolicy::kAll);
  EXPECT_TRUE(s.run_policy.suspend);
}

TEST(ParseTrainingJobTest, MinimalSpecGetsDefaults) {
  TrainingJob job = MustParse(Yaml(kMinimal));
  EXPECT_EQ(job.metadata.name, "tiny");
  EXPECT_EQ(job.metadata.namespace_, "default");
  EXPECT_TRUE(job.metadata.labels.empty());
  const TrainingJobSpec& s = job.spec;
  EXPECT_EQ(s.image, "");
  EXPECT_EQ(s.model.type, ModelType::kSoftmax);
  EXPECT_TRUE(s.model.hidden_layers.empty());
  EXPECT_EQ(s.dataset.format, DataFormat::kIdx);
  EXPECT_FALSE(s.dataset.test.has_value());
  EXPECT_EQ(s.dataset.sharding, Sharding::kRow);
  EXPECT_TRUE(s.dataset.shuffle);
  EXPECT_EQ(s.training.epochs, 1);
  EXPECT_EQ(s.training.batch_size, 32);
  EXPECT_EQ(s.training.sync_mode, SyncMode::kSync);
  EXPECT_EQ(s.training.staleness, 0);
  EXPECT_FALSE(s.training.staleness_aware_lr);
  EXPECT_EQ(s.training.worker_timeout_seconds, 60);
  EXPECT_EQ(s.training.seed, 42u);
  EXPECT_EQ(s.training.optimizer.type, OptimizerType::kSgd);
  EXPECT_DOUBLE_EQ(s.training.optimizer.learning_rate, 0.01);
  EXPECT_DOUBLE_EQ(s.training.optimizer.momentum, 0.0);
  EXPECT_DOUBLE_EQ(s.training.optimizer.weight_decay, 0.0);
  EXPECT_EQ(s.training.schedule.type, ScheduleType::kConstant);
  EXPECT_EQ(s.training.schedule.warmup_steps, 0);
  EXPECT_EQ(s.training.compression.type, CompressionType::kNone);
  EXPECT_DOUBLE_EQ(s.training.compression.ratio, 0.0);
  EXPECT_EQ(s.training.compression.block, 0);
  EXPECT_FALSE(s.training.compression.error_feedback);
  EXPECT_EQ(s.training.compression.warmup_steps, 0);
  EXPECT_EQ(s.parameter_servers.replicas, 1);
  EXPECT_EQ(s.parameter_servers.partition_size, 65536);
  EXPECT_EQ(s.workers.replicas, 1);
  EXPECT_TRUE(s.workers.resources.requests.empty());
  EXPECT_EQ(s.run_policy.restart_policy, RestartPolicy::kOnFailure);
  EXPECT_EQ(s.run_policy.backoff_limit, 3);
  EXPECT_FALSE(s.run_policy.active_deadline_seconds.has_value());
  EXPECT_FALSE(s.run_policy.ttl_seconds_after_finished.has_value());
  EXPECT_EQ(s.run_policy.clean_pod_policy, CleanPodPolicy::kRunning);
  EXPECT_FALSE(s.run_policy.suspend);
}

TEST(ParseTrainingJobTest, MomentumDefaultsToPointNineAndStepScheduleToGammaPointOne) {
  json doc = Yaml(kMinimal);
  doc["spec"]["training"] = {{"optimizer", {{"type", "momentum"}}},
                             {"schedule", {{"type", "step"}, {"stepSize", 1000}}}};
  TrainingJob job = MustParse(doc);
  EXPECT_DOUBLE_EQ(job.spec.training.optimizer.momentum, 0.9);
  EXPECT_EQ(job.spec.training.schedule.step_size, 1000);
  EXPECT_DOUBLE_EQ(job.spec.training.schedule.gamma, 0.1);
}

TEST(ParseTrainingJobTest, NewOptimizerTypesGetTheirPyTorchDefaults) {
  const struct {
    const char* type;
    OptimizerType want;
    double momentum, beta1, beta2, epsilon;
  } cases[] = {{"sgd", OptimizerType::kSgd, 0.0, 0.0, 0.0, 0.0},
               {"momentum", OptimizerType::kMomentum, 0.9, 0.0, 0.0, 0.0},
               {"nesterov", OptimizerType::kNesterov, 0.9, 0.0, 0.0, 0.0},
               {"adagrad", OptimizerType::kAdagrad, 0.0, 0.0, 0.0, 1e-10},
               {"adam", OptimizerType::kAdam, 0.0, 0.9, 0.999, 1e-8}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    json doc = Yaml(kMinimal);
    doc["spec"]["training"]["optimizer"] = {{"type", c.type}};
    const OptimizerSpec o = MustParse(doc).spec.training.optimizer;
    EXPECT_EQ(o.type, c.want);
    EXPECT_STREQ(Name(o.type), c.type);
    EXPECT_DOUBLE_EQ(o.learning_rate, 0.01);
    EXPECT_DOUBLE_EQ(o.weight_decay, 0.0);
    EXPECT_DOUBLE_EQ(o.momentum, c.momentum);
    EXPECT_DOUBLE_EQ(o.beta1, c.beta1);
    EXPECT_DOUBLE_EQ(o.beta2, c.beta2);
    EXPECT_DOUBLE_EQ(o.epsilon, c.epsilon);
    EXPECT_FALSE(o.scale_learning_rate.has_value());
  }
}

TEST(ParseTrainingJobTest, ReadsEveryOptimizerField) {
  json doc = Yaml(kMinimal);
  doc["spec"]["training"]["optimizer"] = json::parse(R"({
      "type": "adam", "learningRate": 0.001, "weightDecay": 0.01, "beta1": 0, "beta2": 0.98,
      "epsilon": 1, "scaleLearningRate": {"referenceBatchSize": 256}})");
  OptimizerSpec o = MustParse(doc).spec.training.optimizer;
  EXPECT_EQ(o.type, OptimizerType::kAdam);
  EXPECT_DOUBLE_EQ(o.learning_rate, 0.001);
  EXPECT_DOUBLE_EQ(o.weight_decay, 0.01);
  EXPECT_DOUBLE_EQ(o.beta1, 0.0);
  EXPECT_DOUBLE_EQ(o.beta2, 0.98);
  EXPECT_DOUBLE_EQ(o.epsilon, 1.0);
  ASSERT_TRUE(o.scale_learning_rate.has_value());
  EXPECT_EQ(o.scale_learning_rate->reference_batch_size, 256);

  doc["spec"]["training"]["optimizer"] = json::parse(R"({
      "type": "nesterov", "momentum": 0.99, "weightDecay": 0.0005,
      "scaleLearningRate": {"referenceBatchSize": 1}})");
  o = MustParse(doc).spec.training.optimizer;
  EXPECT_EQ(o.type, OptimizerType::kNesterov);
  EXPECT_DOUBLE_EQ(o.momentum, 0.99);
  EXPECT_DOUBLE_EQ(o.weight_decay, 0.0005);
  EXPECT_EQ(o.scale_learning_rate->reference_batch_size, 1);

  doc["spec"]["training"]["optimizer"] = json::parse(R"({
      "type": "adagrad", "learningRate": 0.5, "epsilon": 1e-6,
      "scaleLearningRate": {"referenceBatchSize": 1048576}})");
  o = MustParse(doc).spec.training.optimizer;
  EXPECT_EQ(o.type, OptimizerType::kAdagrad);
  EXPECT_DOUBLE_EQ(o.epsilon, 1e-6);
  EXPECT_EQ(o.scale_learning_rate->reference_batch_size, 1048576);
}

TEST(ParseTrainingJobTest, SyncModesGetTheirDefaults) {
  const struct {
    const char* mode;
    SyncMode want;
    int staleness;
    int worker_timeout;
  } cases[] = {{"sync", SyncMode::kSync, 0, 60},
               {"async", SyncMode::kAsync, 0, 60},  // ignored outside sync
               {"ssp", SyncMode::kSsp, 3, 60}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mode);
    json doc = Yaml(kMinimal);
    doc["spec"]["training"]["syncMode"] = c.mode;
    const TrainingSpec t = MustParse(doc).spec.training;
    EXPECT_EQ(t.sync_mode, c.want);
    EXPECT_STREQ(Name(t.sync_mode), c.mode);
    EXPECT_EQ(t.staleness, c.staleness);
    EXPECT_EQ(t.worker_timeout_seconds, c.worker_timeout);
    EXPECT_FALSE(t.staleness_aware_lr);
  }
  json doc = Yaml(kMinimal);
  doc["spec"]["training"]["workerTimeoutSeconds"] = 0;
  EXPECT_EQ(MustParse(doc).spec.training.worker_timeout_seconds, 0) << "0 is written down";
  doc["spec"]["training"]["workerTimeoutSeconds"] = 86400;
  EXPECT_EQ(MustParse(doc).spec.training.worker_timeout_seconds, 86400);
  // Streamed rounds' chunks: 64 KiB unless set; 0 turns them off.
  EXPECT_EQ(MustParse(Yaml(kMinimal)).spec.training.push_chunk_kib, 64);
  doc["spec"]["training"]["pushChunkKiB"] = 0;
  EXPECT_EQ(MustParse(doc).spec.training.push_chunk_kib, 0);
}

TEST(ParseTrainingJobTest, ReadsEverySyncModeField) {
  json doc = Yaml(kMinimal);
  doc["spec"]["training"] = {{"syncMode", "ssp"}, {"staleness", 0}, {"stalenessAwareLR", true}};
  TrainingSpec t = MustParse(doc).spec.training;
  EXPECT_EQ(t.staleness, 0);  // ssp with staleness 0 is written down, not defaulted
  EXPECT_TRUE(t.staleness_aware_lr);

  doc["spec"]["training"] = {{"syncMode", "ssp"}, {"staleness", 1000000.0}};
  t = MustParse(doc).spec.training;
  EXPECT_EQ(t.staleness, 1000000);
  EXPECT_FALSE(t.staleness_aware_lr);

  doc["spec"]["training"] = {{"syncMode", "ssp"}, {"staleness", nullptr}};
  EXPECT_EQ(MustParse(doc).spec.training.staleness, 3);  // null counts as absent

  doc["spec"]["training"] = {{"syncMode", "async"}, {"stalenessAwareLR", true}};
  t = MustParse(doc).spec.training;
  EXPECT_EQ(t.sync_mode, SyncMode::kAsync);
  EXPECT_EQ(t.staleness, 0);
  EXPECT_TRUE(t.staleness_aware_lr);
}

TEST(ParseTrainingJobTest, CompressionTypesGetTheirDefaults) {
  const struct {
    const char* type;
    CompressionType want;
    double ratio;
    int block;
    bool error_feedback;
  } cases[] = {{"none", CompressionType::kNone, 0.0, 0, false},
               {"fp16", CompressionType::kFp16, 0.0, 0, false},
               {"int8", CompressionType::kInt8, 0.0, 256, false},
               {"onebit", CompressionType::kOneBit, 0.0, 256, true},
               {"topk", CompressionType::kTopK, 0.01, 0, true}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    json doc = Yaml(kMinimal);
    doc["spec"]["training"]["compression"] = {{"type", c.type}};
    const CompressionSpec comp = MustParse(doc).spec.training.compression;
    EXPECT_EQ(comp.type, c.want);
    EXPECT_STREQ(Name(comp.type), c.type);
    EXPECT_DOUBLE_EQ(comp.ratio, c.ratio);
    EXPECT_EQ(comp.block, c.block);
    EXPECT_EQ(comp.error_feedback, c.error_feedback);
    EXPECT_EQ(comp.warmup_steps, 0);
  }
}

TEST(ParseTrainingJobTest, ReadsEveryCompressionField) {
  json doc = Yaml(kMinimal);
  doc["spec"]["training"]["compression"] = json::parse(
      R"({"type": "topk", "ratio": 1, "errorFeedback": false, "warmupSteps": 100000000})");
  CompressionSpec c = MustParse(doc).spec.training.compression;
  EXPECT_EQ(c.type, CompressionType::kTopK);
  EXPECT_DOUBLE_EQ(c.ratio, 1.0);
  EXPECT_FALSE(c.error_feedback);
  EXPECT_EQ(c.warmup_steps, 100000000);
  EXPECT_EQ(c.block, 0);

  doc["spec"]["training"]["compression"] =
      json::parse(R"({"type": "topk", "ratio": 1e-6, "warmupSteps": 0})");
  c = MustParse(doc).spec.training.compression;
  EXPECT_DOUBLE_EQ(c.ratio, 1e-6);
  EXPECT_TRUE(c.error_feedback);
  EXPECT_EQ(c.warmup_steps, 0);

  doc["spec"]["training"]["compression"] =
      json::parse(R"({"type": "int8", "block": 1, "errorFeedback": true})");
  c = MustParse(doc).spec.training.compression;
  EXPECT_EQ(c.type, CompressionType::kInt8);
  EXPECT_EQ(c.block, 1);
  EXPECT_TRUE(c.error_feedback);
  EXPECT_DOUBLE_EQ(c.ratio, 0.0);

  doc["spec"]["training"]["compression"] =
      json::parse(R"({"type": "onebit", "block": 1048576, "errorFeedback": false})");
  c = MustParse(doc).spec.training.compression;
  EXPECT_EQ(c.type, CompressionType::kOneBit);
  EXPECT_EQ(c.block, 1048576);
  EXPECT_FALSE(c.error_feedback);

  doc["spec"]["training"]["compression"] =
      json::parse(R"({"type": "fp16", "errorFeedback": true})");
  c = MustParse(doc).spec.training.compression;
  EXPECT_EQ(c.type, CompressionType::kFp16);
  EXPECT_TRUE(c.error_feedback);
  EXPECT_EQ(c.block, 0);

  doc["spec"]["training"]["compression"] = json::parse(R"({"type": "int8", "block": null})");
  EXPECT_EQ(MustParse(doc).spec.training.compression.block, 256);  // null counts as absent
}

TEST(ParseTrainingJobTest, AcceptsWholeFloatsAsIntegersAndNullAsAbsent) {
  json doc = Yaml(kMinimal);
  doc["spec"]["training"] = {{"epochs", 3.0}, {"batchSize", nullptr}, {"seed", 1e19}};
  doc["spec"]["dataset"]["test"] = nullptr;
  TrainingJob job = MustParse(doc);
  EXPECT_EQ(job.spec.training.epochs, 3);
  EXPECT_EQ(job.spec.training.batch_size, 32);
  EXPECT_EQ(job.spec.training.seed, 10000000000000000000u);
  EXPECT_FALSE(job.spec.dataset.test.has_value());
}

TEST(ParseTrainingJobTest, AcceptsLargestSeed) {
  json doc = Yaml(kMinimal);
  doc["spec"]["training"]["seed"] = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(MustParse(doc).spec.training.seed, std::numeric_limits<uint64_t>::max());
}

TEST(ParseTrainingJobTest, QuantitiesFromNumbersAndStrings) {
  json doc = Yaml(kMinimal);
  doc["spec"]["workers"]["resources"]["requests"] = {
      {"cpu", 0.5}, {"memory", 2e3}, {"ephemeral-storage", "1.5e9"}};
  doc["spec"]["workers"]["resources"]["limits"] = {
      {"cpu", "500m"}, {"memory", "64M"}, {"ephemeral-storage", "2G"}};
  TrainingJob job = MustParse(doc);
  EXPECT_EQ(job.spec.workers.resources.requests,
            (std::map<std::string, std::string>{
                {"cpu", "0.5"}, {"memory", "2000"}, {"ephemeral-storage", "1.5e9"}}));
}

// Regression: "1Ei" (exbi) was read as a decimal exponent with no digits and rejected, while
// Kubernetes accepts it; found by comparing the CRD's verdicts with the parser's.
TEST(ParseTrainingJobTest, ExaSuffixesAreNotExponents) {
  for (const char* q : {"1Ei", "2E", "1e3", "1E+2", "5e-1"}) {
    SCOPED_TRACE(q);
    json doc = Yaml(kMinimal);
    doc["spec"]["workers"]["resources"]["requests"]["memory"] = q;
    EXPECT_TRUE(ParseTrainingJob(doc).ok()) << ParseTrainingJob(doc).status().ToString();
  }
  json doc = Yaml(kMinimal);
  doc["spec"]["workers"]["resources"]["requests"]["memory"] = "1Ex";
  EXPECT_FALSE(ParseTrainingJob(doc).ok());
}

TEST(ParseTrainingJobTest, IgnoresFieldsTheApiServerAdds) {
  json doc = Yaml(kMinimal);
  doc["metadata"]["uid"] = "7c4e0c5a-0000-4000-8000-000000000000";
  doc["metadata"]["resourceVersion"] = "12345";
  doc["metadata"]["generation"] = 2;
  doc["metadata"]["creationTimestamp"] = "2024-01-01T00:00:00Z";
  doc["metadata"]["managedFields"] = json::array();
  doc["status"] = {{"conditions", json::array()}};
  TrainingJob job = MustParse(doc);
  EXPECT_EQ(job, MustParse(Yaml(kMinimal)));
}

constexpr char kVolumesExample[] = R"(
apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata: {name: with-volumes}
spec:
  model: {type: softmax}
  dataset:
    train: {images: /data/train-images.gz, labels: /data/train-labels.gz}
  volumes:
    - {name: data, persistentVolumeClaim: {claimName: fashion-mnist, readOnly: true}}
    - {name: node, hostPath: {path: /srv/datasets, type: Directory}}
    - {name: scratch, emptyDir: {medium: Memory, sizeLimit: 1Gi}}
    - {name: share, nfs: {server: nfs.example.com, path: /exports/data, readOnly: true}}
    - {name: settings, configMap: {name: job-settings, optional: true}}
    - {name: token, secret: {secretName: s3-credentials}}
    - {name: unmounted, emptyDir: {}}
    - {name: long-part, configMap: {name: a-part-of-a-name-that-is-longer-than-a-dns-label-of-63-characters.example}}
  workers:
    replicas: 2
    volumeMounts:
      - {name: data, mountPath: /data, readOnly: true}
      - {name: share, mountPath: /share, subPath: fashion/v1}
      - {name: scratch, mountPath: /tmp/scratch}
  parameterServers:
    volumeMounts:
      - {name: scratch, mountPath: /scratch}
)";

TEST(ParseTrainingJobTest, ReadsEveryVolumeSourceAndMount) {
  const TrainingJob job = MustParse(Yaml(kVolumesExample));
  const std::vector<VolumeSpec>& v = job.spec.volumes;
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(v[0].name, "data");
  EXPECT_EQ(v[0].kind, VolumeSourceKind::kPersistentVolumeClaim);
  EXPECT_EQ(v[0].source_name, "fashion-mnist");
  EXPECT_TRUE(v[0].read_only);
  EXPECT_EQ(v[1].kind, VolumeSourceKind::kHostPath);
  EXPECT_EQ(v[1].source_name, "/srv/datasets");
  EXPECT_EQ(v[1].host_path_type, "Directory");
  EXPECT_EQ(v[2].kind, VolumeSourceKind::kEmptyDir);
  EXPECT_EQ(v[2].medium, "Memory");
  EXPECT_EQ(v[2].size_limit, "1Gi");
  EXPECT_EQ(v[3].kind, VolumeSourceKind::kNfs);
  EXPECT_EQ(v[3].server, "nfs.example.com");
  EXPECT_EQ(v[3].source_name, "/exports/data");
  EXPECT_TRUE(v[3].read_only);
  EXPECT_EQ(v[4].kind, VolumeSourceKind::kConfigMap);
  EXPECT_EQ(v[4].source_name, "job-settings");
  EXPECT_TRUE(v[4].optional);
  EXPECT_EQ(v[5].kind, VolumeSourceKind::kSecret);
  EXPECT_EQ(v[5].source_name, "s3-credentials");
  EXPECT_FALSE(v[5].optional);
  EXPECT_EQ(v[6].kind, VolumeSourceKind::kEmptyDir);
  EXPECT_TRUE(v[6].medium.empty());
  // Object names are DNS subdomains as Kubernetes checks them: no limit on a part's length.
  EXPECT_EQ(v[7].source_name,
            "a-part-of-a-name-that-is-longer-than-a-dns-label-of-63-characters.example");

  const std::vector<VolumeMountSpec>& w = job.spec.workers.volume_mounts;
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].name, "data");
  EXPECT_EQ(w[0].mount_path, "/data");
  EXPECT_TRUE(w[0].read_only);
  EXPECT_EQ(w[1].sub_path, "fashion/v1");
  EXPECT_FALSE(w[1].read_only);
  ASSERT_EQ(job.spec.parameter_servers.volume_mounts.size(), 1u);
  EXPECT_EQ(job.spec.parameter_servers.volume_mounts[0].mount_path, "/scratch");
}

TEST(ToJsonTest, VolumesRoundTripInTheKubernetesShape) {
  const TrainingJob job = MustParse(Yaml(kVolumesExample));
  const json written = ToJson(job);
  EXPECT_EQ(written["spec"]["volumes"][0], json::parse(R"({"name": "data",
                            "persistentVolumeClaim": {"claimName": "fashion-mnist", "readOnly": true}})"));
  EXPECT_EQ(
      written["spec"]["volumes"][2],
      json::parse(R"({"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}})"));
  EXPECT_EQ(written["spec"]["volumes"][6], json::parse(R"({"name": "unmounted", "emptyDir": {}})"));
  EXPECT_EQ(written["spec"]["workers"]["volumeMounts"][1],
            json::parse(R"({"name": "share", "mountPath": "/share", "subPath": "fashion/v1"})"));
  EXPECT_EQ(MustParse(written), job);
  // Jobs without volumes write neither field (their spec hash stays what it was).
  const json minimal = ToJson(MustParse(Yaml(R"(
apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata: {name: plain}
spec:
  model: {type: softmax}
  dataset: {train: {images: /d/i.gz, labels: /d/l.gz}}
)")));
  EXPECT_FALSE(minimal["spec"].contains("volumes"));
  EXPECT_FALSE(minimal["spec"]["workers"].contains("volumeMounts"));
}

TEST(ToJsonTest, FullExampleRoundTrips) {
  TrainingJob job = MustParse(Yaml(kFullExample));
  json written = ToJson(job);
  EXPECT_EQ(written["spec"]["training"]["batchSize"], 64);
  EXPECT_EQ(written["spec"]["parameterServers"]["partitionSize"], 131072);
  EXPECT_EQ(written["spec"]["runPolicy"]["restartPolicy"], "ExitCode");
  EXPECT_EQ(written["spec"]["training"]["staleness"], 5);
  EXPECT_EQ(written["spec"]["training"]["compression"]["warmupSteps"], 1000);
  EXPECT_EQ(MustParse(written), job);
}

TEST(ToJsonTest, MinimalRoundTripsAndWritesDefaults) {
  TrainingJob job = MustParse(Yaml(kMinimal));
  json written = ToJson(job);
  EXPECT_EQ(written["metadata"]["namespace"], "default");
  EXPECT_EQ(written["spec"]["training"]["seed"], 42);
  EXPECT_EQ(written["spec"]["workers"]["replicas"], 1);
  // Fields that do not apply to the chosen variants are left out.
  EXPECT_FALSE(written["spec"]["model"].contains("hiddenLayers"));
  EXPECT_FALSE(written["spec"]["training"]["optimizer"].contains("momentum"));
  EXPECT_FALSE(written["spec"]["training"]["schedule"].contains("stepSize"));
  EXPECT_FALSE(written["spec"]["training"].contains("staleness"));
  EXPECT_FALSE(written["spec"]["training"].contains("stalenessAwareLR"));
  EXPECT_EQ(written["spec"]["training"]["compression"], json({{"type", "none"}}));
  EXPECT_FALSE(written["spec"].contains("image"));
  EXPECT_EQ(MustParse(written), job);
}

// A text-format job with every dataset field left to its default goes through the ConfigMap
// (ToJson, then the pods' parse) unchanged: a default the writer spells out must parse.
TEST(ToJsonTest, ATextJobWithDefaultsRoundTrips) {
  TrainingJob job = MustParse(Yaml(R"(apiVersion: ringtrain.io/v1alpha1
kind: TrainingJob
metadata: {name: text}
spec:
  model: {type: softmax}
  dataset:
    format: libsvm
    features: 64
    classes: 10
    sharding: dynamic
    train: {uri: 's3://bucket/train/'}
)"));
  json written = ToJson(job);
  EXPECT_EQ(MustParse(written), job) << written.dump();
}

// The keys of a JSON object, in order (nlohmann::json objects iterate in key order).
std::vector<std::string> Keys(const json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

TEST(ToJsonTest, EverySyncModeRoundTripsWithOnlyItsFields) {
  const struct {
    const char* mode;
    std::vector<std::string> fields;  // besides the fields of every mode
  } cases[] = {{"sync", {"workerTimeoutSeconds", "pushChunkKiB"}},
               {"async", {"stalenessAwareLR"}},
               {"ssp", {"staleness", "stalenessAwareLR"}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mode);
    json doc = Yaml(kMinimal);
    doc["spec"]["training"] = {{"syncMode", c.mode}};
    if (std::string(c.mode) != "sync") doc["spec"]["training"]["stalenessAwareLR"] = true;
    if (std::string(c.mode) == "ssp") doc["spec"]["training"]["staleness"] = 17;
    TrainingJob job = MustParse(doc);
    json written = ToJson(job)["spec"]["training"];
    std::vector<std::string> want = {"batchSize", "compression", "epochs",  "optimizer",
                                     "schedule",  "seed",        "syncMode"};
    want.insert(want.end(), c.fields.begin(), c.fields.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(Keys(written), want);
    EXPECT_EQ(MustParse(ToJson(job)), job);
  }
}

TEST(ToJsonTest, EveryCompressionTypeRoundTripsWithOnlyItsFields) {
  const struct {
    const char* type;
    std::vector<std::string> fields;  // besides type
  } cases[] = {{"none", {}},
               {"fp16", {"errorFeedback"}},
               {"int8", {"block", "errorFeedback"}},
               {"onebit", {"block", "errorFeedback"}},
               {"topk", {"errorFeedback", "ratio", "warmupSteps"}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    json doc = Yaml(kMinimal);
    doc["spec"]["training"]["compression"] = {{"type", c.type}};
    TrainingJob job = MustParse(doc);
    json written = ToJson(job)["spec"]["training"]["compression"];
    std::vector<std::string> want = {"type"};
    want.insert(want.end(), c.fields.begin(), c.fields.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(Keys(written), want);
    EXPECT_EQ(MustParse(ToJson(job)), job);
  }
  // Written values, not only defaults, survive the round trip.
  json doc = Yaml(kMinimal);
  doc["spec"]["training"]["compression"] = {
      {"type", "topk"}, {"ratio", 0.125}, {"errorFeedback", false}, {"warmupSteps", 5000}};
  TrainingJob job = MustParse(doc);
  EXPECT_EQ(ToJson(job)["spec"]["training"]["compression"], doc["spec"]["training"]["compression"]);
  EXPECT_EQ(MustParse(ToJson(job)), job);
  doc["spec"]["training"]["compression"] = {
      {"type", "onebit"}, {"block", 4096}, {"errorFeedback", false}};
  job = MustParse(doc);
  EXPECT_EQ(ToJson(job)["spec"]["training"]["compression"], doc["spec"]["training"]["compression"]);
  EXPECT_EQ(MustParse(ToJson(job)), job);
}

TEST(ToJsonTest, EveryOptimizerTypeRoundTripsWithOnlyItsFields) {
  const struct {
    const char* type;
    std::vector<std::string> fields;  // besides type, learningRate, weightDecay
  } cases[] = {{"sgd", {}},
               {"momentum", {"momentum"}},
               {"nesterov", {"momentum"}},
               {"adagrad", {"epsilon"}},
               {"adam", {"beta1", "beta2", "epsilon"}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    json doc = Yaml(kMinimal);
    doc["spec"]["training"]["optimizer"] = {{"type", c.type},
                                            {"scaleLearningRate", {{"referenceBatchSize", 128}}}};
    TrainingJob job = MustParse(doc);
    json written = ToJson(job)["spec"]["training"]["optimizer"];
    std::vector<std::string> keys = Keys(written);
    std::vector<std::string> want = {"learningRate", "scaleLearningRate", "type", "weightDecay"};
    want.insert(want.end(), c.fields.begin(), c.fields.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(keys, want);  // nlohmann::json objects iterate in key order
    EXPECT_EQ(written["scaleLearningRate"], json({{"referenceBatchSize", 128}}));
    EXPECT_EQ(MustParse(ToJson(job)), job);
  }
}

TEST(ToJsonTest, StepScheduleAndExtremeValuesRoundTrip) {
  json doc = Yaml(kMinimal);
  doc["spec"]["training"] = {
      {"seed", std::numeric_limits<uint64_t>::max()},
      {"optimizer", {{"type", "momentum"}, {"learningRate", 0.1}, {"momentum", 0.0}}},
      {"schedule", {{"type", "step"}, {"stepSize", 9007199254740993}, {"gamma", 1.0}}}};
  doc["spec"]["runPolicy"] = {{"activeDeadlineSeconds", 1}, {"cleanPodPolicy", "None"}};
  TrainingJob job = MustParse(doc);
  EXPECT_EQ(job.spec.training.schedule.step_size, 9007199254740993);
  EXPECT_EQ(MustParse(ToJson(job)), job);
}

}  // namespace
}  // namespace ringtrain::job
