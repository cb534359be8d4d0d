// spec.checkpoint: parsed with its defaults and ranges everywhere; placed on a durable volume
// only in a cluster (CheckForCluster, which the operator applies and `ringtrain run` does not).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ringtrain/job/parse.h"
#include "spec_errors.h"

namespace ringtrain::job {
namespace {

using nlohmann::json;
using testing::ClusterErrorOf;
using testing::ErrorOf;
using ::testing::HasSubstr;

json Job(json checkpoint) {
  json j = json::parse(R"({
    "apiVersion": "ringtrain.io/v1alpha1", "kind": "TrainingJob",
    "metadata": {"name": "ckpt"},
    "spec": {"model": {"type": "softmax"},
             "dataset": {"train": {"images": "/d/i.gz", "labels": "/d/l.gz"}},
             "parameterServers": {"volumeMounts": [{"name": "store", "mountPath": "/ckpt"}]},
             "volumes": [{"name": "store", "persistentVolumeClaim": {"claimName": "ckpt"}}]}})");
  j["spec"]["checkpoint"] = std::move(checkpoint);
  return j;
}

TEST(CheckpointSpecTest, AbsentMeansNoCheckpoints) {
  json doc = Job(nullptr);
  StatusOr<TrainingJob> job = ParseTrainingJob(doc);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_FALSE(job->spec.checkpoint.has_value());
  EXPECT_FALSE(ToJson(*job)["spec"].contains("checkpoint"));
  EXPECT_TRUE(CheckForCluster(*job).ok());
}

TEST(CheckpointSpecTest, DefaultsAndRoundTrip) {
  StatusOr<TrainingJob> job = ParseTrainingJob(Job({{"path", "file:///ckpt"}}));
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_TRUE(job->spec.checkpoint.has_value());
  EXPECT_EQ(job->spec.checkpoint->path, "file:///ckpt");
  EXPECT_EQ(job->spec.checkpoint->every_steps, 0);
  EXPECT_EQ(job->spec.checkpoint->every_seconds, 600);
  EXPECT_EQ(job->spec.checkpoint->keep, 3);
  StatusOr<TrainingJob> back = ParseTrainingJob(ToJson(*job));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *job);
}

TEST(CheckpointSpecTest, BadValuesNameTheField) {
  EXPECT_THAT(ErrorOf(Job(json::object())), HasSubstr("spec.checkpoint.path: required"));
  EXPECT_THAT(ErrorOf(Job({{"path", "https://host/ckpt"}})),
              HasSubstr("spec.checkpoint.path: checkpoints cannot be written there: write "
                        "file:///absolute/path, a path or s3://bucket/prefix"));
  EXPECT_THAT(ErrorOf(Job({{"path", "s3://"}})), HasSubstr("spec.checkpoint.path:"));
  EXPECT_THAT(ErrorOf(Job({{"path", "/ckpt"}, {"keep", 0}})),
              HasSubstr("spec.checkpoint.keep: must be between 1 and 1000 (got 0)"));
  EXPECT_THAT(ErrorOf(Job({{"path", "/ckpt"}, {"everySteps", -1}})),
              HasSubstr("spec.checkpoint.everySteps: must be between 0 and"));
  EXPECT_THAT(ErrorOf(Job({{"path", "/ckpt"}, {"everySeconds", 0}})),
              HasSubstr("spec.checkpoint.everySeconds: must be greater than 0 when everySteps"));
  EXPECT_EQ(ErrorOf(Job({{"path", "/ckpt"}, {"everySeconds", 0}, {"everySteps", 100}})), "");
  EXPECT_THAT(ErrorOf(Job({{"path", "/ckpt"}, {"every", 5}})),
              HasSubstr("spec.checkpoint.every: unknown field"));
}

TEST(CheckpointSpecTest, ClusterNeedsADurableWritableVolumeOfTheServers) {
  EXPECT_EQ(ClusterErrorOf(Job({{"path", "/ckpt"}})), "");
  EXPECT_EQ(ClusterErrorOf(Job({{"path", "file:///ckpt/job"}})), "");
  // An object store outlives every pod, and needs no volume.
  json in_bucket = Job({{"path", "s3://bucket/ckpt"}});
  in_bucket["spec"]["parameterServers"].erase("volumeMounts");
  EXPECT_EQ(ErrorOf(in_bucket), "");
  EXPECT_EQ(ClusterErrorOf(in_bucket), "");

  json relative = Job({{"path", "ckpt"}});
  EXPECT_EQ(ErrorOf(relative), "") << "fine for ringtrain run";
  EXPECT_THAT(ClusterErrorOf(relative),
              HasSubstr("spec.checkpoint.path: must be an absolute path in a cluster"));
  EXPECT_THAT(ClusterErrorOf(Job({{"path", "/elsewhere"}})),
              HasSubstr("\"/elsewhere\" is on no volume the parameter servers mount"));
  EXPECT_THAT(ClusterErrorOf(Job({{"path", "/ckptx"}})), HasSubstr("is on no volume"))
      << "a prefix of the name is not a parent directory";

  json empty_dir = Job({{"path", "/ckpt"}});
  empty_dir["spec"]["volumes"][0] = {{"name", "store"}, {"emptyDir", json::object()}};
  EXPECT_THAT(ClusterErrorOf(empty_dir), HasSubstr("an emptyDir, deleted with its pod"));
  json host = Job({{"path", "/ckpt"}});
  host["spec"]["volumes"][0] = {{"name", "store"}, {"hostPath", {{"path", "/srv"}}}};
  EXPECT_THAT(ClusterErrorOf(host), HasSubstr("a hostPath, which stays on one node"));
  json read_only = Job({{"path", "/ckpt"}});
  read_only["spec"]["parameterServers"]["volumeMounts"][0]["readOnly"] = true;
  EXPECT_THAT(ClusterErrorOf(read_only), HasSubstr("mounted read-only"));
  json nfs = Job({{"path", "/ckpt"}});
  nfs["spec"]["volumes"][0] = {{"name", "store"},
                               {"nfs", {{"server", "nfs.local"}, {"path", "/exports"}}}};
  EXPECT_EQ(ClusterErrorOf(nfs), "");
  // Every mount that holds the directory counts: scratch space mounted inside the claim would
  // take the checkpoints with it.
  json nested = Job({{"path", "/ckpt/tmp/run"}});
  nested["spec"]["volumes"].push_back({{"name", "tmp"}, {"emptyDir", json::object()}});
  nested["spec"]["parameterServers"]["volumeMounts"].push_back(
      {{"name", "tmp"}, {"mountPath", "/ckpt/tmp"}});
  EXPECT_THAT(ClusterErrorOf(nested), HasSubstr("on volume \"tmp\" (/ckpt/tmp), an emptyDir"));
}

}  // namespace
}  // namespace ringtrain::job
