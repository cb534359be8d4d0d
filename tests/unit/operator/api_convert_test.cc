#include "ringtrain/operator/api_convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ringtrain/operator/planner.h"
#include "ringtrain/operator/resources.h"

namespace ringtrain::op {
namespace {

using ::testing::HasSubstr;

nlohmann::json JobObject() {
  return nlohmann::json::parse(R"({
    "apiVersion": "ringtrain.io/v1alpha1", "kind": "TrainingJob",
    "metadata": {"name": "mnist", "namespace": "team", "uid": "u-1", "generation": 4,
                 "resourceVersion": "123", "creationTimestamp": "2026-11-25T01:02:03Z",
                 "managedFields": [{"manager": "kubectl"}]},
    "spec": {"model": {"type": "softmax"},
             "dataset": {"train": {"images": "/d/i.gz", "labels": "/d/l.gz"}},
             "workers": {"replicas": 3}},
    "status": {"phase": "Running", "restartCount": 2,
               "conditions": [{"type": "Running", "status": "True", "reason": "AllPodsRunning",
                               "message": "m", "lastTransitionTime": "2026-11-25T01:05:00Z",
                               "observedGeneration": 4}],
               "replicaStatuses": {"workers": {"active": 3, "ready": 2, "restarts": 1}},
               "startTime": "2026-11-25T01:02:04Z",
               "progress": {"step": 120, "loss": 0.5, "accuracy": 0.8}}
  })");
}

TEST(ApiConvertTest, TimeRoundTrips) {
  auto t = ParseTime("2026-11-25T03:04:05Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatTime(*t), "2026-11-25T03:04:05Z");
  auto frac = ParseTime("2026-11-25T03:04:05.123456Z");
  ASSERT_TRUE(frac.ok());
  EXPECT_EQ(FormatTime(*frac), "2026-11-25T03:04:05Z");
  EXPECT_FALSE(ParseTime("yesterday").ok());
  // Found by fuzzing: years system_clock cannot hold overflowed (undefined behaviour).
  EXPECT_FALSE(ParseTime("1293-11-25T01:02:04Z").ok());
  EXPECT_FALSE(ParseTime("-999-11-25T01:02:04Z").ok());
  EXPECT_FALSE(ParseTime("9999-12-31T23:59:59Z").ok());
  EXPECT_FALSE(ParseTime("2026-13-25T01:02:04Z").ok());
  EXPECT_TRUE(ParseTime("2261-12-31T23:59:59Z").ok());
}

TEST(ApiConvertTest, JobViewFromApiObject) {
  JobView v = JobViewFromObject(JobObject());
  EXPECT_EQ(v.name, "mnist");
  EXPECT_EQ(v.ns, "team");
  EXPECT_EQ(v.uid, "u-1");
  EXPECT_EQ(v.generation, 4);
  EXPECT_FALSE(v.deleting);
  ASSERT_TRUE(v.job.has_value()) << v.spec_error;
  EXPECT_EQ(v.job->spec.workers.replicas, 3);
  EXPECT_EQ(v.spec_hash, SpecHash(*v.job));
  EXPECT_EQ(v.status.phase, "Running");
  EXPECT_EQ(v.status.restart_count, 2);
  EXPECT_TRUE(v.status.IsTrue(kRunning));
  EXPECT_EQ(v.status.workers.ready, 2);
  EXPECT_EQ(v.status.workers.restarts, 1);
  ASSERT_TRUE(v.status.progress.has_value());
  EXPECT_EQ(v.status.progress->step, 120);
  EXPECT_EQ(FormatTime(*v.status.start_time), "2026-11-25T01:02:04Z");
}

TEST(ApiConvertTest, InvalidSpecBecomesSpecErrorNamingTheField) {
  nlohmann::json o = JobObject();
  o["spec"]["training"] = {{"batchSize", 0}};
  JobView v = JobViewFromObject(o);
  EXPECT_FALSE(v.job.has_value());
  EXPECT_THAT(v.spec_error, HasSubstr("spec.training.batchSize"));
  EXPECT_EQ(v.name, "mnist") << "metadata still read";
}

// The operator never reads data, but the spec alone can say a role's memory limit is too small
// (here 4 GiB of parameters for 32768 x 32768 weights, three copies in a worker).
TEST(ApiConvertTest, AMemoryLimitBelowWhatTheSpecAloneNeedsIsASpecError) {
  nlohmann::json o = JobObject();
  o["spec"]["model"] = {{"type", "mlp"}, {"hiddenLayers", {32768, 32768}}};
  o["spec"]["workers"]["resources"] = {{"limits", {{"memory", "8Gi"}}}};
  JobView v = JobViewFromObject(o);
  EXPECT_FALSE(v.job.has_value());
  EXPECT_THAT(v.spec_error, HasSubstr("spec.workers.resources.limits.memory: 8Gi is less than"));
  EXPECT_THAT(v.spec_error, HasSubstr("needs: at least 12.1 GiB (parameters 4.0 GiB"));
  o["spec"]["workers"]["resources"]["limits"]["memory"] = "16Gi";
  v = JobViewFromObject(o);
  EXPECT_TRUE(v.job.has_value()) << v.spec_error;
}

// `ringtrain run` takes checkpoints in any directory; a cluster needs one that outlives its pods.
TEST(ApiConvertTest, CheckpointsOnAnEmptyDirAreASpecErrorInACluster) {
  nlohmann::json o = JobObject();
  o["spec"]["volumes"] = {{{"name", "scratch"}, {"emptyDir", nlohmann::json::object()}}};
  o["spec"]["parameterServers"]["volumeMounts"] = {{{"name", "scratch"}, {"mountPath", "/ckpt"}}};
  o["spec"]["checkpoint"] = {{"path", "/ckpt/runs"}};
  JobView v = JobViewFromObject(o);
  EXPECT_FALSE(v.job.has_value());
  EXPECT_THAT(v.spec_error, HasSubstr("spec.checkpoint.path: \"/ckpt/runs\" is on volume "
                                      "\"scratch\" (/ckpt), an emptyDir"));
  o["spec"]["volumes"][0] = {{"name", "scratch"}, {"persistentVolumeClaim", {{"claimName", "c"}}}};
  v = JobViewFromObject(o);
  ASSERT_TRUE(v.job.has_value()) << v.spec_error;
  EXPECT_EQ(v.job->spec.checkpoint->path, "/ckpt/runs");
}

// Worker 0 writes the model; in a cluster it must land on a volume that outlives its pod.
TEST(ApiConvertTest, OutputOnAnEmptyDirIsASpecErrorInACluster) {
  nlohmann::json o = JobObject();
  o["spec"]["volumes"] = {{{"name", "scratch"}, {"emptyDir", nlohmann::json::object()}}};
  o["spec"]["workers"]["volumeMounts"] = {{{"name", "scratch"}, {"mountPath", "/models"}}};
  o["spec"]["output"] = {{"path", "/models/run"}};
  JobView v = JobViewFromObject(o);
  EXPECT_FALSE(v.job.has_value());
  EXPECT_THAT(v.spec_error, HasSubstr("spec.output.path: \"/models/run\" is on volume "
                                      "\"scratch\" (/models), an emptyDir"));
  o["spec"]["volumes"][0] = {{"name", "scratch"}, {"nfs", {{"server", "nfs"}, {"path", "/x"}}}};
  v = JobViewFromObject(o);
  ASSERT_TRUE(v.job.has_value()) << v.spec_error;
  EXPECT_EQ(v.job->spec.output->path, "/models/run");
}

TEST(ApiConvertTest, StatusRoundTripsThroughJson) {
  JobView v = JobViewFromObject(JobObject());
  JobStatus s = v.status;
  s.completion_time = *ParseTime("2026-11-25T02:00:00Z");
  SetCondition(s, kSucceeded, "True", "AllWorkersSucceeded", "done",
               *ParseTime("2026-11-25T02:00:00Z"), 4);
  EXPECT_EQ(StatusFromJson(StatusToJson(s)), s);
  s.checkpoint = CheckpointStatus{4690, *ParseTime("2026-11-25T01:59:58Z"), "/ckpt/mnist"};
  const nlohmann::json j = StatusToJson(s);
  EXPECT_EQ(j["checkpoint"],
            nlohmann::json::parse(
                R"({"step": 4690, "time": "2026-11-25T01:59:58Z", "location": "/ckpt/mnist"})"));
  EXPECT_EQ(StatusFromJson(j), s);
  // A click-through model's test AUC; null when there is none, so a merge patch removes it.
  EXPECT_TRUE(j["progress"]["auc"].is_null()) << j.dump();
  s.progress->auc = 0.7854;
  EXPECT_EQ(StatusToJson(s)["progress"]["auc"], 0.7854);
  EXPECT_EQ(StatusFromJson(StatusToJson(s)), s);
}

// Users run `kubectl apply ... && kubectl wait --for=condition=Succeeded`: kubectl's wait fails
// at once, instead of waiting, on a status whose conditions are null. Every status the operator
// writes has an array there, empty before the first condition.
TEST(ApiConvertTest, ConditionsAreAnArrayNeverNull) {
  const nlohmann::json fresh = StatusToJson(JobStatus{});
  ASSERT_TRUE(fresh.contains("conditions")) << fresh.dump();
  EXPECT_TRUE(fresh["conditions"].is_array()) << fresh.dump();
  EXPECT_TRUE(fresh["conditions"].empty()) << fresh.dump();
  EXPECT_THAT(fresh.dump(), HasSubstr("\"conditions\":[]"));
  // A status read with null conditions (or none) is written back with an array.
  for (const char* status :
       {R"({"phase": "Created", "conditions": null})", R"({"phase": "Created"})",
        R"({"phase": "Created", "conditions": "junk"})"}) {
    const nlohmann::json written = StatusToJson(StatusFromJson(nlohmann::json::parse(status)));
    EXPECT_TRUE(written["conditions"].is_array()) << status << " -> " << written.dump();
  }
}

TEST(ApiConvertTest, PodViewReadsPhaseReadinessAndExitCode) {
  auto pod = nlohmann::json::parse(R"({
    "metadata": {"name": "mnist-worker-1", "labels": {"ringtrain.io/role": "worker",
                 "ringtrain.io/index": "1", "ringtrain.io/spec-hash": "abc"}},
    "status": {"phase": "Failed",
               "containerStatuses": [{"state": {"terminated": {"exitCode": 137}}}]}})");
  auto p = PodViewFromObject(pod);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->role, job::Role::kWorker);
  EXPECT_EQ(p->index, 1);
  EXPECT_EQ(p->phase, "Failed");
  EXPECT_EQ(p->exit_code, 137);
  EXPECT_EQ(p->spec_hash, "abc");
  pod["metadata"]["labels"].erase("ringtrain.io/role");
  EXPECT_FALSE(PodViewFromObject(pod).has_value()) << "not one of ours";
}

TEST(ApiConvertTest, ConfigMapJobRoundTrips) {
  JobView v = JobViewFromObject(JobObject());
  auto cm = BuildConfigMap(v, *v.job);
  auto back = JobFromConfigMap(cm);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, *v.job);
  EXPECT_FALSE(JobFromConfigMap(nlohmann::json::object()).has_value());
}

}  // namespace
}  // namespace ringtrain::op
