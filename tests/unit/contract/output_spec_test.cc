// spec.output: parsed everywhere (a directory, object storage refused); on a durable volume of
// the workers only in a cluster (CheckForCluster, which the operator applies and `ringtrain run`
// does not).
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

json Job(json output) {
  json j = json::parse(R"({
    "apiVersion": "ringtrain.io/v1alpha1", "kind": "TrainingJob",
    "metadata": {"name": "out"},
    "spec": {"model": {"type": "softmax"},
             "dataset": {"train": {"images": "/d/i.gz", "labels": "/d/l.gz"}},
             "workers": {"volumeMounts": [{"name": "models", "mountPath": "/models"}]},
             "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "m"}}]}})");
  j["spec"]["output"] = std::move(output);
  return j;
}

TEST(OutputSpecTest, AbsentMeansNoOutput) {
  StatusOr<TrainingJob> job = ParseTrainingJob(Job(nullptr));
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_FALSE(job->spec.output.has_value());
  EXPECT_FALSE(ToJson(*job)["spec"].contains("output"));
  EXPECT_TRUE(CheckForCluster(*job).ok());
}

TEST(OutputSpecTest, ParsesAndRoundTrips) {
  for (const char* path : {"file:///models/run", "/models", "relative/dir"}) {
    StatusOr<TrainingJob> job = ParseTrainingJob(Job({{"path", path}}));
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    ASSERT_TRUE(job->spec.output.has_value());
    EXPECT_EQ(job->spec.output->path, path);
    EXPECT_EQ(ToJson(*job)["spec"]["output"], json({{"path", path}}));
    StatusOr<TrainingJob> back = ParseTrainingJob(ToJson(*job));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, *job);
  }
}

TEST(OutputSpecTest, BadValuesNameTheField) {
  EXPECT_THAT(ErrorOf(Job(json::object())), HasSubstr("spec.output.path: required"));
  EXPECT_THAT(ErrorOf(Job({{"path", ""}})), HasSubstr("spec.output.path:"));
  EXPECT_THAT(ErrorOf(Job({{"path", "https://host/models"}})),
              HasSubstr("spec.output.path: the model cannot be written there"));
  EXPECT_THAT(ErrorOf(Job({{"path", "/m"}, {"format", "onnx"}})),
              HasSubstr("spec.output.format: unknown field"));
  EXPECT_THAT(ErrorOf(Job("/models")), HasSubstr("spec.output:"));
}

TEST(OutputSpecTest, ClusterNeedsADurableWritableVolumeOfTheWorkers) {
  EXPECT_EQ(ClusterErrorOf(Job({{"path", "/models"}})), "");
  EXPECT_EQ(ClusterErrorOf(Job({{"path", "file:///models/run"}})), "");

  json relative = Job({{"path", "models"}});
  EXPECT_EQ(ErrorOf(relative), "") << "fine for ringtrain run";
  EXPECT_THAT(ClusterErrorOf(relative),
              HasSubstr("spec.output.path: must be an absolute path in a cluster, on a volume "
                        "the workers mount"));
  EXPECT_THAT(ClusterErrorOf(Job({{"path", "/elsewhere"}})),
              HasSubstr("spec.output.path: \"/elsewhere\" is on no volume the workers mount"));
  EXPECT_THAT(ClusterErrorOf(Job({{"path", "/modelsx"}})), HasSubstr("is on no volume"))
      << "a prefix of the name is not a parent directory";

  // The parameter servers' mounts do not count: worker 0 writes the model.
  json on_servers = Job({{"path", "/models"}});
  on_servers["spec"]["parameterServers"]["volumeMounts"] =
      on_servers["spec"]["workers"]["volumeMounts"];
  on_servers["spec"]["workers"].erase("volumeMounts");
  EXPECT_THAT(ClusterErrorOf(on_servers), HasSubstr("is on no volume the workers mount"));

  json empty_dir = Job({{"path", "/models"}});
  empty_dir["spec"]["volumes"][0] = {{"name", "models"}, {"emptyDir", json::object()}};
  EXPECT_THAT(ClusterErrorOf(empty_dir),
              HasSubstr("\"/models\" is on volume \"models\" (/models), an emptyDir, deleted "
                        "with its pod"));
  json host = Job({{"path", "/models"}});
  host["spec"]["volumes"][0] = {{"name", "models"}, {"hostPath", {{"path", "/srv"}}}};
  EXPECT_THAT(ClusterErrorOf(host), HasSubstr("on volume \"models\" (/models), a hostPath"));
  json read_only = Job({{"path", "/models"}});
  read_only["spec"]["workers"]["volumeMounts"][0]["readOnly"] = true;
  EXPECT_THAT(ClusterErrorOf(read_only), HasSubstr("mounted read-only"));
  json claim_read_only = Job({{"path", "/models"}});
  claim_read_only["spec"]["volumes"][0]["persistentVolumeClaim"]["readOnly"] = true;
  EXPECT_THAT(ClusterErrorOf(claim_read_only), HasSubstr("mounted read-only"));
  json nfs = Job({{"path", "/models/run"}});
  nfs["spec"]["volumes"][0] = {{"name", "models"},
                               {"nfs", {{"server", "nfs.local"}, {"path", "/exports"}}}};
  EXPECT_EQ(ClusterErrorOf(nfs), "");
}

// The two cluster rules are separate: a good output does not excuse bad checkpoints.
TEST(OutputSpecTest, CheckpointAndOutputAreCheckedEachOnItsRole) {
  json doc = Job({{"path", "/models"}});
  doc["spec"]["checkpoint"] = {{"path", "/models/ckpt"}};
  EXPECT_THAT(ClusterErrorOf(doc),
              HasSubstr("spec.checkpoint.path: \"/models/ckpt\" is on no volume the parameter "
                        "servers mount"));
  doc["spec"]["parameterServers"]["volumeMounts"] = doc["spec"]["workers"]["volumeMounts"];
  EXPECT_EQ(ClusterErrorOf(doc), "");
}

}  // namespace
}  // namespace ringtrain::job
