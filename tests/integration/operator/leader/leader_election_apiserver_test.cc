// LeaderElector against a real kube-apiserver + etcd, started once for this executable by
// testing::ControlPlane (tests/support/controlplane; binaries from tests/controlplane/build.sh).
// Each test works in a namespace of its own; candidates run as threads, each with a RestClient
// of its own (its own connection pool), with short timings: lease 2 s, renew deadline 1.5 s,
// retry 200 ms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "control_plane.h"
#include "ringtrain/operator/kube/rest_client.h"
#include "ringtrain/operator/leader_election.h"

namespace ringtrain::op {
namespace {

using kube::RestClient;
using ::testing::HasSubstr;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kLease[] = "ringtrain-operator";
constexpr milliseconds kLeaseDuration{2000};
constexpr milliseconds kRenewDeadline{1500};
constexpr milliseconds kRetryPeriod{200};

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

// One replica of the operator: a thread that runs Acquire then Hold until stopped.
class Candidate {
 public:
  Candidate(std::unique_ptr<RestClient> client, LeaderElectionOptions options)
      : client_(std::move(client)),
        elector_(*client_, std::move(options)),
        thread_([this] { Run(); }) {}
  ~Candidate() { Stop(); }
  Candidate(const Candidate&) = delete;
  Candidate& operator=(const Candidate&) = delete;

  // Stops the thread (releasing the lease if the options say so) and waits for it.
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool IsLeader() const { return elector_.IsLeader(); }
  std::string Identity() const { return elector_.Identity(); }
  // Valid after Stop.
  const Status& acquired() const { return acquired_; }
  const Status& held() const { return held_; }
  // Whether the thread has returned (Hold lost the lease, or stopped).
  bool Done() const { return done_; }

 private:
  void Run() {
    acquired_ = elector_.Acquire(stop_);
    if (acquired_.ok()) held_ = elector_.Hold(stop_);
    done_ = true;
  }

  std::unique_ptr<RestClient> client_;  // outlives the thread's calls: Stop joins first
  LeaderElector elector_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  Status acquired_;
  Status held_;
  std::thread thread_;
};

class LeaderElectionApiServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shared_ = testing::SharedControlPlane::Start(Options(std::chrono::seconds(20))).release();
  }

  static void TearDownTestSuite() {
    delete shared_;  // stops the control plane and removes its directory
    shared_ = nullptr;
  }

  static kube::ClientOptions Options(std::chrono::seconds timeout) {
    kube::ClientOptions options;
    options.request_timeout = timeout;  // candidates: 1 s, below the renew deadline
    options.user_agent = "ringtrain-leader-integration-test";
    return options;
  }

