#include "ringtrain/operator/executor.h"
#include "fake_job_keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_kube_client.h"
#include "ringtrain/operator/api_convert.h"

namespace ringtrain::op {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Time kNow = Time() + std::chrono::hours(500000);

nlohmann::json JobObject() {
  return nlohmann::json::parse(R"({
    "apiVersion": "ringtrain.io/v1alpha1", "kind": "TrainingJob",
    "metadata": {"name": "mnist", "namespace": "team", "uid": "u-1", "generation": 1},
    "spec": {"model": {"type": "softmax"},
             "dataset": {"train": {"images": "/d/i.gz", "labels": "/d/l.gz"}},
             "parameterServers": {"replicas": 1}, "workers": {"replicas": 2}}})");
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_.objects[kube::TrainingJobs().ObjectPath("team", "mnist")] = JobObject();
  }
  // The event recorded with `reason` (null if none).
  nlohmann::json EventWithReason(const std::string& reason) const {
    for (const auto& [path, object] : client_.objects) {
      if (object.value("reason", "") == reason) return object;
    }
    ADD_FAILURE() << "no event " << reason;
    return nlohmann::json::object();
  }
  testing::FakeKubeClient client_;
};

TEST_F(ExecutorTest, AppliesAPlanAndIsIdempotentWhenRepeated) {
  JobView v = JobViewFromObject(JobObject());
  Plan plan = PlanReconcile(v, std::nullopt, OwnedObjects{}, TestResourceOptions(), kNow);
  auto r = Execute(client_, v, plan, kNow);
  ASSERT_TRUE(r.ok()) << r.status.ToString();
  // The NetworkPolicy, the keys' Secret, the ConfigMap, 2 Services (the pods once the
  // ConfigMap is seen).
  EXPECT_EQ(r.created, 5);
  EXPECT_TRUE(r.status_written);
  EXPECT_TRUE(client_.objects.count("/api/v1/namespaces/team/configmaps/mnist-spec"));
  const std::string secret =
      "/api/v1/namespaces/team/secrets/" + JobKeySecretName("mnist", v.uid,
                                                            v.job->spec.parameter_servers.replicas,
                                                            v.job->spec.workers.replicas);
  ASSERT_TRUE(client_.objects.count(secret));
  EXPECT_EQ(client_.objects[secret]["stringData"]["worker-0.key"],
            "secret of " + v.uid + "/worker-0");
  const auto& job = client_.objects[kube::TrainingJobs().ObjectPath("team", "mnist")];
  EXPECT_EQ(job["status"]["phase"], "Pending");

  // The same plan again (a retry after a lost response): nothing breaks, nothing doubles. The
  // Secret, which the operator may not read, is taken as this job's without a look.
  auto again = Execute(client_, v, plan, kNow);
  ASSERT_TRUE(again.ok()) << again.status.ToString();
  EXPECT_EQ(again.created, 0);
  EXPECT_THAT(client_.calls,
              ::testing::Not(Contains(HasSubstr("GET /api/v1/namespaces/team/secrets"))));
  EXPECT_THAT(client_.calls, Contains(HasSubstr("CREATE /api/v1/namespaces/team/secrets")));
}

// The Secret and NetworkPolicy are never read back: when one cannot be made, the ConfigMap is
// not made either, so the next plan (which sees no ConfigMap) makes all of them again.
TEST_F(ExecutorTest, NoConfigMapWithoutItsKeysSecret) {
  JobView v = JobViewFromObject(JobObject());
  Plan plan = PlanReconcile(v, std::nullopt, OwnedObjects{}, TestResourceOptions(), kNow);
  // The status patch succeeds, the NetworkPolicy too; the Secret's create fails.
  client_.fail_calls_matching = "CREATE /api/v1/namespaces/team/secrets";
  auto r = Execute(client_, v, plan, kNow);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(client_.objects.count("/api/v1/namespaces/team/configmaps/mnist-spec"));
  EXPECT_TRUE(client_.objects.count(
      "/apis/networking.k8s.io/v1/namespaces/team/networkpolicies/mnist-network"));
}

