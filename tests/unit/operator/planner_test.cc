#include "ringtrain/operator/planner.h"
#include "fake_job_keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "planner_fixtures.h"

namespace ringtrain::op {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(PlannerTest, NewJobCreatesConfigMapServicesAndOnePodPerReplica) {
  auto j = MakeJob(2, 3);
  JobView v = MakeView(j);
  Plan first = Reconcile(v, OwnedObjects{}, std::nullopt);
  // Pods wait until the ConfigMap they mount is there with their spec (a left-over one of the
  // same name must never be mounted): first the ConfigMap and Services.
  // With the ConfigMap, the Secret of the job's keys (authentication: curve, the default) and
  // the NetworkPolicy.
  EXPECT_THAT(Creates(first),
              ::testing::UnorderedElementsAre(
                  "NetworkPolicy/mnist-network", ::testing::StartsWith("Secret/mnist-keys-"),
                  "ConfigMap/mnist-spec", "Service/mnist-ps", "Service/mnist-worker"));
  EXPECT_FALSE(first.status.IsTrue(kCreated));
  EXPECT_EQ(first.status.phase, "Pending");
  OwnedObjects o;
  o.config_map = o.ps_service = o.worker_service = true;
  o.config_map_hash = "another-spec";
  v.status = first.status;
  EXPECT_TRUE(Creates(Reconcile(v, o, j)).empty()) << "a ConfigMap of another spec: wait";
  o.config_map_hash = SpecHash(j);
  Plan p = Reconcile(v, o, j);
  EXPECT_THAT(Creates(p), ::testing::UnorderedElementsAre(
                              "Pod/mnist-ps-0", "Pod/mnist-ps-1", "Pod/mnist-worker-0",
                              "Pod/mnist-worker-1", "Pod/mnist-worker-2"));
  EXPECT_TRUE(p.status.IsTrue(kCreated));
  EXPECT_EQ(p.status.phase, "Created");
  EXPECT_EQ(p.status.start_time, kNow);
  EXPECT_EQ(p.status.observed_generation, 1);
  EXPECT_THAT(Events(p), ::testing::ElementsAre("Normal:PodsCreated"));
}

TEST(PlannerTest, ReplanningTheSameObservationIsIdempotent) {
  auto j = MakeJob();
  JobView v = MakeView(j);
  Plan first = Reconcile(v, OwnedObjects{});
  v.status = first.status;
  OwnedObjects o = AllPods(j, "Pending");
  Plan second = Reconcile(v, o, j, kNow + seconds(5));
  EXPECT_TRUE(Creates(second).empty());
  EXPECT_TRUE(Events(second).empty());
  EXPECT_EQ(second.status.workers.active, 2) << "the pods now exist";
  v.status = second.status;
  Plan third = Reconcile(v, o, j, kNow + seconds(9));
  EXPECT_TRUE(third.actions.empty());
  EXPECT_EQ(third.status, second.status) << "nothing changed, so nothing to write";
}

TEST(PlannerTest, RunningWhenEveryPodRuns) {
  auto j = MakeJob();
  JobView v = MakeView(j);
  v.status = Reconcile(v, OwnedObjects{}).status;
  Plan p = Reconcile(v, AllPods(j, "Running"), j);
  EXPECT_TRUE(p.status.IsTrue(kRunning));
  EXPECT_EQ(p.status.phase, "Running");
  EXPECT_EQ(p.status.workers.ready, 2);
  EXPECT_EQ(p.status.parameter_servers.active, 2);
  EXPECT_THAT(Events(p), ::testing::ElementsAre("Normal:AllPodsRunning"));
}

struct CleanCase {
  job::CleanPodPolicy policy;
  std::vector<std::string> deleted;
};

TEST(PlannerTest, SucceedsWhenAllWorkersSucceedAndCleansPerPolicy) {
  const std::vector<CleanCase> cases = {
      {job::CleanPodPolicy::kRunning, {"mnist-ps-0", "mnist-ps-1"}},
      {job::CleanPodPolicy::kAll, {"mnist-ps-0", "mnist-ps-1", "mnist-worker-0", "mnist-worker-1"}},
      {job::CleanPodPolicy::kNone, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(job::Name(c.policy));
    auto j = MakeJob();
    j.spec.run_policy.clean_pod_policy = c.policy;
    JobView v = MakeView(j);
    OwnedObjects o = AllPods(j, "Running");
    for (PodView& pod : o.pods) {
      if (pod.role == job::Role::kWorker) pod.phase = "Succeeded";
    }
    Plan p = Reconcile(v, o, j);
    EXPECT_TRUE(p.status.IsTrue(kSucceeded));
    EXPECT_EQ(p.status.phase, "Succeeded");
    EXPECT_EQ(p.status.completion_time, kNow);
    EXPECT_EQ(p.status.workers.succeeded, 2);
    EXPECT_THAT(Deletes(p), ::testing::UnorderedElementsAreArray(c.deleted));
    EXPECT_THAT(Events(p), ::testing::Contains("Normal:AllWorkersSucceeded"));
  }
}

TEST(PlannerTest, ActiveDeadlineFailsTheJob) {
  auto j = MakeJob();
  j.spec.run_policy.active_deadline_seconds = 60;
  JobView v = MakeView(j);
  v.status.start_time = kNow - seconds(30);
  Plan p = Reconcile(v, AllPods(j, "Running"), j);
  EXPECT_FALSE(p.status.IsTrue(kFailed));
  ASSERT_TRUE(p.requeue_after.has_value());
  EXPECT_EQ(*p.requeue_after, seconds(31));
  v.status.start_time = kNow - seconds(61);
  p = Reconcile(v, AllPods(j, "Running"), j);
  EXPECT_TRUE(p.status.IsTrue(kFailed));
  EXPECT_EQ(p.status.Find(kFailed)->reason, "DeadlineExceeded");
  EXPECT_EQ(Deletes(p).size(), 4u);
}

TEST(PlannerTest, TtlDeletesAFinishedJob) {
  auto j = MakeJob();
  j.spec.run_policy.ttl_seconds_after_finished = 60;
  JobView v = MakeView(j);
  SetCondition(v.status, kSucceeded, "True", "AllWorkersSucceeded", "", kNow, 1);
  v.status.completion_time = kNow - seconds(20);
  Plan p = Reconcile(v, OwnedObjects{}, j);
  EXPECT_TRUE(std::none_of(p.actions.begin(), p.actions.end(),
                           [](const Action& a) { return a.type == ActionType::kDeleteJob; }));
  EXPECT_EQ(p.requeue_after, seconds(41));
  v.status.completion_time = kNow - seconds(60);
  p = Reconcile(v, OwnedObjects{}, j);
  EXPECT_TRUE(std::any_of(p.actions.begin(), p.actions.end(),
                          [](const Action& a) { return a.type == ActionType::kDeleteJob; }));
  EXPECT_TRUE(Creates(p).empty()) << "a finished job is never restarted";
}

TEST(PlannerTest, SuspendDeletesPodsAndResumeRecreatesThem) {
  auto j = MakeJob();
  j.spec.run_policy.suspend = true;
  JobView v = MakeView(j);
  v.status.start_time = kNow - seconds(100);
  Plan p = Reconcile(v, AllPods(j, "Running"), j);
  EXPECT_EQ(Deletes(p).size(), 4u);
  EXPECT_TRUE(Creates(p).empty());
  EXPECT_TRUE(p.status.IsTrue(kSuspended));
  EXPECT_EQ(p.status.phase, "Suspended");
  EXPECT_FALSE(p.status.start_time.has_value()) << "the deadline restarts on resume";
  EXPECT_THAT(Events(p), ::testing::ElementsAre("Normal:Suspended"));

  j.spec.run_policy.suspend = false;
  JobView resumed = MakeView(j);
  resumed.status = p.status;
  OwnedObjects none;
  none.config_map = none.ps_service = none.worker_service = true;
  none.config_map_hash = SpecHash(j);
  Plan r = Reconcile(resumed, none, j);
  EXPECT_EQ(Creates(r).size(), 4u);
  EXPECT_FALSE(r.status.IsTrue(kSuspended));
  EXPECT_EQ(r.status.Find(kSuspended)->reason, "Resumed");
  EXPECT_THAT(Events(r), ::testing::Contains("Normal:Resumed"));
  EXPECT_EQ(r.status.start_time, kNow);
}

TEST(PlannerTest, InvalidSpecFailsWithoutCreatingAnything) {
  JobView v;
  v.name = "broken";
  v.ns = "team";
  v.generation = 3;
  v.spec_error = "spec.training.batchSize: must be between 1 and 1048576 (got 0)";
  Plan p = PlanReconcile(v, std::nullopt, OwnedObjects{}, TestResourceOptions(), kNow);
  EXPECT_TRUE(Creates(p).empty());
  ASSERT_TRUE(p.status.IsTrue(kFailed));
  EXPECT_EQ(p.status.Find(kFailed)->reason, "InvalidSpec");
  EXPECT_THAT(p.status.Find(kFailed)->message, HasSubstr("spec.training.batchSize"));
  EXPECT_EQ(p.status.observed_generation, 3);
  EXPECT_THAT(Events(p), ::testing::ElementsAre("Warning:InvalidSpec"));
}

TEST(PlannerTest, SpecEditWhileRunningIsRefusedAndPodsKeepTheOriginalSpec) {
  auto original = MakeJob(2, 2);
  auto edited = MakeJob(2, 3);
  JobView v = MakeView(edited);
  v.status.start_time = kNow;
  Plan p = Reconcile(v, AllPods(original, "Running"), original);
  EXPECT_TRUE(Creates(p).empty()) << "no third worker: the running job keeps its spec";
  ASSERT_TRUE(p.status.IsTrue(kSpecChangeRefused));
  EXPECT_THAT(Events(p), ::testing::Contains("Warning:ImmutableWhileRunning"));
  // A runPolicy edit is not a refused change.
  auto policy_edit = original;
  policy_edit.spec.run_policy.backoff_limit = 7;
  JobView w = MakeView(policy_edit);
  w.status = p.status;
  Plan q = Reconcile(w, AllPods(original, "Running"), original);
  EXPECT_FALSE(q.status.IsTrue(kSpecChangeRefused));
}

TEST(PlannerTest, DeletingJobPlansNothing) {
  auto j = MakeJob();
  JobView v = MakeView(j);
  v.deleting = true;
  Plan p = Reconcile(v, OwnedObjects{}, j);
  EXPECT_TRUE(p.actions.empty());
}

TEST(PlannerTest, PodsBeyondTheReplicaCountAreDeleted) {
  auto j = MakeJob(1, 1);
  JobView v = MakeView(j);
  v.status.start_time = kNow;
  OwnedObjects o = AllPods(MakeJob(1, 2), "Running");
  Plan p = Reconcile(v, o, j);
  EXPECT_THAT(Deletes(p), ::testing::ElementsAre("mnist-worker-1"));
}

// Regression: an edit that does not parse used to fail a running job; it is refused instead.
TEST(PlannerTest, AnInvalidEditOfARunningJobIsRefusedNotFatal) {
  auto j = MakeJob();
  JobView v = MakeView(j);
  v.job.reset();
  v.spec_error = "spec.workers.replicas: must be between 1 and 4096 (got 0)";
  v.status.start_time = kNow;
  SetCondition(v.status, kRunning, "True", "AllPodsRunning", "", kNow, 1);
  Plan p = Reconcile(v, AllPods(j, "Running"), j);
  EXPECT_FALSE(p.status.IsTrue(kFailed));
  ASSERT_TRUE(p.status.IsTrue(kSpecChangeRefused));
  EXPECT_EQ(p.status.Find(kSpecChangeRefused)->reason, "InvalidSpec");
  EXPECT_THAT(p.status.Find(kSpecChangeRefused)->message, HasSubstr("spec.workers.replicas"));
  EXPECT_TRUE(Deletes(p).empty());
  EXPECT_EQ(p.status.phase, "Running");
}

// Regression: edits made while suspended used to be ignored on resume.
TEST(PlannerTest, ResumeAppliesAnEditMadeWhileSuspended) {
  auto original = MakeJob(1, 2);
  auto edited = MakeJob(1, 3);
  JobView v = MakeView(edited);
  SetCondition(v.status, kSuspended, "True", "Suspended", "", kNow, 1);
  OwnedObjects o;
  o.config_map = o.ps_service = o.worker_service = true;
  o.config_map_uid = "cm-uid";
  // The suspension's pods are still terminating: wait for them.
  PodView going = Pod(job::Role::kWorker, 0, "Running");
  going.deleting = true;
  o.pods.push_back(going);
  Plan wait = Reconcile(v, o, original);
  EXPECT_TRUE(Creates(wait).empty());
  EXPECT_TRUE(wait.status.IsTrue(kSuspended));
  o.pods.clear();
  Plan p = Reconcile(v, o, original);
  bool deleted_config_map = false;
  for (const Action& a : p.actions) {
    if (a.type == ActionType::kDeleteConfigMap) {
      deleted_config_map = true;
      EXPECT_EQ(a.uid, "cm-uid");
    }
  }
  EXPECT_TRUE(deleted_config_map);
  EXPECT_TRUE(Creates(p).empty());
  EXPECT_TRUE(p.status.IsTrue(kSuspended)) << "suspended until the old spec is gone";
  // The old ConfigMap is gone: resumed, and the ConfigMap made from the edit.
  o.config_map = false;
  o.config_map_uid.clear();
  Plan q = Reconcile(v, o, std::nullopt);
  EXPECT_THAT(Creates(q), ::testing::ElementsAre("NetworkPolicy/mnist-network",
                                                 ::testing::StartsWith("Secret/mnist-keys-"),
                                                 "ConfigMap/mnist-spec"));
  EXPECT_FALSE(q.status.IsTrue(kSuspended));
  // Once the cache shows it, the pods, built from the edit.
  v.status = q.status;
  o.config_map = true;
  o.config_map_hash = SpecHash(edited);
  Plan r = Reconcile(v, o, edited);
  EXPECT_THAT(Creates(r),
              ::testing::UnorderedElementsAre("Pod/mnist-ps-0", "Pod/mnist-worker-0",
                                              "Pod/mnist-worker-1", "Pod/mnist-worker-2"));
  EXPECT_FALSE(r.status.IsTrue(kSpecChangeRefused));
}

TEST(PlannerTest, ProgressComesFromWorkerZeroWhileRunningAndFromItsLastWordsAfter) {
  auto j = MakeJob();
  JobView v = MakeView(j);
  v.status.start_time = kNow;
  OwnedObjects o = AllPods(j, "Running");
  Progress polled;
  polled.step = 120;
  polled.total_steps = 900;
  polled.loss = 0.6;
  polled.update_time = kNow - seconds(3);
  o.progress = polled;
  Plan p = Reconcile(v, o, j);
  ASSERT_TRUE(p.status.progress.has_value());
  EXPECT_EQ(p.status.progress->step, 120);
  EXPECT_EQ(p.status.progress->update_time, kNow - seconds(3));
  // The same point polled again later is not a change worth a write.
  v.status = p.status;
  o.progress->update_time = kNow;
  EXPECT_EQ(Reconcile(v, o, j).status, v.status);

  // Worker 0 is done: its termination message has the final numbers.
  o.pods[2].phase = "Succeeded";
  o.pods[2].termination_message =
      R"({"step":900,"totalSteps":900,"epoch":10,"loss":0.3,"accuracy":0.88,"samplesPerSecond":2e4,"globalBatchSize":128})";
  o.pods[3].phase = "Succeeded";
  Plan done = Reconcile(v, o, j);
  ASSERT_TRUE(done.status.IsTrue(kSucceeded));
  EXPECT_EQ(done.status.progress->step, 900);
  EXPECT_EQ(done.status.progress->accuracy, 0.88);
  EXPECT_EQ(done.status.progress->update_time, kNow);
  // Finished: a stale poll never overwrites the final numbers.
  v.status = done.status;
  o.pods[2].termination_message.clear();
  EXPECT_EQ(Reconcile(v, o, j).status.progress->step, 900);
}

// Bad records skipped (onBadRecord: skip): worker 0's live count while it runs, plus every
// finished worker's final count.
TEST(PlannerTest, SkippedRecordsAreSummedOverTheWorkersHeardFrom) {
  auto j = MakeJob();
  JobView v = MakeView(j);
  v.status.start_time = kNow;
  OwnedObjects o = AllPods(j, "Running");
  Progress polled;
  polled.step = 120;
  polled.total_steps = 900;
  polled.records_skipped = 5;
  o.progress = polled;
  EXPECT_EQ(Reconcile(v, o, j).status.progress->records_skipped, 5);
  // Worker 1 finished first, skipping 7 in its share.
  o.pods[3].phase = "Succeeded";
  o.pods[3].termination_message =
      R"({"step":880,"totalSteps":880,"epoch":10,"loss":0.3,"samplesPerSecond":2e4,"globalBatchSize":128,"recordsSkipped":7})";
  EXPECT_EQ(Reconcile(v, o, j).status.progress->records_skipped, 12);
  // Then worker 0: its final count replaces its live one.
  o.pods[2].phase = "Succeeded";
  o.pods[2].termination_message =
      R"({"step":900,"totalSteps":900,"epoch":10,"loss":0.3,"accuracy":0.88,"samplesPerSecond":2e4,"globalBatchSize":128,"recordsSkipped":6})";
  EXPECT_EQ(Reconcile(v, o, j).status.progress->records_skipped, 13);
}

// A running job whose progress has not moved for stall_after (300 s by default) is Stalled,
// naming the pods that do not run; it is looked at again when it would stall, and Stalled goes
// False once the progress moves.
TEST(PlannerTest, AJobWhoseProgressStopsIsStalled) {
  auto j = MakeJob();
  JobView v = MakeView(j);
  v.status.start_time = kNow - seconds(900);
  OwnedObjects o = AllPods(j, "Running");
  Progress polled;
  polled.step = 120;
  polled.total_steps = 900;
  polled.update_time = kNow - seconds(100);
  o.progress = polled;
  Plan p = Reconcile(v, o, j);
  ASSERT_TRUE(p.status.IsTrue(kRunning));
  EXPECT_FALSE(p.status.IsTrue(kStalled));
  ASSERT_TRUE(p.requeue_after.has_value());
  EXPECT_GE(*p.requeue_after, seconds(200)) << "looked at again when it would stall";
  EXPECT_LE(*p.requeue_after, seconds(202));

  // 301 s after the last step: Stalled, a Warning event, every pod running.
  v.status = p.status;
  Plan stalled = Reconcile(v, o, j, kNow + seconds(201));
  ASSERT_TRUE(stalled.status.IsTrue(kStalled));
  const op::Condition* c = stalled.status.Find(kStalled);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason, "NoProgress");
  EXPECT_THAT(c->message, HasSubstr("(step 120 of 900)"));
  EXPECT_THAT(c->message, HasSubstr("every pod runs"));
  EXPECT_THAT(Events(stalled), ::testing::Contains("Warning:NoProgress"));
  // A pod that does not run is named.
  o.pods[1].phase = "Pending";
  Plan named = Reconcile(v, o, j, kNow + seconds(201));
  EXPECT_THAT(named.status.Find(kStalled)->message, HasSubstr("not running: mnist-ps-1 (Pending)"));
  o.pods[1].phase = "Running";
  // Every pod runs and the servers say which worker their round waits for: it is named (a
  // worker index beyond the job's, as a confused server might say, names nothing).
  o.servers_waiting_for = {{0, {1}}, {1, {1, 7}}};
  Plan waited = Reconcile(v, o, j, kNow + seconds(201));
  EXPECT_THAT(waited.status.Find(kStalled)->message,
              HasSubstr("every pod runs; the parameter servers wait for mnist-worker-1 ("));
  EXPECT_THAT(waited.status.Find(kStalled)->message, Not(HasSubstr("mnist-worker-0")));
  o.servers_waiting_for.clear();

  // The progress moves: no longer stalled.
  v.status = stalled.status;
  o.progress->step = 121;
  o.progress->update_time = kNow + seconds(202);
  Plan again = Reconcile(v, o, j, kNow + seconds(203));
  EXPECT_FALSE(again.status.IsTrue(kStalled));
  EXPECT_EQ(again.status.Find(kStalled)->reason, "Progressing");
}

// status.checkpoint: once every server has reported a checkpoint, the smallest step; it moves
// as they write more, and stays when they report nothing (pods replaced, the job finished).
TEST(PlannerTest, CheckpointIsTheOneEveryServerHas) {
  auto j = MakeJob();
  j.spec.checkpoint = job::CheckpointSpec{"/ckpt", 50, 0, 3};
  JobView v = MakeView(j);
  v.status.start_time = kNow;
  OwnedObjects o = AllPods(j, "Running");
  o.server_checkpoints[0] = {100, kNow - seconds(20), "/ckpt/mnist/ps-0/ckpt-2", false};
  Plan p = Reconcile(v, o, j);
  EXPECT_FALSE(p.status.checkpoint.has_value()) << "ps-1 has reported none";
  o.server_checkpoints[1] = {50, kNow - seconds(10), "/ckpt/mnist/ps-1/ckpt-1", false};
  p = Reconcile(v, o, j);
  ASSERT_TRUE(p.status.checkpoint.has_value());
  EXPECT_EQ(*p.status.checkpoint, (CheckpointStatus{50, kNow - seconds(10), "/ckpt/mnist"}));
  v.status = p.status;
  EXPECT_EQ(Reconcile(v, o, j).status, v.status) << "stable: no write loop";
  o.server_checkpoints[1] = {150, kNow - seconds(1), "/ckpt/mnist/ps-1/ckpt-2", false};
  p = Reconcile(v, o, j);
  EXPECT_EQ(*p.status.checkpoint, (CheckpointStatus{100, kNow - seconds(1), "/ckpt/mnist"}));
  // Nothing polled (the servers gone, the job restarting or finished): the status keeps it.
  v.status = p.status;
  o.server_checkpoints.clear();
  EXPECT_EQ(Reconcile(v, o, j).status.checkpoint, v.status.checkpoint);
  // A job without spec.checkpoint has no status.checkpoint, whatever anyone reports.
  auto plain = MakeJob();
  JobView pv = MakeView(plain);
  OwnedObjects po = AllPods(plain, "Running");
  po.server_checkpoints[0] = po.server_checkpoints[1] = {7, kNow, "/x", false};
  EXPECT_FALSE(Reconcile(pv, po, plain).status.checkpoint.has_value());
}

// Regression guard: a NaN loss in the status would be refused by the API server (JSON has no
// NaN) and block every later status write of the job.
TEST(PlannerTest, ADivergedLossNeverReachesTheStatus) {
  auto j = MakeJob();
  JobView v = MakeView(j);
  v.status.start_time = kNow;
  OwnedObjects o = AllPods(j, "Running");
  Progress polled;
  polled.step = 5;
  polled.epoch = -3;
  polled.loss = std::nan("");
  polled.accuracy = std::numeric_limits<double>::infinity();
  polled.samples_per_second = -1;
  o.progress = polled;
  Plan p = Reconcile(v, o, j);
  ASSERT_TRUE(p.status.progress.has_value());
  EXPECT_EQ(p.status.progress->loss, 0.0);
  EXPECT_EQ(p.status.progress->epoch, 0);
  EXPECT_EQ(p.status.progress->samples_per_second, 0.0);
  EXPECT_FALSE(p.status.progress->accuracy.has_value());
  polled.accuracy = 1.5;  // outside the schema's [0, 1]
  polled.auc = -0.5;      // likewise
  o.progress = polled;
  EXPECT_FALSE(Reconcile(v, o, j).status.progress->accuracy.has_value());
  EXPECT_FALSE(Reconcile(v, o, j).status.progress->auc.has_value());
  polled.auc = 0.75;
  o.progress = polled;
  EXPECT_EQ(Reconcile(v, o, j).status.progress->auc, 0.75);
  polled.auc = -0.5;
  o.progress = polled;
  v.status = p.status;
  EXPECT_EQ(Reconcile(v, o, j).status, v.status) << "stable: no write loop";
}

TEST(SetConditionTest, TransitionTimeMovesOnlyWithStatus) {
  JobStatus s;
  EXPECT_FALSE(SetCondition(s, kRunning, "False", "X", "m", kNow, 1)) << "never-held False";
  EXPECT_TRUE(s.conditions.empty());
  EXPECT_TRUE(SetCondition(s, kRunning, "True", "Up", "m", kNow, 1));
  EXPECT_FALSE(SetCondition(s, kRunning, "True", "Up", "m2", kNow + seconds(5), 1));
  EXPECT_EQ(s.Find(kRunning)->last_transition, kNow);
  EXPECT_EQ(s.Find(kRunning)->message, "m2");
  EXPECT_TRUE(SetCondition(s, kRunning, "False", "Down", "m", kNow + seconds(9), 1));
  EXPECT_EQ(s.Find(kRunning)->last_transition, kNow + seconds(9));
}

}  // namespace
}  // namespace ringtrain::op
