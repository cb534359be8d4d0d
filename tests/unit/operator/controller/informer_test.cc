// The informer against a scripted KubeClient: each List answers the next scripted list, each
// Watch plays the next scripted stream (events, then how it ends) and records where it
// resumed from. Asserts the cache, the index and the events handed to the handler, through
// ADDED/MODIFIED/DELETED, bookmarks, a watch the server ends, 410 Gone and errors.
#include "ringtrain/operator/informer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../fake_kube_client.h"

namespace ringtrain::op {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

nlohmann::json Pod(const std::string& name, const std::string& rv, const std::string& owner = "") {
  nlohmann::json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"namespace", "ns"}, {"resourceVersion", rv}}}};
  if (!owner.empty()) {
    pod["metadata"]["ownerReferences"] = {{{"uid", owner}, {"controller", true}}};
  }
  return pod;
}

nlohmann::json ListOf(const std::string& rv, const std::vector<nlohmann::json>& items) {
  return {{"metadata", {{"resourceVersion", rv}}}, {"items", items}};
}

kube::WatchEvent Bookmark(const std::string& rv) {
  return {"BOOKMARK", {{"kind", "Pod"}, {"metadata", {{"resourceVersion", rv}}}}};
}

// One scripted watch: the events it streams, then how it ends.
struct WatchScript {
  std::vector<kube::WatchEvent> events;
  Status end;  // OK: the server ended it; OutOfRange: 410 Gone; others: errors
};

// List and Watch from scripts; once the watch scripts run out, a watch stays open (quiet)
// until the informer stops. Every call is recorded.
class ScriptedKubeClient : public testing::FakeKubeClient {
 public:
  void AddList(StatusOr<nlohmann::json> list) {
    std::lock_guard<std::mutex> lock(mu_);
    lists_.push_back(std::move(list));
  }
  void AddWatch(WatchScript script) {
    std::lock_guard<std::mutex> lock(mu_);
    watches_.push_back(std::move(script));
  }

  StatusOr<nlohmann::json> List(const kube::Resource&, const std::string&,
                                const kube::ListOptions& options) override {
    std::lock_guard<std::mutex> lock(mu_);
    list_selectors_.push_back(options.label_selector);
    ++list_calls_;
    cv_.notify_all();
    if (lists_.empty()) return Unavailable("no list scripted");
    StatusOr<nlohmann::json> list = std::move(lists_.front());
    lists_.pop_front();
    return list;
  }

  Status Watch(const kube::Resource&, const std::string&, const kube::WatchOptions& options,
               const std::function<bool(const kube::WatchEvent&)>& on_event,
               const std::atomic<bool>& stop) override {
    WatchScript script;
    bool scripted = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      watched_from_.push_back(options.resource_version);
      bookmarks_asked_ = bookmarks_asked_ && options.allow_bookmarks;
      cv_.notify_all();
      if (!watches_.empty()) {
        script = std::move(watches_.front());
        watches_.pop_front();
        scripted = true;
      }
    }
    if (!scripted) {
      while (!stop) std::this_thread::sleep_for(milliseconds(5));
      return Cancelled("stopped");
    }
    for (const kube::WatchEvent& e : script.events) {
      if (!on_event(e)) return Status::Ok();
    }
    return script.end;
  }

  // Waits until the informer has opened `n` watches (or listed `n` times).
  bool WaitForWatches(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return watched_from_.size() >= n; });
  }
  bool WaitForLists(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return list_calls_ >= n; });
  }
  std::vector<std::string> watched_from() {
    std::lock_guard<std::mutex> lock(mu_);
    return watched_from_;
  }
  std::vector<std::string> list_selectors() {
    std::lock_guard<std::mutex> lock(mu_);
    return list_selectors_;
  }
  int list_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return list_calls_;
  }
  bool bookmarks_asked() {
    std::lock_guard<std::mutex> lock(mu_);
    return bookmarks_asked_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StatusOr<nlohmann::json>> lists_;
  std::deque<WatchScript> watches_;
  std::vector<std::string> watched_from_;
  std::vector<std::string> list_selectors_;
  int list_calls_ = 0;
  bool bookmarks_asked_ = true;
};

// The handler's events as "TYPE name@resourceVersion", in order.
class Recorder {
 public:
  Informer::Handler Handler() {
    return [this](const std::string& type, const ObjectPtr& object) {
      std::lock_guard<std::mutex> lock(mu_);
      const auto& meta = (*object)["metadata"];
      events_.push_back(type + " " + meta.value("name", "") + "@" +
                        meta.value("resourceVersion", ""));
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return events_.size() >= n; });
  }
  std::vector<std::string> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
};