  void SetUp() override {
    if (!shared_->error.empty()) GTEST_FAIL() << shared_->error;
    auto ns = testing::CreateTestNamespace(
        *admin_, "t-", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    ns_ = *ns;
  }

  void TearDown() override {
    EXPECT_EQ(both_leading_, 0) << "two candidates led at once " << both_leading_ << " times";
  }

  std::unique_ptr<Candidate> Start(const std::string& identity, bool release_on_stop = true) {
    auto client = cp_->Client(Options(std::chrono::seconds(1)));
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    if (!client.ok()) return nullptr;
    LeaderElectionOptions o;
    o.lease_namespace = ns_;
    o.lease_name = kLease;
    o.identity = identity;
    o.lease_duration = kLeaseDuration;
    o.renew_deadline = kRenewDeadline;
    o.retry_period = kRetryPeriod;
    o.release_on_stop = release_on_stop;
    return std::make_unique<Candidate>(std::move(client).value(), o);
  }

  // Polls `condition` every millisecond for up to `timeout`, checking all along that no two of
  // `candidates` lead at once (counted in both_leading_). Returns whether `condition` held.
  bool WaitFor(const std::vector<Candidate*>& candidates, milliseconds timeout,
               const std::function<bool()>& condition) {
    const auto deadline = SteadyClock::now() + timeout;
    while (true) {
      CheckNotBoth(candidates);
      if (condition()) return true;
      if (SteadyClock::now() >= deadline) return false;
      std::this_thread::sleep_for(milliseconds(1));
    }
  }

  // Polls for `duration`; false if `condition` ever failed.
  bool HoldsFor(const std::vector<Candidate*>& candidates, milliseconds duration,
                const std::function<bool()>& condition) {
    return !WaitFor(candidates, duration, [&] { return !condition(); });
  }

  void CheckNotBoth(const std::vector<Candidate*>& candidates) {
    for (size_t i = 0; i < candidates.size(); ++i) {
      for (size_t j = i + 1; j < candidates.size(); ++j) {
        // i before and after j: a handover between two reads is not mistaken for overlap.
        const bool i_before = candidates[i]->IsLeader();
        const bool j_leads = candidates[j]->IsLeader();
        const bool i_after = candidates[i]->IsLeader();
        if (i_before && j_leads && i_after) ++both_leading_;
      }
    }
  }

  LeaseSpec ReadLease() {
    auto got = admin_->Get(kube::Leases(), ns_, kLease);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? ParseLeaseSpec(*got) : LeaseSpec{};
  }

  static testing::SharedControlPlane* shared_;
  testing::ControlPlane* cp_ = shared_->cp.get();
  RestClient* admin_ = shared_->client.get();
  std::string ns_;
  int both_leading_ = 0;
};

testing::SharedControlPlane* LeaderElectionApiServerTest::shared_ = nullptr;

TEST_F(LeaderElectionApiServerTest, TwoCandidatesNeverBothLead) {
  auto a = Start("candidate-a");
  auto b = Start("candidate-b");
  ASSERT_TRUE(a && b);
  const std::vector<Candidate*> all = {a.get(), b.get()};
  ASSERT_TRUE(WaitFor(all, milliseconds(10000), [&] { return a->IsLeader() || b->IsLeader(); }));
  Candidate* leader = a->IsLeader() ? a.get() : b.get();
  // Many renewals (every 200 ms) later the same candidate leads and the other waits.
  EXPECT_TRUE(HoldsFor(all, milliseconds(4000), [&] { return leader->IsLeader(); }));
  const LeaseSpec spec = ReadLease();
  EXPECT_EQ(spec.holder_identity, leader->Identity());
  EXPECT_EQ(spec.lease_transitions, 0);
  EXPECT_EQ(spec.lease_duration_seconds, 2);
  EXPECT_FALSE(spec.acquire_time.empty());
  EXPECT_GT(spec.renew_time, spec.acquire_time);
}

TEST_F(LeaderElectionApiServerTest, ReleasedLeaseIsTakenAtOnce) {
  auto a = Start("candidate-a");
  auto b = Start("candidate-b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(WaitFor({a.get(), b.get()}, milliseconds(10000),
                      [&] { return a->IsLeader() || b->IsLeader(); }));
  if (!a->IsLeader()) std::swap(a, b);  // a leads
  ASSERT_TRUE(HoldsFor({a.get(), b.get()}, milliseconds(500), [&] { return a->IsLeader(); }));

  const auto stopped = SteadyClock::now();
  a->Stop();  // releases
  EXPECT_TRUE(a->held().ok()) << a->held().ToString();
  ASSERT_TRUE(WaitFor({a.get(), b.get()}, milliseconds(5000), [&] { return b->IsLeader(); }));
  const double took = Seconds(SteadyClock::now() - stopped);
  std::fprintf(stderr, "released lease taken after %.3f s\n", took);
  EXPECT_LT(took, 1.0);
  LeaseSpec spec = ReadLease();
  EXPECT_EQ(spec.holder_identity, b->Identity());
  EXPECT_EQ(spec.lease_transitions, 1);

