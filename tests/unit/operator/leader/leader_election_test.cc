#include "ringtrain/operator/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "../fake_kube_client.h"

namespace ringtrain::op {
namespace {

using ::testing::HasSubstr;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kPath[] = "/apis/coordination.k8s.io/v1/namespaces/ops/leases/lock";

LeaderElectionOptions Options(const std::string& identity) {
  LeaderElectionOptions o;
  o.lease_namespace = "ops";
  o.lease_name = "lock";
  o.identity = identity;
  return o;  // 15 s / 10 s / 2 s
}

nlohmann::json Lease(const std::string& holder, int64_t transitions, int64_t seconds = 15,
                     const std::string& rv = "7") {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", "lock"}, {"namespace", "ops"}, {"resourceVersion", rv}}},
          {"spec",
           {{"holderIdentity", holder},
            {"leaseDurationSeconds", seconds},
            {"acquireTime", "2026-12-01T18:00:00.000000Z"},
            {"renewTime", "2026-12-01T18:30:00.000000Z"},
            {"leaseTransitions", transitions}}}};
}

// Time that moves only when the elector sleeps (or the test advances it).
class FakeClock final : public ElectionClock {
 public:
  std::atomic<int64_t> now_ms{1'000'000};
  std::atomic<int> sleeps{0};
  std::function<void()> on_sleep;  // runs after each sleep (on the election thread)

  SteadyClock::time_point Now() override { return SteadyClock::time_point(milliseconds(now_ms)); }
  std::chrono::system_clock::time_point WallNow() override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'796'151'600)) +
           milliseconds(now_ms);  // 2026-12-01T19:00:00Z + now
  }
  void Sleep(milliseconds d, const std::atomic<bool>& stop) override {
    if (stop) return;
    now_ms += d.count();
    ++sleeps;
    if (on_sleep) on_sleep();
  }
};

// The fake with the API server's optimistic concurrency: every write bumps
// metadata.resourceVersion, and an Update carrying another one is a 409. Calls are serialized,
// so electors on several threads may share it.
class VersionedFakeClient : public testing::FakeKubeClient {
 public:
  // Runs (under the lock) before each Create/Update; may edit `objects` to simulate a racing
  // writer.
  std::function<void()> before_write;
  Status fail_always;  // if set, every call fails with it

  StatusOr<nlohmann::json> Get(const kube::Resource& r, const std::string& ns,
                               const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_always.ok()) return fail_always;
    return FakeKubeClient::Get(r, ns, name);
  }
  StatusOr<nlohmann::json> Create(const kube::Resource& r, const std::string& ns,
                                  const nlohmann::json& object) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_always.ok()) return fail_always;
    if (before_write) before_write();
    auto created = FakeKubeClient::Create(r, ns, object);
    if (!created.ok()) return created;
    auto& stored = objects[r.ObjectPath(ns, (*created)["metadata"]["name"])];
    stored["metadata"]["resourceVersion"] = std::to_string(++rv_);
    return stored;
  }
  StatusOr<nlohmann::json> Update(const kube::Resource& r, const std::string& ns,
                                  const nlohmann::json& object) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_always.ok()) return fail_always;
    if (before_write) before_write();
    const std::string path = r.ObjectPath(ns, object["metadata"].value("name", ""));
    auto it = objects.find(path);
    if (it == objects.end()) return NotFound(path);
    if (it->second["metadata"].value("resourceVersion", "") !=
        object["metadata"].value("resourceVersion", "")) {
      return Aborted("PUT " + path + ": HTTP 409 Conflict: the object has been modified");
    }
    auto updated = FakeKubeClient::Update(r, ns, object);
    if (!updated.ok()) return updated;
    objects[path]["metadata"]["resourceVersion"] = std::to_string(++rv_);
    return objects[path];
  }
  nlohmann::json Stored() {
    std::lock_guard<std::mutex> lock(mu_);
    return objects.count(kPath) > 0 ? objects[kPath] : nlohmann::json();
  }
  void Store(const nlohmann::json& lease) {
    std::lock_guard<std::mutex> lock(mu_);
    StoreLocked(lease);
  }
  // REQUIRES: called from before_write (the lock is held) or single-threaded.
  void StoreLocked(nlohmann::json lease) {
    lease["metadata"]["resourceVersion"] = std::to_string(++rv_);
    objects[kPath] = std::move(lease);
  }
  int Count(const std::string& verb) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& c : calls) n += c.rfind(verb + " ", 0) == 0 ? 1 : 0;
    return n;
  }

 private:
  std::mutex mu_;
  int rv_ = 100;
};