InformerOptions PodOptions() {
  InformerOptions o;
  o.resource = kube::Pods();
  o.ns = "ns";
  o.label_selector = "app=x";
  o.backoff = {milliseconds(1), milliseconds(5)};
  o.index = [](const nlohmann::json& object) {
    const std::string uid = ControllerUid(object);
    return uid.empty() ? std::vector<std::string>{} : std::vector<std::string>{uid};
  };
  return o;
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> out;
  for (const ObjectPtr& o : objects) out.push_back((*o)["metadata"].value("name", ""));
  return out;
}

std::string RvOf(const ObjectPtr& o) {
  return o == nullptr ? "<absent>" : (*o)["metadata"].value("resourceVersion", "");
}

TEST(InformerTest, ListFillsTheCacheAndReportsEveryObjectAsAdded) {
  ScriptedKubeClient client;
  client.AddList(ListOf("10", {Pod("a", "5", "job-1"), Pod("b", "7", "job-2")}));
  Recorder recorder;
  Informer informer(client, PodOptions(), recorder.Handler());
  EXPECT_FALSE(informer.HasSynced());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(milliseconds(10000)));
  ASSERT_TRUE(client.WaitForWatches(1));
  EXPECT_THAT(recorder.events(), UnorderedElementsAre("ADDED a@5", "ADDED b@7"));
  EXPECT_THAT(Names(informer.List()), ElementsAre("a", "b"));
  EXPECT_EQ(RvOf(informer.Get("ns/a")), "5");
  EXPECT_EQ(informer.Get("ns/zzz"), nullptr);
  EXPECT_THAT(Names(informer.ByIndex("job-1")), ElementsAre("a"));
  EXPECT_THAT(Names(informer.ByIndex("job-3")), IsEmpty());
  // The watch starts where the list stood, with the informer's selector and bookmarks.
  EXPECT_THAT(client.watched_from(), ElementsAre("10"));
  EXPECT_THAT(client.list_selectors(), ElementsAre("app=x"));
  EXPECT_TRUE(client.bookmarks_asked());
  const InformerStats stats = informer.stats();
  EXPECT_EQ(stats.lists, 1u);
  EXPECT_EQ(stats.objects, 2u);
  informer.Stop();
}

TEST(InformerTest, WatchEventsUpdateCacheAndIndexBeforeTheHandlerRuns) {
  ScriptedKubeClient client;
  client.AddList(ListOf("10", {Pod("a", "5", "job-1")}));
  client.AddWatch({{{"ADDED", Pod("b", "11", "job-1")},
                    {"MODIFIED", Pod("a", "12", "job-2")},  // re-filed under another owner
                    {"DELETED", Pod("b", "13", "job-1")},
                    {"DELETED", Pod("never-seen", "14")}},  // not cached: not reported
                   Status::Ok()});
  Recorder recorder;
  Informer* self = nullptr;
  std::vector<std::string> seen_in_cache;  // what Get showed when the handler ran
  Informer::Handler handler = recorder.Handler();
  Informer informer(client, PodOptions(), [&](const std::string& type, const ObjectPtr& o) {
    seen_in_cache.push_back(RvOf(self->Get(ObjectKey(*o))));
    handler(type, o);
  });
  self = &informer;
  informer.Start();
  ASSERT_TRUE(recorder.WaitFor(4));
  ASSERT_TRUE(client.WaitForWatches(2));
  informer.Stop();
  EXPECT_THAT(recorder.events(),
              ElementsAre("ADDED a@5", "ADDED b@11", "MODIFIED a@12", "DELETED b@13"));
  // The handler ran after the cache showed the change (for DELETED: the object is gone).
  EXPECT_THAT(seen_in_cache, ElementsAre("5", "11", "12", "<absent>"));
  EXPECT_THAT(Names(informer.List()), ElementsAre("a"));
  EXPECT_THAT(Names(informer.ByIndex("job-1")), IsEmpty());
  EXPECT_THAT(Names(informer.ByIndex("job-2")), ElementsAre("a"));
  EXPECT_EQ(informer.stats().events, 4u);  // 1 from the list, 3 applied (the unknown DELETED not)
}

TEST(InformerTest, WatchResumesFromTheLastBookmarkWithoutReportingIt) {
  ScriptedKubeClient client;
  client.AddList(ListOf("10", {}));
  client.AddWatch({{{"ADDED", Pod("a", "11")}, Bookmark("20")}, Status::Ok()});
  client.AddWatch({{Bookmark("25")}, Status::Ok()});
  Recorder recorder;
  Informer informer(client, PodOptions(), recorder.Handler());
  informer.Start();
  // Each watch the server ended is followed by another from where the stream stood; a
  // bookmark moves the resume point without touching the cache or the handler.
  ASSERT_TRUE(client.WaitForWatches(3));
  informer.Stop();
  EXPECT_THAT(client.watched_from(), ElementsAre("10", "20", "25"));
  EXPECT_THAT(recorder.events(), ElementsAre("ADDED a@11"));
  EXPECT_THAT(Names(informer.List()), ElementsAre("a"));
  EXPECT_EQ(client.list_calls(), 1) << "an ended watch resumes; it does not relist";
  EXPECT_EQ(informer.stats().watches, 3u);
}