TEST_F(ExecutorTest, StatusIsNotWrittenWhenUnchanged) {
  JobView v = JobViewFromObject(JobObject());
  Plan plan;
  plan.status = v.status;
  auto r = Execute(client_, v, plan, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.status_written);
  EXPECT_TRUE(client_.calls.empty());
}

TEST_F(ExecutorTest, DeletingWhatIsGoneSucceedsOtherErrorsAreReturned) {
  JobView v = JobViewFromObject(JobObject());
  Plan plan;
  plan.status = v.status;
  plan.actions.push_back(Action::DeletePod("mnist-worker-0", ""));
  auto r = Execute(client_, v, plan, kNow);
  ASSERT_TRUE(r.ok()) << "already gone is fine";
  client_.fail_next = Unavailable("apiserver restarting");
  auto failed = Execute(client_, v, plan, kNow);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status.code(), StatusCode::kUnavailable);
}

TEST_F(ExecutorTest, StatusGoesFirstConditionalOnTheObservedVersion) {
  nlohmann::json object = JobObject();
  object["metadata"]["resourceVersion"] = "41";
  JobView v = JobViewFromObject(object);
  Plan plan = PlanReconcile(v, std::nullopt, OwnedObjects{}, TestResourceOptions(), kNow);
  auto r = Execute(client_, v, plan, kNow);
  ASSERT_TRUE(r.ok()) << r.status.ToString();
  ASSERT_FALSE(client_.calls.empty());
  EXPECT_EQ(client_.calls.front(),
            "PATCH-STATUS /apis/ringtrain.io/v1alpha1/namespaces/team/"
            "trainingjobs/mnist");
  EXPECT_EQ(client_.last_status_patch["metadata"]["resourceVersion"], "41");
  EXPECT_EQ(r.created_objects.size(), 5u);  // the policy, keys, ConfigMap, 2 Services

  // A conflict (the job changed since it was observed): nothing else is done.
  client_.calls.clear();
  client_.fail_next = Aborted("PATCH ...: HTTP 409 Conflict: the object has been modified");
  auto conflict = Execute(client_, v, plan, kNow);
  EXPECT_EQ(conflict.status.code(), StatusCode::kAborted);
  EXPECT_EQ(client_.calls.size(), 1u) << "no action after a refused status write";
}

TEST_F(ExecutorTest, AnObjectOfTheSameNameNotOwnedByTheJobIsAnError) {
  // A previous job's ConfigMap of the same name, not yet garbage-collected.
  client_.objects["/api/v1/namespaces/team/configmaps/mnist-spec"] = {
      {"metadata",
       {{"name", "mnist-spec"},
        {"ownerReferences", {{{"controller", true}, {"uid", "an-older-job"}}}}}}};
  JobView v = JobViewFromObject(JobObject());
  Plan plan = PlanReconcile(v, std::nullopt, OwnedObjects{}, TestResourceOptions(), kNow);
  auto r = Execute(client_, v, plan, kNow);
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status.message(), HasSubstr("not owned by this TrainingJob"));
}

// Regression (review): a reconcile failing half-way reported nothing of what it had done, so
// the retry planned from a cache older than its own writes.
TEST_F(ExecutorTest, AFailureHalfWayStillReportsWhatWasDone) {
  JobView v = JobViewFromObject(JobObject());
  Plan plan;
  plan.status = v.status;
  plan.actions.push_back(Action::Create(BuildService(v, job::Role::kWorker, {})));
  plan.actions.push_back(Action::Create(BuildService(v, job::Role::kParameterServer, {})));
  // The second create fails.
  struct FailSecond : testing::FakeKubeClient {
    int creates = 0;
    StatusOr<nlohmann::json> Create(const kube::Resource& r, const std::string& ns,
                                    const nlohmann::json& object) override {
      if (++creates == 2) return Unavailable("connection refused");
      return FakeKubeClient::Create(r, ns, object);
    }
  } client;
  ExecuteResult r = Execute(client, v, plan, kNow);
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.created, 1);
  ASSERT_EQ(r.created_objects.size(), 1u);
  EXPECT_EQ(r.created_objects[0].plural, "services");
}