// --- The pure decision -------------------------------------------------------------------

struct DecisionCase {
  const char* name;
  std::optional<nlohmann::json> lease;
  milliseconds since_change;  // local time since the holder/renewTime last changed
  LeaseAction action;
  int64_t transitions;         // of the lease written (if any)
  milliseconds expires_in{0};  // kWait
};

TEST(DecideLeaseTest, Table) {
  const std::vector<DecisionCase> cases = {
      {"no lease: create", std::nullopt, milliseconds(0), LeaseAction::kCreate, 0},
      {"held by other, fresh: wait", Lease("b", 3), milliseconds(5000), LeaseAction::kWait, 0,
       milliseconds(10000)},
      {"held by other, just seen: wait", Lease("b", 3), milliseconds(0), LeaseAction::kWait, 0,
       milliseconds(15000)},
      {"held by other, 1 ms short of expiry: wait", Lease("b", 3), milliseconds(14999),
       LeaseAction::kWait, 0, milliseconds(1)},
      {"held by other, not renewed for lease_duration: take", Lease("b", 3), milliseconds(15000),
       LeaseAction::kTake, 4},
      {"held by other advertising a longer lease: wait for it", Lease("b", 3, 60),
       milliseconds(20000), LeaseAction::kWait, 0, milliseconds(40000)},
      {"held by self: renew", Lease("a", 3), milliseconds(0), LeaseAction::kRenew, 3},
      {"held by self, stale: still renew", Lease("a", 3), milliseconds(60000), LeaseAction::kRenew,
       3},
      {"released (empty holder): take at once", Lease("", 5, 1), milliseconds(0),
       LeaseAction::kTake, 6},
      {"no spec: take", nlohmann::json{{"metadata", {{"name", "lock"}}}}, milliseconds(0),
       LeaseAction::kTake, 1},
  };
  const auto now = SteadyClock::time_point(std::chrono::hours(100));
  const auto wall = std::chrono::system_clock::time_point(std::chrono::seconds(1'796'151'600));
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const LeaseDecision d = DecideLease({c.lease, now - c.since_change}, Options("a"), now, wall);
    ASSERT_EQ(d.action, c.action);
    if (d.action == LeaseAction::kWait) {
      EXPECT_EQ(d.expires_in, c.expires_in);
      EXPECT_EQ(d.holder, "b");
      continue;
    }
    const LeaseSpec spec = ParseLeaseSpec(d.lease);
    EXPECT_EQ(spec.holder_identity, "a");
    EXPECT_EQ(spec.lease_transitions, c.transitions);
    EXPECT_EQ(spec.lease_duration_seconds, 15);
    EXPECT_EQ(spec.renew_time, "2026-12-01T19:00:00.000000Z");
    EXPECT_EQ(d.lease["metadata"]["name"], "lock");
    if (c.lease.has_value() && (*c.lease)["metadata"].contains("resourceVersion")) {
      EXPECT_EQ(d.lease["metadata"]["resourceVersion"], "7") << "an Update must carry it";
    }
    if (d.action == LeaseAction::kRenew) {
      EXPECT_EQ(spec.acquire_time, "2026-12-01T18:00:00.000000Z") << "renewal keeps acquireTime";
    } else {
      EXPECT_EQ(spec.acquire_time, spec.renew_time);
    }
  }
}

TEST(DecideLeaseTest, CreateNamesTheLease) {
  const LeaseDecision d = DecideLease({std::nullopt, {}}, Options("a"), {}, {});
  EXPECT_EQ(d.lease["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(d.lease["kind"], "Lease");
  EXPECT_EQ(d.lease["metadata"]["namespace"], "ops");
  EXPECT_EQ(d.lease["metadata"]["name"], "lock");
}

TEST(DecideLeaseTest, LeaseSecondsRoundUp) {
  LeaderElectionOptions o = Options("a");
  o.lease_duration = milliseconds(1500);
  EXPECT_EQ(ParseLeaseSpec(DecideLease({std::nullopt, {}}, o, {}, {}).lease).lease_duration_seconds,
            2);
}

TEST(FormatMicroTimeTest, MicrosecondsInUtc) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1'796'151'600)) +
                 std::chrono::microseconds(123);
  EXPECT_EQ(FormatMicroTime(t), "2026-12-01T19:00:00.000123Z");
  EXPECT_EQ(FormatMicroTime(t + milliseconds(1500)), "2026-12-01T19:00:01.500123Z");
}

TEST(ValidateLeaderElectionOptionsTest, Rules) {
  EXPECT_TRUE(ValidateLeaderElectionOptions(Options("a")).ok());
  LeaderElectionOptions o = Options("");
  EXPECT_THAT(ValidateLeaderElectionOptions(o).message(), HasSubstr("identity"));
  o = Options("a");
  o.renew_deadline = o.lease_duration;
  EXPECT_THAT(ValidateLeaderElectionOptions(o).message(), HasSubstr("lease_duration"));
  o = Options("a");
  o.retry_period = o.renew_deadline;
  EXPECT_THAT(ValidateLeaderElectionOptions(o).message(), HasSubstr("renew_deadline"));
}

// --- The elector over the fake -------------------------------------------------------------

struct Fixture {
  explicit Fixture(LeaderElectionOptions options = Options("a")) {
    auto c = std::make_unique<FakeClock>();
    clock = c.get();
    elector = std::make_unique<LeaderElector>(client, std::move(options), std::move(c));
  }
  VersionedFakeClient client;
  FakeClock* clock;
  std::unique_ptr<LeaderElector> elector;
  std::atomic<bool> stop{false};
};

TEST(LeaderElectorTest, AcquireCreatesAMissingLease) {
  Fixture f;
  EXPECT_FALSE(f.elector->IsLeader());
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  EXPECT_TRUE(f.elector->IsLeader());
  EXPECT_EQ(f.elector->Identity(), "a");
  const LeaseSpec spec = ParseLeaseSpec(f.client.Stored());
  EXPECT_EQ(spec.holder_identity, "a");
  EXPECT_EQ(spec.lease_transitions, 0);
  EXPECT_EQ(f.clock->sleeps, 0);
  EXPECT_EQ(f.client.Count("CREATE"), 1);
}

TEST(LeaderElectorTest, AcquireRetriesApiErrors) {
  Fixture f;
  f.client.fail_next = Unavailable("connection refused");
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  EXPECT_EQ(f.clock->sleeps, 1);
  EXPECT_TRUE(f.elector->IsLeader());
}

TEST(LeaderElectorTest, AcquireTakesOverOnlyAfterLeaseDurationOfLocalTime) {
  Fixture f;
  f.client.Store(Lease("b", 2));  // b never renews
  const int64_t start = f.clock->now_ms;
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  const int64_t waited = f.clock->now_ms - start;
  EXPECT_GE(waited, 15000);
  EXPECT_LE(waited, 15000 + 2000);
  const LeaseSpec spec = ParseLeaseSpec(f.client.Stored());
  EXPECT_EQ(spec.holder_identity, "a");
  EXPECT_EQ(spec.lease_transitions, 3);
}

TEST(LeaderElectorTest, AcquireWaitsWhileTheHolderRenewsAndIsCancelledByStop) {
  Fixture f;
  f.client.Store(Lease("b", 0));
  f.clock->on_sleep = [&] {
    nlohmann::json renewed = f.client.Stored();
    renewed["spec"]["renewTime"] = FormatMicroTime(f.clock->WallNow());
    f.client.Store(renewed);
    if (f.clock->sleeps == 30) f.stop = true;  // 60 s: four lease durations
  };
  Status s = f.elector->Acquire(f.stop);
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("held by \"b\""));
  EXPECT_FALSE(f.elector->IsLeader());
  EXPECT_EQ(ParseLeaseSpec(f.client.Stored()).holder_identity, "b");
  EXPECT_EQ(f.client.Count("UPDATE"), 0);
}

TEST(LeaderElectorTest, AcquireLosingTheCreateRaceRereads) {
  Fixture f;
  bool raced = false;
  f.client.before_write = [&] {
    if (raced) return;
    raced = true;
    f.client.StoreLocked(Lease("b", 0));  // b creates it between our GET and CREATE
  };
  f.clock->on_sleep = [&] {
    if (f.clock->sleeps == 3) f.stop = true;
  };
  Status s = f.elector->Acquire(f.stop);
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(ParseLeaseSpec(f.client.Stored()).holder_identity, "b");
  EXPECT_GE(f.client.Count("GET"), 2);
}

TEST(LeaderElectorTest, AcquireLosingTheUpdateRaceDoesNotLead) {
  Fixture f;
  f.client.Store(Lease("", 4, 1));  // released: free to take
  bool raced = false;
  f.client.before_write = [&] {
    if (raced) return;
    raced = true;
    f.client.StoreLocked(Lease("b", 5));  // b takes it first
  };
  f.clock->on_sleep = [&] {
    if (f.clock->sleeps == 2) f.stop = true;
  };
  Status s = f.elector->Acquire(f.stop);
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_FALSE(f.elector->IsLeader());
  EXPECT_EQ(ParseLeaseSpec(f.client.Stored()).holder_identity, "b");
}

TEST(LeaderElectorTest, InvalidOptionsAreReported) {
  LeaderElectionOptions o = Options("a");
  o.lease_name.clear();
  Fixture f(o);
  EXPECT_EQ(f.elector->Acquire(f.stop).code(), StatusCode::kInvalidArgument);
}

TEST(LeaderElectorTest, HoldWithoutAcquireFails) {
  Fixture f;
  EXPECT_EQ(f.elector->Hold(f.stop).code(), StatusCode::kFailedPrecondition);
}

TEST(LeaderElectorTest, HoldRenewsEveryRetryPeriodAndReleasesOnStop) {
  Fixture f;
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  std::vector<std::string> renew_times;
  f.clock->on_sleep = [&] {
    EXPECT_TRUE(f.elector->IsLeader());
    renew_times.push_back(ParseLeaseSpec(f.client.Stored()).renew_time);
    if (f.clock->sleeps == 5) f.stop = true;
  };
  const int64_t start = f.clock->now_ms;
  Status s = f.elector->Hold(f.stop);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(f.clock->now_ms - start, 5 * 2000);
  EXPECT_EQ(f.client.Count("UPDATE"), 4 + 1);                // four renewals, one release
  EXPECT_EQ(renew_times[1], "2026-12-01T19:16:42.000000Z");  // the 1st renewal: start + 2 s
  EXPECT_EQ(renew_times[4], "2026-12-01T19:16:48.000000Z");
  EXPECT_FALSE(f.elector->IsLeader());
  const LeaseSpec released = ParseLeaseSpec(f.client.Stored());
  EXPECT_EQ(released.holder_identity, "");
  EXPECT_EQ(released.lease_duration_seconds, 1);
  EXPECT_EQ(released.lease_transitions, 0);

  // A standby takes the released lease at once.
  VersionedFakeClient& client = f.client;
  auto clock = std::make_unique<FakeClock>();
  FakeClock* standby_clock = clock.get();
  LeaderElector standby(client, Options("b"), std::move(clock));
  std::atomic<bool> stop{false};
  ASSERT_TRUE(standby.Acquire(stop).ok());
  EXPECT_EQ(standby_clock->sleeps, 0);
  EXPECT_EQ(ParseLeaseSpec(f.client.Stored()).lease_transitions, 1);
}

TEST(LeaderElectorTest, HoldWithoutReleaseLeavesTheLeaseToExpire) {
  LeaderElectionOptions o = Options("a");
  o.release_on_stop = false;
  Fixture f(o);
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  f.clock->on_sleep = [&] { f.stop = f.clock->sleeps == 2; };
  ASSERT_TRUE(f.elector->Hold(f.stop).ok());
  EXPECT_FALSE(f.elector->IsLeader());
  EXPECT_EQ(ParseLeaseSpec(f.client.Stored()).holder_identity, "a");
  EXPECT_EQ(f.client.Count("UPDATE"), 1);
}

TEST(LeaderElectorTest, HoldReturnsWhenARenewalConflictShowsAnotherHolder) {
  Fixture f;
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  int writes = 0;
  f.client.before_write = [&] {
    if (++writes == 2) f.client.StoreLocked(Lease("b", 1));  // b took it behind our back
  };
  Status s = f.elector->Hold(f.stop);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("taken over by \"b\""));
  EXPECT_FALSE(f.elector->IsLeader());
  EXPECT_EQ(f.clock->sleeps, 2) << "the conflict is re-read at once";
  EXPECT_EQ(ParseLeaseSpec(f.client.Stored()).holder_identity, "b");
  // Nothing to release: the lease is not ours.
  EXPECT_TRUE(f.elector->Release().ok());
  EXPECT_EQ(ParseLeaseSpec(f.client.Stored()).holder_identity, "b");
}

