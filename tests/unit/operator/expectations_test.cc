// Expectations against a scripted cache and a fake clock: what a reconcile waits for after
// its own writes, when it may plan again, and when it gives up.
#include "ringtrain/operator/expectations.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace ringtrain::op {
namespace {

using std::chrono::milliseconds;
using Verdict = Expectations::Verdict;

// What the caches show, by "plural/uid"; kinds not in `tracked` are untracked.
struct FakeCache {
  std::map<std::string, Cached> objects;
  std::vector<std::string> tracked = {"pods", "services", "configmaps"};
  std::vector<std::string> asked_for_jobs;  // the job UIDs the lookups named

  Expectations::Lookup lookup() {
    return [this](const std::string& job_uid, const ObjectRef& ref) {
      asked_for_jobs.push_back(job_uid);
      if (std::find(tracked.begin(), tracked.end(), ref.plural) == tracked.end()) {
        return Cached::kUntracked;
      }
      auto it = objects.find(ref.plural + "/" + ref.uid);
      return it == objects.end() ? Cached::kAbsent : it->second;
    };
  }
};

struct Fixture {
  std::chrono::steady_clock::time_point now{};
  Expectations expectations{milliseconds(30000), [this] { return now; }};
  FakeCache cache;
};

TEST(ExpectationsTest, NothingExpectedProceeds) {
  Fixture f;
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kProceed);
  EXPECT_TRUE(f.cache.asked_for_jobs.empty());
}

TEST(ExpectationsTest, StatusWriteIsMetOnceTheCachedJobMovedPastTheVersion) {
  Fixture f;
  f.expectations.Expect("ns/a", {"uid-a", "5", {}, {}});
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kWait);
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kWait)
      << "waiting does not forget";
  EXPECT_EQ(f.expectations.size(), 1u);
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "6", f.cache.lookup()), Verdict::kProceed);
  EXPECT_EQ(f.expectations.size(), 0u) << "met: forgotten";
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kProceed);
}

TEST(ExpectationsTest, CreatedObjectsMustBeCached) {
  Fixture f;
  f.expectations.Expect("ns/a", {"uid-a", "", {{"pods", "p1"}, {"services", "s1"}}, {}});
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kWait);
  f.cache.objects["pods/p1"] = Cached::kPresent;
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kWait)
      << "one of two created objects cached";
  f.cache.objects["services/s1"] = Cached::kDeleting;  // seen (already on its way out)
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kProceed);
  for (const std::string& uid : f.cache.asked_for_jobs) EXPECT_EQ(uid, "uid-a");
}

TEST(ExpectationsTest, DeletedObjectsMustBeGoneOrBeingDeleted) {
  Fixture f;
  f.cache.objects["pods/p1"] = Cached::kPresent;
  f.cache.objects["pods/p2"] = Cached::kPresent;
  f.expectations.Expect("ns/a", {"uid-a", "", {}, {{"pods", "p1"}, {"pods", "p2"}}});
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kWait);
  f.cache.objects["pods/p1"] = Cached::kDeleting;
  f.cache.objects.erase("pods/p2");
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kProceed);
}

TEST(ExpectationsTest, ObjectsOfUntrackedKindsAreNotWaitedFor) {
  Fixture f;
  f.expectations.Expect("ns/a", {"uid-a", "", {{"events", "e1"}}, {{"trainingjobs", "uid-a"}}});
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kProceed);
}

TEST(ExpectationsTest, AnExpectationOfAnEarlierJobOfTheSameNameIsDropped) {
  Fixture f;
  f.expectations.Expect("ns/a", {"uid-old", "5", {{"pods", "p1"}}, {}});
  // The job was deleted and re-created: the new one (another UID) is not held up.
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-new", "5", f.cache.lookup()), Verdict::kProceed);
  EXPECT_EQ(f.expectations.size(), 0u);
  EXPECT_TRUE(f.cache.asked_for_jobs.empty());
}

TEST(ExpectationsTest, ExpiresAfterTheTimeoutFromWhenItWasRecorded) {
  Fixture f;
  f.now += milliseconds(1000);
  f.expectations.Expect("ns/a", {"uid-a", "5", {}, {}});
  f.now += milliseconds(29999);
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kWait);
  f.now += milliseconds(1);
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kExpired);
  EXPECT_EQ(f.expectations.size(), 0u) << "expired: forgotten";
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kProceed);
}

TEST(ExpectationsTest, ANewExpectationReplacesTheOldAndRestartsItsTimer) {
  Fixture f;
  f.expectations.Expect("ns/a", {"uid-a", "5", {}, {}});
  f.now += milliseconds(20000);
  f.expectations.Expect("ns/a", {"uid-a", "7", {}, {}});
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "6", f.cache.lookup()), Verdict::kProceed)
      << "the old version 5 is no longer what is waited for";
  f.expectations.Expect("ns/a", {"uid-a", "7", {}, {}});
  f.now += milliseconds(20000);
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "7", f.cache.lookup()), Verdict::kWait);
}

TEST(ExpectationsTest, KeysAreIndependentAndForgetDropsOne) {
  Fixture f;
  f.expectations.Expect("ns/a", {"uid-a", "5", {}, {}});
  f.expectations.Expect("ns/b", {"uid-b", "9", {}, {}});
  f.expectations.Forget("ns/a");
  EXPECT_EQ(f.expectations.Check("ns/a", "uid-a", "5", f.cache.lookup()), Verdict::kProceed);
  EXPECT_EQ(f.expectations.Check("ns/b", "uid-b", "9", f.cache.lookup()), Verdict::kWait);
  f.expectations.Forget("ns/unknown");  // harmless
  EXPECT_EQ(f.expectations.size(), 1u);
}

}  // namespace
}  // namespace ringtrain::op
