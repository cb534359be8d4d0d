// The planner's answers to lost pods (planner_recovery.cc, recovery.h): a failed or deleted
// worker is replaced alone, a server too when it has checkpoints to restore its shard from,
// else the whole job restarts; runPolicy decides which failures are retried and how often.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "planner_fixtures.h"
#include "ringtrain/operator/recovery.h"

namespace ringtrain::op {
namespace {

using std::chrono::seconds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

job::TrainingJob WithCheckpoints(job::TrainingJob j) {
  job::CheckpointSpec c;
  c.path = "/ckpt";
  j.spec.checkpoint = c;
  return j;
}

// Every pod running, each with a UID of its own ("uid-<pod name>").
OwnedObjects Running(const job::TrainingJob& j) {
  OwnedObjects o = AllPods(j, "Running");
  for (PodView& p : o.pods) p.uid = "uid-" + p.name;
  return o;
}

PodView& Find(OwnedObjects& o, const std::string& name) {
  for (PodView& p : o.pods) {
    if (p.name == name) return p;
  }
  ADD_FAILURE() << "no pod " << name;
  return o.pods.front();
}

void SetFailed(OwnedObjects& o, const std::string& name,
               std::optional<int> exit_code = std::nullopt) {
  Find(o, name).phase = "Failed";
  Find(o, name).exit_code = exit_code;
}

void Erase(OwnedObjects& o, const std::string& name) {
  std::erase_if(o.pods, [&](const PodView& p) { return p.name == name; });
}

// The job as it runs: started, every pod seen running.
JobView RunningView(const job::TrainingJob& j) {
  JobView v = MakeView(j);
  v.status.start_time = kNow - seconds(60);
  SetCondition(v.status, kCreated, "True", "PodsCreated", "", kNow - seconds(60), 1);
  SetCondition(v.status, kRunning, "True", "AllPodsRunning", "", kNow - seconds(50), 1);
  return v;
}

std::string Reason(const Plan& p, const std::string& type) {
  const Condition* c = p.status.Find(type);
  return c ? c->reason : "";
}

struct FailureCase {
  std::string name;
  job::RestartPolicy policy;
  std::optional<int> exit_code;
  int restarts_so_far;
  bool replaced;            // else the job fails
  std::string fail_reason;  // when it fails
};

TEST(PlannerRecoveryTest, AFailedWorkerIsReplacedAloneOrFailsTheJobPerPolicy) {
  const std::vector<FailureCase> cases = {
      {"on-failure replaces", job::RestartPolicy::kOnFailure, 1, 0, true, ""},
      {"on-failure: the last restart", job::RestartPolicy::kOnFailure, 1, 2, true, ""},
      {"on-failure exhausted", job::RestartPolicy::kOnFailure, 1, 3, false, "BackoffLimitExceeded"},
      {"never", job::RestartPolicy::kNever, 137, 0, false, "PodFailed"},
      {"exit code: signal is retryable", job::RestartPolicy::kExitCode, 137, 0, true, ""},
      {"exit code: 128 boundary", job::RestartPolicy::kExitCode, 128, 0, true, ""},
      {"exit code: 127 is permanent", job::RestartPolicy::kExitCode, 127, 0, false,
       "PermanentExitCode"},
      {"exit code: 2 (invalid input) is permanent", job::RestartPolicy::kExitCode, 2, 0, false,
       "PermanentExitCode"},
      {"exit code: unknown is retryable", job::RestartPolicy::kExitCode, std::nullopt, 0, true, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto j = MakeJob();
    j.spec.run_policy.restart_policy = c.policy;
    j.spec.run_policy.backoff_limit = 3;
    JobView v = RunningView(j);
    v.status.restart_count = c.restarts_so_far;
    OwnedObjects o = Running(j);
    SetFailed(o, "mnist-worker-1", c.exit_code);
    Plan p = Reconcile(v, o, j);
    if (c.replaced) {
      EXPECT_THAT(Deletes(p), ElementsAre("mnist-worker-1")) << "the other pods are untouched";
      EXPECT_THAT(Creates(p), IsEmpty()) << "recreated once the old one is gone";
      EXPECT_EQ(p.status.restart_count, c.restarts_so_far + 1);
      EXPECT_EQ(p.status.workers.restarts, 1);
      EXPECT_EQ(p.status.parameter_servers.restarts, 0);
      EXPECT_EQ(p.status.phase, "Restarting");
      EXPECT_EQ(Reason(p, kRestarting), "WorkerReplaced");
      EXPECT_EQ(Reason(p, kRunning), "WorkerReplaced");
      const std::string& message = p.status.Find(kRestarting)->message;
      EXPECT_THAT(message, HasSubstr("pod mnist-worker-1 failed with "));
      EXPECT_THAT(message,
                  HasSubstr("restart " + std::to_string(c.restarts_so_far + 1) + " of at most 3"));
      EXPECT_THAT(message, HasSubstr("replacing that pod alone"));
      EXPECT_THAT(message, HasSubstr("joins the run at the servers' clock"));
      EXPECT_THAT(message, Not(HasSubstr("restarting the job")));
      EXPECT_THAT(Events(p), ElementsAre("Warning:WorkerReplaced"));
      EXPECT_THAT(p.status.handled_failures, ElementsAre("uid-mnist-worker-1"));
      EXPECT_FALSE(p.status.IsTrue(kFailed));
    } else {
      EXPECT_TRUE(p.status.IsTrue(kFailed));
      EXPECT_EQ(Reason(p, kFailed), c.fail_reason);
      EXPECT_THAT(p.status.Find(kFailed)->message, HasSubstr("mnist-worker-1"));
      EXPECT_EQ(p.status.phase, "Failed");
      EXPECT_EQ(p.status.completion_time, kNow);
      EXPECT_EQ(p.status.restart_count, c.restarts_so_far) << "a failure is no restart";
      // cleanPodPolicy Running (default): the still-running pods go.
      EXPECT_THAT(Deletes(p), UnorderedElementsAre("mnist-ps-0", "mnist-ps-1", "mnist-worker-0"));
    }
  }
}

// The whole life of one replacement: deleted alone, counted once however often the same
// observation is planned, recreated alone once gone, Running again once it runs.
TEST(PlannerRecoveryTest, AReplacedWorkerIsCountedOnceAndRecreatedAloneOnceGone) {
  auto j = MakeJob();
  JobView v = RunningView(j);
  OwnedObjects o = Running(j);
  SetFailed(o, "mnist-worker-1", 137);
  Plan p = Reconcile(v, o, j);
  ASSERT_EQ(p.status.restart_count, 1);
  // The same observation again, with the status the first plan wrote (a stale cache, or an
  // operator that died before deleting): the deletion is redone, nothing counted or said twice.
  v.status = p.status;
  Plan again = Reconcile(v, o, j);
  EXPECT_EQ(again.status.restart_count, 1);
  EXPECT_THAT(Deletes(again), ElementsAre("mnist-worker-1"));
  for (const Action& a : again.actions) {
    if (a.type == ActionType::kDeletePod) {
      EXPECT_EQ(a.uid, "uid-mnist-worker-1");
    }
  }
  EXPECT_THAT(Events(again), IsEmpty());
  // Terminating: nothing to do but wait (no new pod beside the old one of the same name).
  Find(o, "mnist-worker-1").deleting = true;
  Plan waiting = Reconcile(v, o, j);
  EXPECT_TRUE(waiting.actions.empty());
  EXPECT_EQ(waiting.status.phase, "Restarting");
  // Gone: recreated, alone.
  Erase(o, "mnist-worker-1");
  Plan recreated = Reconcile(v, o, j);
  EXPECT_THAT(Creates(recreated), ElementsAre("Pod/mnist-worker-1"));
  EXPECT_THAT(Deletes(recreated), IsEmpty());
  EXPECT_EQ(recreated.status.restart_count, 1);
  // Running again: the new pod (a new UID) runs; Running again, Restarting over.
  v.status = recreated.status;
  OwnedObjects back = Running(j);
  Find(back, "mnist-worker-1").uid = "uid-new";
  Plan running = Reconcile(v, back, j);
  EXPECT_TRUE(running.status.IsTrue(kRunning));
  EXPECT_FALSE(running.status.IsTrue(kRestarting));
  EXPECT_EQ(running.status.phase, "Running");
  // The new pod failing later is a new failure; the gone pod's UID is forgotten then.
  v.status = running.status;
  SetFailed(back, "mnist-worker-1");
  Plan second = Reconcile(v, back, j);
  EXPECT_EQ(second.status.restart_count, 2);
  EXPECT_THAT(second.status.handled_failures, ElementsAre("uid-new"));
}

TEST(PlannerRecoveryTest, AFailedServerWithCheckpointsIsReplacedAlone) {
  auto j = WithCheckpoints(MakeJob());
  JobView v = RunningView(j);
  OwnedObjects o = Running(j);
  SetFailed(o, "mnist-ps-1", 137);
  Plan p = Reconcile(v, o, j);
  EXPECT_THAT(Deletes(p), ElementsAre("mnist-ps-1"));
  EXPECT_EQ(p.status.restart_count, 1);
  EXPECT_EQ(p.status.parameter_servers.restarts, 1);
  EXPECT_EQ(Reason(p, kRestarting), "ServerReplaced");
  EXPECT_THAT(p.status.Find(kRestarting)->message,
              HasSubstr("restores its shard from the newest checkpoint in /ckpt"));
  EXPECT_THAT(Events(p), ElementsAre("Warning:ServerReplaced"));
}

// Regression guard: a server replaced alone without checkpoints would start from initial
// parameters and silently damage the model.
TEST(PlannerRecoveryTest, AFailedServerWithoutCheckpointsRestartsTheWholeJobOnce) {
  auto j = MakeJob();
  JobView v = RunningView(j);
  OwnedObjects o = Running(j);
  SetFailed(o, "mnist-ps-1", 137);
  SetFailed(o, "mnist-worker-0", 1);  // failed in the same observation: one restart
  Plan p = Reconcile(v, o, j);
  EXPECT_THAT(Deletes(p),
              UnorderedElementsAre("mnist-ps-0", "mnist-ps-1", "mnist-worker-0", "mnist-worker-1"));
  EXPECT_EQ(p.status.restart_count, 1);
  EXPECT_EQ(p.status.parameter_servers.restarts, 1);
  EXPECT_EQ(p.status.phase, "Restarting");
  EXPECT_EQ(Reason(p, kRestarting), "PodFailed");
  const std::string& message = p.status.Find(kRestarting)->message;
  EXPECT_THAT(message, HasSubstr("pod mnist-ps-1 failed with exit code 137"));
  EXPECT_THAT(message, HasSubstr("restarting the job (restart 1 of at most 3)"));
  EXPECT_THAT(message, HasSubstr("spec.checkpoint is not set"));
  EXPECT_THAT(Events(p), ElementsAre("Warning:Restarting"));
  // Redone, not recounted, and no pod reported as deleted by others while they drain.
  v.status = p.status;
  Plan again = Reconcile(v, o, j);
  EXPECT_EQ(again.status.restart_count, 1);
  EXPECT_EQ(Deletes(again).size(), 4u);
  EXPECT_THAT(Events(again), IsEmpty());
  for (PodView& pod : o.pods) pod.deleting = true;
  Plan draining = Reconcile(v, o, j);
  EXPECT_TRUE(draining.actions.empty());
  // New pods only once every old one is gone, then all of them.
  o.pods.resize(1);
  EXPECT_THAT(Creates(Reconcile(v, o, j)), IsEmpty()) << "one old pod is still terminating";
  o.pods.clear();
  EXPECT_EQ(Creates(Reconcile(v, o, j)).size(), 4u);
}

TEST(PlannerRecoveryTest, SimultaneousWorkerFailuresAreEachReplacedAndCounted) {
  auto j = MakeJob(1, 3);
  JobView v = RunningView(j);
  OwnedObjects o = Running(j);
  SetFailed(o, "mnist-worker-0");
  SetFailed(o, "mnist-worker-2");
  Plan p = Reconcile(v, o, j);
  EXPECT_THAT(Deletes(p), ElementsAre("mnist-worker-0", "mnist-worker-2"));
  EXPECT_EQ(p.status.restart_count, 2);
  EXPECT_EQ(p.status.workers.restarts, 2);
  EXPECT_THAT(Events(p), ElementsAre("Warning:WorkerReplaced", "Warning:WorkerReplaced"));
  // With one restart left, the second fails the job.
  v.status.restart_count = 2;
  Plan limited = Reconcile(v, o, j);
  EXPECT_TRUE(limited.status.IsTrue(kFailed));
  EXPECT_EQ(Reason(limited, kFailed), "BackoffLimitExceeded");
  EXPECT_THAT(limited.status.Find(kFailed)->message, HasSubstr("mnist-worker-2"));
}

TEST(PlannerRecoveryTest, APermanentFailureFailsTheJobWhateverElseFailed) {
  auto j = MakeJob();
  j.spec.run_policy.restart_policy = job::RestartPolicy::kExitCode;
  JobView v = RunningView(j);
  OwnedObjects o = Running(j);
  SetFailed(o, "mnist-ps-0", 143);
  SetFailed(o, "mnist-worker-1", 2);
  Find(o, "mnist-worker-1").termination_message = "no-such-file.gz: not found\nmore";
  Plan p = Reconcile(v, o, j);
  ASSERT_TRUE(p.status.IsTrue(kFailed));
  EXPECT_EQ(Reason(p, kFailed), "PermanentExitCode");
  EXPECT_THAT(p.status.Find(kFailed)->message,
              HasSubstr("mnist-worker-1 failed with exit code 2 (no-such-file.gz: not found)"));
  EXPECT_EQ(p.status.restart_count, 0);
}

TEST(PlannerRecoveryTest, AWorkerDeletedByOthersIsReportedOnceAndRecreatedAlone) {
  auto j = MakeJob();
  JobView v = RunningView(j);
  OwnedObjects o = Running(j);
  Find(o, "mnist-worker-0").deleting = true;  // kubectl delete pod: terminating
  Plan p = Reconcile(v, o, j);
  EXPECT_THAT(Deletes(p), IsEmpty());
  EXPECT_THAT(Creates(p), IsEmpty()) << "not beside its terminating predecessor";
  EXPECT_EQ(p.status.restart_count, 0) << "a deletion is no failure";
  EXPECT_EQ(Reason(p, kRestarting), "WorkerReplaced");
  EXPECT_THAT(p.status.Find(kRestarting)->message,
              HasSubstr("pod mnist-worker-0 was deleted (not by the operator"));
  EXPECT_THAT(Events(p), ElementsAre("Normal:WorkerReplaced"));
  EXPECT_EQ(p.status.phase, "Restarting");
  v.status = p.status;
  EXPECT_TRUE(Reconcile(v, o, j).actions.empty()) << "reported once";
  Erase(o, "mnist-worker-0");
  Plan q = Reconcile(v, o, j);
  EXPECT_THAT(Creates(q), ElementsAre("Pod/mnist-worker-0"));
  EXPECT_THAT(Events(q), IsEmpty());
}

TEST(PlannerRecoveryTest, AServerDeletedByOthersIsReplacedAloneWithCheckpoints) {
  auto j = WithCheckpoints(MakeJob());
  JobView v = RunningView(j);
  OwnedObjects o = Running(j);
  Find(o, "mnist-ps-0").deleting = true;
  Plan p = Reconcile(v, o, j);
  EXPECT_THAT(Deletes(p), IsEmpty());
  EXPECT_THAT(Events(p), ElementsAre("Normal:ServerReplaced"));
  EXPECT_THAT(p.status.Find(kRestarting)->message, HasSubstr("newest checkpoint in /ckpt"));
  Erase(o, "mnist-ps-0");
  v.status = p.status;
  EXPECT_THAT(Creates(Reconcile(v, o, j)), ElementsAre("Pod/mnist-ps-0"));
}

TEST(PlannerRecoveryTest, AServerDeletedByOthersWithoutCheckpointsRestartsTheJob) {
  auto j = MakeJob();
  JobView v = RunningView(j);
  OwnedObjects o = Running(j);
  Find(o, "mnist-ps-1").deleting = true;
  Plan p = Reconcile(v, o, j);
  EXPECT_THAT(Deletes(p), UnorderedElementsAre("mnist-ps-0", "mnist-worker-0", "mnist-worker-1"));
  EXPECT_EQ(Reason(p, kRestarting), "ServerLost");
  EXPECT_THAT(p.status.Find(kRestarting)->message, HasSubstr("spec.checkpoint is not set"));
  EXPECT_THAT(Events(p), ElementsAre("Warning:Restarting"));
  EXPECT_EQ(p.status.restart_count, 0) << "a deletion is no failure";
  v.status = p.status;
  Plan again = Reconcile(v, o, j);
  EXPECT_THAT(Events(again), IsEmpty()) << "said once";
  EXPECT_EQ(Deletes(again).size(), 3u) << "the deletions are redone";
}

// Deleted without a grace period, a server may never be seen terminating: missing from a job
// that ran is a loss too. Missing from a job still starting is a pod not created yet.
TEST(PlannerRecoveryTest, AServerMissingFromARunningJobWithoutCheckpointsRestartsIt) {
  auto j = MakeJob();
  JobView v = RunningView(j);
  OwnedObjects o = Running(j);
  Erase(o, "mnist-ps-0");
  Plan p = Reconcile(v, o, j);
  EXPECT_THAT(Deletes(p), UnorderedElementsAre("mnist-ps-1", "mnist-worker-0", "mnist-worker-1"));
  EXPECT_EQ(Reason(p, kRestarting), "ServerLost");
  EXPECT_THAT(Events(p), ElementsAre("Warning:Restarting"));
  v.status = p.status;
  EXPECT_THAT(Events(Reconcile(v, o, j)), IsEmpty()) << "said once";

  JobView starting = MakeView(j);
  starting.status.start_time = kNow;
  SetCondition(starting.status, kCreated, "True", "PodsCreated", "", kNow, 1);
  Plan q = Reconcile(starting, o, j);
  EXPECT_THAT(Deletes(q), IsEmpty());
  EXPECT_THAT(Creates(q), ElementsAre("Pod/mnist-ps-0"));
  // With checkpoints, a missing server is simply recreated.
  auto c = WithCheckpoints(j);
  JobView ckpt = RunningView(c);
  OwnedObjects co = Running(c);
  Erase(co, "mnist-ps-0");
  Plan r = Reconcile(ckpt, co, c);
  EXPECT_THAT(Deletes(r), IsEmpty());
  EXPECT_THAT(Creates(r), ElementsAre("Pod/mnist-ps-0"));
}

TEST(RecoveryTest, RetryablePerRestartPolicy) {
  EXPECT_FALSE(Retryable(job::RestartPolicy::kNever, 137));
  EXPECT_TRUE(Retryable(job::RestartPolicy::kOnFailure, 2));
  EXPECT_TRUE(Retryable(job::RestartPolicy::kExitCode, 143));
  EXPECT_FALSE(Retryable(job::RestartPolicy::kExitCode, 2));
  EXPECT_TRUE(Retryable(job::RestartPolicy::kExitCode, std::nullopt));
  EXPECT_EQ(RecoveryFor(MakeJob(), job::Role::kWorker), Recovery::kReplacePod);
  EXPECT_EQ(RecoveryFor(MakeJob(), job::Role::kParameterServer), Recovery::kRestartJob);
  EXPECT_EQ(RecoveryFor(WithCheckpoints(MakeJob()), job::Role::kParameterServer),
            Recovery::kReplacePod);
  // With replication a server comes back from its successor's copy, checkpoints or not.
  job::TrainingJob replicated = MakeJob();
  replicated.spec.parameter_servers.replicas = 2;
  replicated.spec.parameter_servers.replication = 1;
  EXPECT_EQ(RecoveryFor(replicated, job::Role::kParameterServer), Recovery::kReplacePod);
  EXPECT_THAT(RecoveryNote(replicated, job::Role::kParameterServer),
              ::testing::HasSubstr("the copy its successor keeps"));
}

// Failover: with replication, a lost server's successor is asked to serve its shard (before
// the lost pod is deleted and, a reconcile later, recreated), at the pod address it runs at.
std::vector<std::string> Takeovers(const Plan& p) {
  std::vector<std::string> out;
  for (const Action& a : p.actions) {
    if (a.type == ActionType::kTakeover) out.push_back(std::to_string(a.server) + "@" + a.endpoint);
  }
  return out;
}

TEST(PlannerRecoveryTest, ALostReplicatedServersSuccessorIsAskedToServeItsShard) {
  job::TrainingJob j = MakeJob(3, 2);
  j.spec.parameter_servers.replication = 1;
  JobView v = RunningView(j);
  OwnedObjects o = Running(j);
  for (PodView& p : o.pods) {
    if (p.role == job::Role::kParameterServer) p.ip = "10.0.0." + std::to_string(p.index + 1);
  }
  SetFailed(o, "mnist-ps-2", 137);  // its successor is ps-0
  Plan failed = Reconcile(v, o, j);
  EXPECT_THAT(Deletes(failed), ElementsAre("mnist-ps-2"));
  EXPECT_THAT(Takeovers(failed), IsEmpty()) << "not before the lost pod is gone";
  // Gone: the successor is asked, and then the new pod created.
  v.status = failed.status;
  Erase(o, "mnist-ps-2");
  Plan recreate = Reconcile(v, o, j);
  EXPECT_THAT(Takeovers(recreate), ElementsAre("2@tcp://10.0.0.1:7070"));
  EXPECT_THAT(Creates(recreate), ElementsAre("Pod/mnist-ps-2"));
  ASSERT_GE(recreate.actions.size(), 2u);
  EXPECT_EQ(recreate.actions[0].type, ActionType::kTakeover);
  EXPECT_EQ(recreate.actions[1].type, ActionType::kCreate);

  // A pod deleted by someone else: not while it terminates (the server may still serve), once
  // it is gone. IPv6 pod addresses are bracketed.
  OwnedObjects deleted = Running(j);
  for (PodView& q : deleted.pods) q.ip = "fd00::" + std::to_string(q.index + 1);
  Find(deleted, "mnist-ps-0").deleting = true;
  JobView fresh = RunningView(j);
  Plan terminating = Reconcile(fresh, deleted, j);
  EXPECT_THAT(Takeovers(terminating), IsEmpty());
  fresh.status = terminating.status;
  Erase(deleted, "mnist-ps-0");
  EXPECT_THAT(Takeovers(Reconcile(fresh, deleted, j)), ElementsAre("0@tcp://[fd00::2]:7070"));

  // Not when the successor is not running at an address: the workers wait for the new pod.
  Find(o, "mnist-ps-0").phase = "Pending";
  EXPECT_THAT(Takeovers(Reconcile(v, o, j)), IsEmpty());
  // Not at the job's start (no server runs yet).
  EXPECT_THAT(Takeovers(Reconcile(MakeView(j), OwnedObjects{})), IsEmpty());
  // Not without replication (a server comes back from its checkpoint; nobody has a copy).
  job::TrainingJob plain = WithCheckpoints(MakeJob(3, 2));
  OwnedObjects q = Running(plain);
  for (PodView& pod : q.pods) pod.ip = "10.0.0.9";
  Erase(q, "mnist-ps-2");
  Plan without = Reconcile(RunningView(plain), q, plain);
  EXPECT_THAT(Creates(without), ElementsAre("Pod/mnist-ps-2"));
  EXPECT_THAT(Takeovers(without), IsEmpty());
  // Not for a worker.
  OwnedObjects w = Running(j);
  for (PodView& pod : w.pods) pod.ip = "10.0.0.9";
  Erase(w, "mnist-worker-1");
  EXPECT_THAT(Takeovers(Reconcile(v, w, j)), IsEmpty());
}

}  // namespace
}  // namespace ringtrain::op