TEST(LeaderElectorTest, HoldGivesUpAfterRenewDeadlineOfFailures) {
  Fixture f;
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  const int64_t acquired = f.clock->now_ms;
  f.client.fail_always = Unavailable("GET /apis/...: connection refused");
  f.clock->on_sleep = [&] {
    // IsLeader follows the deadline by itself, whatever Hold is doing.
    EXPECT_EQ(f.elector->IsLeader(), f.clock->now_ms - acquired < 10000);
  };
  Status s = f.elector->Hold(f.stop);
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("connection refused"));
  EXPECT_THAT(s.message(), HasSubstr("within 10.000 s"));
  EXPECT_EQ(f.clock->now_ms - acquired, 10000);
  EXPECT_FALSE(f.elector->IsLeader());
}

TEST(LeaderElectorTest, HoldSurvivesTransientErrorsWithinTheDeadline) {
  Fixture f;
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  f.clock->on_sleep = [&] {
    const int n = f.clock->sleeps;
    f.client.fail_always =
        (n >= 2 && n <= 4) ? Unavailable("blip") : Status::Ok();  // 8 s unrenewed
    if (n == 10) f.stop = true;
  };
  Status s = f.elector->Hold(f.stop);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(LeaderElectorTest, IsLeaderTurnsFalseAtTheDeadlineWhileACallHangs) {
  Fixture f;
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  bool checked = false;
  f.client.before_write = [&] {
    if (checked) return;  // the release
    // The renewal's PUT "hangs" past the renew deadline.
    EXPECT_TRUE(f.elector->IsLeader());
    f.clock->now_ms += 10000;
    EXPECT_FALSE(f.elector->IsLeader());
    checked = true;
    f.stop = true;
  };
  ASSERT_TRUE(f.elector->Hold(f.stop).ok());
  EXPECT_TRUE(checked);
}

TEST(LeaderElectorTest, HoldCalledAfterTheRenewDeadlineFailsAtOnce) {
  Fixture f;
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  f.clock->now_ms += 10000;
  const int calls = static_cast<int>(f.client.calls.size());
  EXPECT_EQ(f.elector->Hold(f.stop).code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(static_cast<int>(f.client.calls.size()), calls);
}

TEST(LeaderElectorTest, RepeatedConflictsWaitBetweenRetries) {
  Fixture f;
  ASSERT_TRUE(f.elector->Acquire(f.stop).ok());
  f.client.before_write = [&] {
    // Something else keeps rewriting the Lease (still ours): every PUT is a 409. Without a wait
    // between retries the fake clock would never advance and this would spin for ever.
    nlohmann::json lease = f.client.objects[kPath];
    lease["metadata"]["labels"]["touched"] = std::to_string(f.clock->now_ms);
    f.client.StoreLocked(lease);
  };
  Status s = f.elector->Hold(f.stop);
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("409 Conflict"));
  EXPECT_GE(f.clock->sleeps, 4);
}

// --- Electors as threads, real clock ---------------------------------------------------

LeaderElectionOptions Fast(const std::string& identity) {
  LeaderElectionOptions o = Options(identity);
  o.lease_duration = milliseconds(600);
  o.renew_deadline = milliseconds(400);
  o.retry_period = milliseconds(20);
  return o;
}

class Candidate {
 public:
  Candidate(kube::KubeClient& client, LeaderElectionOptions options)
      : elector_(client, std::move(options)), thread_([this] { Run(); }) {}
  ~Candidate() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  LeaderElector& elector() { return elector_; }
  Status acquired;
  Status held;

 private:
  void Run() {
    acquired = elector_.Acquire(stop_);
    if (acquired.ok()) held = elector_.Hold(stop_);
  }
  std::atomic<bool> stop_{false};
  LeaderElector elector_;
  std::thread thread_;
};

bool WaitFor(milliseconds timeout, const std::function<bool()>& condition) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return condition();
}