TEST_F(ExecutorTest, DeleteNamesTheUidItMeans) {
  client_.objects["/api/v1/namespaces/team/pods/mnist-worker-0"] = {
      {"metadata", {{"name", "mnist-worker-0"}, {"uid", "newer"}}}};
  JobView v = JobViewFromObject(JobObject());
  Plan plan;
  plan.status = v.status;
  plan.actions.push_back(Action::DeletePod("mnist-worker-0", "older"));
  auto r = Execute(client_, v, plan, kNow);
  ASSERT_TRUE(r.ok()) << "the pod meant is gone: success";
  EXPECT_EQ(r.deleted, 0);
  EXPECT_TRUE(client_.objects.count("/api/v1/namespaces/team/pods/mnist-worker-0"))
      << "the newer pod of the same name survives";
}

TEST_F(ExecutorTest, EventNamesTheJobAndReason) {
  JobView v = JobViewFromObject(JobObject());
  Action a = Action::Event("Warning", "Restarting", "pod x failed");
  nlohmann::json e = MakeEvent(v, a, kNow);
  EXPECT_EQ(e["involvedObject"]["kind"], "TrainingJob");
  EXPECT_EQ(e["involvedObject"]["uid"], "u-1");
  EXPECT_EQ(e["reason"], "Restarting");
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["metadata"]["namespace"], "team");
}

TEST_F(ExecutorTest, TtlDeletesTheJob) {
  JobView v = JobViewFromObject(JobObject());
  Plan plan;
  plan.status = v.status;
  plan.actions.push_back(Action::DeleteJob("mnist", ""));
  ASSERT_TRUE(Execute(client_, v, plan, kNow).ok());
  EXPECT_THAT(
      client_.calls,
      Contains(HasSubstr("DELETE /apis/ringtrain.io/v1alpha1/namespaces/team/trainingjobs/mnist")));
  EXPECT_FALSE(client_.objects.count(kube::TrainingJobs().ObjectPath("team", "mnist")));
}

// A takeover is asked of the ShardControl and its outcome recorded as an event; it never fails
// the reconcile.
class RecordingShardControl final : public ShardControl {
 public:
  Status TakeOver(const std::string& endpoint, const std::string& job, int server,
                  std::chrono::milliseconds timeout, const PeerAuth& auth) override {
    asked.push_back(job + "/" + std::to_string(server) + "@" + endpoint +
                    (auth.enabled() ? " as " + auth.own_public + " to " + auth.peer_public : ""));
    EXPECT_GT(timeout.count(), 0);
    return answer;
  }
  std::vector<std::string> asked;
  Status answer;
};

TEST_F(ExecutorTest, ATakeoverIsAskedAndItsOutcomeRecordedAsAnEvent) {
  JobView v = JobViewFromObject(JobObject());
  Plan plan;
  plan.status = v.status;
  plan.actions.push_back(Action::Takeover(1, "tcp://10.0.0.3:7070"));
  RecordingShardControl shards;
  ExecuteResult r = Execute(client_, v, plan, kNow, &shards);
  ASSERT_TRUE(r.ok()) << r.status.ToString();
  EXPECT_THAT(shards.asked, ElementsAre("mnist/1@tcp://10.0.0.3:7070"));
  EXPECT_EQ(r.takeovers, 1);
  EXPECT_EQ(r.events, 1);
  const nlohmann::json taken = EventWithReason("ServerTakenOver");
  EXPECT_EQ(taken.value("type", ""), "Normal");
  EXPECT_THAT(taken.value("message", ""), HasSubstr("mnist-ps-1"));

  // The successor cannot: a warning saying why, and the reconcile still succeeds.
  shards.answer = FailedPrecondition("no copy of ps-1's shard here: it never synced");
  r = Execute(client_, v, plan, kNow, &shards);
  ASSERT_TRUE(r.ok()) << r.status.ToString();
  EXPECT_EQ(r.takeovers, 0);
  const nlohmann::json warned = EventWithReason("TakeoverFailed");
  EXPECT_EQ(warned.value("type", ""), "Warning");
  EXPECT_THAT(warned.value("message", ""), HasSubstr("it never synced"));
  // Without a ShardControl nothing is asked.
  EXPECT_TRUE(Execute(client_, v, plan, kNow).ok());
}

}  // namespace
}  // namespace ringtrain::op