  // A new replica waits; b hands over to it in turn.
  auto c = Start("candidate-c");
  ASSERT_TRUE(c);
  EXPECT_TRUE(HoldsFor({b.get(), c.get()}, milliseconds(1000),
                       [&] { return b->IsLeader() && !c->IsLeader(); }));
  b->Stop();
  ASSERT_TRUE(WaitFor({b.get(), c.get()}, milliseconds(5000), [&] { return c->IsLeader(); }));
  spec = ReadLease();
  EXPECT_EQ(spec.holder_identity, c->Identity());
  EXPECT_EQ(spec.lease_transitions, 2);
}

TEST_F(LeaderElectionApiServerTest, CrashedLeaderIsTakenOverAfterTheLeaseDuration) {
  auto a = Start("candidate-a", /*release_on_stop=*/false);
  auto b = Start("candidate-b", /*release_on_stop=*/false);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(WaitFor({a.get(), b.get()}, milliseconds(10000),
                      [&] { return a->IsLeader() || b->IsLeader(); }));
  if (!a->IsLeader()) std::swap(a, b);
  ASSERT_TRUE(HoldsFor({a.get(), b.get()}, milliseconds(500), [&] { return a->IsLeader(); }));

  const auto stopped = SteadyClock::now();
  a->Stop();  // stops renewing and leaves the lease as it is: a crash, to the others
  EXPECT_TRUE(a->held().ok()) << a->held().ToString();
  EXPECT_EQ(ReadLease().holder_identity, a->Identity());
  ASSERT_TRUE(WaitFor({a.get(), b.get()}, kLeaseDuration + milliseconds(5000),
                      [&] { return b->IsLeader(); }));
  const auto took = SteadyClock::now() - stopped;
  std::fprintf(stderr, "expired lease taken after %.3f s\n", Seconds(took));
  // b saw a's last renewal at most one retry period (plus a request) before a stopped, and may
  // take over only lease_duration after it saw it.
  EXPECT_GE(took, kLeaseDuration - kRetryPeriod - milliseconds(100));
  EXPECT_LE(took, kLeaseDuration + milliseconds(2000));
  const LeaseSpec spec = ReadLease();
  EXPECT_EQ(spec.holder_identity, b->Identity());
  EXPECT_EQ(spec.lease_transitions, 1);
}

TEST_F(LeaderElectionApiServerTest, LeaderStepsDownWhenAnotherHolderTakesTheLease) {
  auto a = Start("candidate-a");
  ASSERT_TRUE(a);
  ASSERT_TRUE(WaitFor({a.get()}, milliseconds(10000), [&] { return a->IsLeader(); }));
  // Someone else overwrites the Lease (e.g. a replica with a longer lease judged it expired).
  auto got = admin_->Get(kube::Leases(), ns_, kLease);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  nlohmann::json lease = *got;
  lease["spec"]["holderIdentity"] = "intruder";
  lease["spec"]["leaseTransitions"] = 1;
  StatusOr<nlohmann::json> written = admin_->Update(kube::Leases(), ns_, lease);
  // a may renew in between; then retry on the fresh version.
  for (int i = 0; i < 10 && written.status().code() == StatusCode::kAborted; ++i) {
    got = admin_->Get(kube::Leases(), ns_, kLease);
    ASSERT_TRUE(got.ok());
    lease = *got;
    lease["spec"]["holderIdentity"] = "intruder";
    written = admin_->Update(kube::Leases(), ns_, lease);
  }
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  const auto taken = SteadyClock::now();
  ASSERT_TRUE(WaitFor({a.get()}, milliseconds(5000), [&] { return a->Done(); }));
  std::fprintf(stderr, "leader stepped down after %.3f s\n", Seconds(SteadyClock::now() - taken));
  EXPECT_FALSE(a->IsLeader());
  a->Stop();
  EXPECT_EQ(a->held().code(), StatusCode::kFailedPrecondition) << a->held().ToString();
  EXPECT_THAT(a->held().message(), HasSubstr("\"intruder\""));
  EXPECT_EQ(ReadLease().holder_identity, "intruder") << "a stepped down without writing";
}

}  // namespace
}  // namespace ringtrain::op