TEST(LeaderElectorThreadsTest, TwoCandidatesNeverBothLeadAndHandOver) {
  VersionedFakeClient client;
  auto a = std::make_unique<Candidate>(client, Fast("a"));
  auto b = std::make_unique<Candidate>(client, Fast("b"));
  ASSERT_TRUE(WaitFor(milliseconds(5000),
                      [&] { return a->elector().IsLeader() || b->elector().IsLeader(); }));
  const auto until = SteadyClock::now() + milliseconds(500);
  while (SteadyClock::now() < until) {
    ASSERT_FALSE(a->elector().IsLeader() && b->elector().IsLeader());
  }
  auto& leader = a->elector().IsLeader() ? a : b;
  auto& standby = a->elector().IsLeader() ? b : a;
  const auto stopped = SteadyClock::now();
  leader->Stop();  // releases
  EXPECT_TRUE(leader->held.ok()) << leader->held.ToString();
  ASSERT_TRUE(WaitFor(milliseconds(5000), [&] { return standby->elector().IsLeader(); }));
  EXPECT_LT(SteadyClock::now() - stopped, milliseconds(400)) << "well before lease_duration";
  EXPECT_EQ(ParseLeaseSpec(client.Stored()).lease_transitions, 1);
}

TEST(LeaderElectorThreadsTest, StopCancelsAcquirePromptly) {
  VersionedFakeClient client;
  client.Store(Lease("someone-else", 0, 3600));
  Candidate c(client, Fast("a"));
  ASSERT_TRUE(WaitFor(milliseconds(5000), [&] { return client.Count("GET") >= 2; }));
  const auto stopped = SteadyClock::now();
  c.Stop();
  EXPECT_LT(SteadyClock::now() - stopped, milliseconds(200));
  EXPECT_EQ(c.acquired.code(), StatusCode::kCancelled) << c.acquired.ToString();
}

}  // namespace
}  // namespace ringtrain::op