TEST(InformerTest, GoneRelistsAndReportsWhatChangedMeanwhileIncludingWhatVanished) {
  ScriptedKubeClient client;
  client.AddList(ListOf("10", {Pod("a", "5"), Pod("b", "6"), Pod("c", "7")}));
  client.AddWatch({{Bookmark("15")}, OutOfRange("watch: HTTP 410 Gone: too old")});
  // While no watch was open: a deleted, b modified, c unchanged, d added.
  client.AddList(ListOf("30", {Pod("b", "21"), Pod("c", "7"), Pod("d", "22")}));
  Recorder recorder;
  Informer informer(client, PodOptions(), recorder.Handler());
  informer.Start();
  ASSERT_TRUE(recorder.WaitFor(6));
  ASSERT_TRUE(client.WaitForWatches(2));
  informer.Stop();
  const std::vector<std::string> events = recorder.events();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_THAT(std::vector<std::string>(events.begin(), events.begin() + 3),
              UnorderedElementsAre("ADDED a@5", "ADDED b@6", "ADDED c@7"));
  // The relist reports the vanished object with its last known state; c, unchanged, is not
  // reported again.
  EXPECT_THAT(std::vector<std::string>(events.begin() + 3, events.end()),
              UnorderedElementsAre("DELETED a@5", "MODIFIED b@21", "ADDED d@22"));
  EXPECT_THAT(Names(informer.List()), ElementsAre("b", "c", "d"));
  // The relist happened at once, and the new watch starts from the new list, not the bookmark.
  EXPECT_THAT(client.watched_from(), ElementsAre("10", "30"));
  const InformerStats stats = informer.stats();
  EXPECT_EQ(stats.gone, 1u);
  EXPECT_EQ(stats.lists, 2u);
  EXPECT_EQ(stats.errors, 0u);
}

TEST(InformerTest, WatchErrorsBackOffAndResumeFromTheLastResourceVersion) {
  ScriptedKubeClient client;
  client.AddList(ListOf("10", {}));
  client.AddWatch({{{"ADDED", Pod("a", "11")}}, Unavailable("connection reset")});
  client.AddWatch({{}, DeadlineExceeded("no answer")});
  Recorder recorder;
  Informer informer(client, PodOptions(), recorder.Handler());
  informer.Start();
  ASSERT_TRUE(client.WaitForWatches(3));
  informer.Stop();
  // Not a relist: the resume point is still good.
  EXPECT_THAT(client.watched_from(), ElementsAre("10", "11", "11"));
  EXPECT_EQ(client.list_calls(), 1);
  EXPECT_EQ(informer.stats().errors, 2u);
  EXPECT_THAT(recorder.events(), ElementsAre("ADDED a@11"));
}

TEST(InformerTest, FailedListIsRetriedAndNotSyncedUntilItSucceeds) {
  ScriptedKubeClient client;
  client.AddList(Unavailable("apiserver down"));
  client.AddList(PermissionDenied("rbac"));
  client.AddList(ListOf("10", {Pod("a", "5")}));
  Recorder recorder;
  Informer informer(client, PodOptions(), recorder.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(milliseconds(10000)));
  ASSERT_TRUE(client.WaitForWatches(1));
  informer.Stop();
  EXPECT_EQ(client.list_calls(), 3);
  EXPECT_EQ(informer.stats().errors, 2u);
  EXPECT_THAT(client.watched_from(), ElementsAre("10"));
  EXPECT_THAT(recorder.events(), ElementsAre("ADDED a@5"));
}

TEST(InformerTest, WaitForSyncTimesOutWhileListingFails) {
  ScriptedKubeClient client;  // no list scripted: every list fails
  Recorder recorder;
  Informer informer(client, PodOptions(), recorder.Handler());
  informer.Start();
  EXPECT_FALSE(informer.WaitForSync(milliseconds(100)));
  EXPECT_FALSE(informer.HasSynced());
  informer.Stop();
  EXPECT_GE(client.list_calls(), 1);
  EXPECT_THAT(recorder.events(), IsEmpty());
}

TEST(InformerTest, KeysAndControllerUids) {
  EXPECT_EQ(ObjectKey(Pod("a", "1")), "ns/a");
  EXPECT_EQ(ObjectKey({{"metadata", {{"name", "cluster-wide"}}}}), "cluster-wide");
  EXPECT_EQ(ObjectKey({{"kind", "Pod"}}), "");
  EXPECT_EQ(ControllerUid(Pod("a", "1", "job-1")), "job-1");
  nlohmann::json not_controller = Pod("a", "1");
  not_controller["metadata"]["ownerReferences"] = {{{"uid", "u"}, {"controller", false}}};
  EXPECT_EQ(ControllerUid(not_controller), "");
  EXPECT_EQ(ControllerUid(Pod("a", "1")), "");
}

}  // namespace
}  // namespace ringtrain::op
