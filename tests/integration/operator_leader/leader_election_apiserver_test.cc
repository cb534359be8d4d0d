// LeaderElector against a real kube-apiserver + etcd, started once for this executable by
// tests/controlplane/start.sh (binaries from tests/controlplane/build.sh). Each test works in a
// namespace of its own; candidates run as threads, each with a RestClient of its own (its own
// connection pool), with short timings: lease 2 s, renew deadline 1.5 s, retry 200 ms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "ringtrain/operator/kube/kubeconfig.h"
#include "ringtrain/operator/kube/rest_client.h"
#include "ringtrain/operator/leader_election.h"

namespace ringtrain::op {
namespace {

using kube::RestClient;
using ::testing::HasSubstr;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const kube::Resource kNamespaces{"", "v1", "namespaces", false};
constexpr char kControlPlaneDir[] = RINGTRAIN_SOURCE_DIR "/tests/controlplane";
constexpr char kLease[] = "ringtrain-operator";
constexpr milliseconds kLeaseDuration{2000};
constexpr milliseconds kRenewDeadline{1500};
constexpr milliseconds kRetryPeriod{200};

std::string Tail(const std::string& path, size_t max_lines = 40) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

int RunScript(const std::string& script, const std::string& args, const std::string& log) {
  const std::string command =
      "bash " + std::string(kControlPlaneDir) + "/" + script + " " + args + " >>" + log + " 2>&1";
  return std::system(command.c_str());
}

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
    char tmpl[] = "/tmp/ringtrain-leader-it.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      setup_error_ = new std::string("mkdtemp failed");
      return;
    }
    dir_ = new std::string(tmpl);
    const std::string log = *dir_ + "/controlplane.out";
    // If this process dies without TearDownTestSuite (a crash, a sanitizer abort), a detached
    // guard stops the control plane it started and removes its directory.
    const std::string guard = "pid=" + std::to_string(::getpid()) +
                              "; while kill -0 $pid 2>/dev/null; do sleep 1; done; bash " +
                              kControlPlaneDir + "/stop.sh " + *dir_ + " && rm -rf " + *dir_;
    [[maybe_unused]] const int detached =
        std::system(("setsid bash -c '" + guard + "' </dev/null >/dev/null 2>&1 &").c_str());
    const auto start = SteadyClock::now();
    if (RunScript("start.sh", *dir_, log) != 0) {
      setup_error_ = new std::string(
          "the control plane did not start (tests/controlplane/start.sh " + *dir_ +
          "); build its binaries with tests/controlplane/build.sh. Output:\n" + Tail(log));
      return;
    }
    std::fprintf(stderr, "control plane started in %.1f s\n", Seconds(SteadyClock::now() - start));
    auto admin = MakeClient(std::chrono::seconds(20));
    if (!admin.ok()) {
      setup_error_ = new std::string(admin.status().ToString());
      return;
    }
    admin_ = std::move(admin).value().release();
  }

  static void TearDownTestSuite() {
    delete admin_;
    admin_ = nullptr;
    if (dir_ != nullptr) {
      const int rc = RunScript("stop.sh", *dir_, *dir_ + "/controlplane.out");
      if (rc == 0) {
        std::error_code ec;
        std::filesystem::remove_all(*dir_, ec);
      } else {
        std::fprintf(stderr, "stop.sh %s failed; left it in place\n", dir_->c_str());
      }
    }
    delete dir_;
    dir_ = nullptr;
    delete setup_error_;
    setup_error_ = nullptr;
  }

  static StatusOr<std::unique_ptr<RestClient>> MakeClient(std::chrono::seconds timeout) {
    auto config = kube::LoadKubeconfig(*dir_ + "/kubeconfig");
    if (!config.ok()) return config.status().WithContext("kubeconfig");
    kube::ClientOptions options;
    options.request_timeout = timeout;  // candidates: 1 s, below the renew deadline
    options.user_agent = "ringtrain-leader-integration-test";
    return RestClient::Make(*config, options);
  }

  void SetUp() override {
    if (setup_error_ != nullptr) GTEST_FAIL() << *setup_error_;
    std::string name = "t-";
    for (char c : std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
      name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    ns_ = name.substr(0, 63);
    auto created = admin_->Create(kNamespaces, "", {{"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void TearDown() override {
    EXPECT_EQ(both_leading_, 0) << "two candidates led at once " << both_leading_ << " times";
  }

  std::unique_ptr<Candidate> Start(const std::string& identity, bool release_on_stop = true) {
    auto client = MakeClient(std::chrono::seconds(1));
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

  static std::string* dir_;
  static std::string* setup_error_;
  static RestClient* admin_;
  std::string ns_;
  int both_leading_ = 0;
};

std::string* LeaderElectionApiServerTest::dir_ = nullptr;
std::string* LeaderElectionApiServerTest::setup_error_ = nullptr;
RestClient* LeaderElectionApiServerTest::admin_ = nullptr;

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
  for (int i = 0; i < 10 && written.status().code() == StatusCode::kFailedPrecondition; ++i) {
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
