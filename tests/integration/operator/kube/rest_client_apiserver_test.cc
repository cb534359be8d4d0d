// RestClient against a real kube-apiserver + etcd, started once for this executable by
// testing::ControlPlane (tests/support/controlplane; binaries from tests/controlplane/build.sh).
// Each test works in a namespace of its own. If the control plane cannot start, every test fails
// and says why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>

#include "control_plane.h"
#include "ringtrain/operator/kube/kubeconfig.h"
#include "ringtrain/operator/kube/rest_client.h"

namespace ringtrain::op::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using SteadyClock = std::chrono::steady_clock;

class ApiServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ClientOptions options;
    options.request_timeout = std::chrono::seconds(20);
    options.watch_read_timeout = std::chrono::seconds(90);
    options.user_agent = "ringtrain-kube-integration-test";
    shared_ = testing::SharedControlPlane::Start(options).release();
  }

  static void TearDownTestSuite() {
    delete shared_;  // stops the control plane and removes its directory
    shared_ = nullptr;
  }

  void SetUp() override {
    if (!shared_->error.empty()) GTEST_FAIL() << shared_->error;
    // A namespace per test: "t-<test name in lower case>".
    auto ns = testing::CreateTestNamespace(
        *client_, "t-", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    ns_ = *ns;
  }

  static nlohmann::json ConfigMap(const std::string& name,
                                  const nlohmann::json& data = nlohmann::json::object(),
                                  const nlohmann::json& labels = nlohmann::json::object()) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"labels", labels}}},
            {"data", data}};
  }

  // The resourceVersion of the namespace's ConfigMap collection now.
  std::string CollectionVersion() {
    auto list = client_->List(ConfigMaps(), ns_, ListOptions{});
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? (*list)["metadata"]["resourceVersion"].get<std::string>() : "";
  }

  static testing::SharedControlPlane* shared_;
  testing::ControlPlane* cp_ = shared_->cp.get();
  RestClient* client_ = shared_->client.get();
  std::string ns_;
};

testing::SharedControlPlane* ApiServerTest::shared_ = nullptr;

// Ends a background watch however the test leaves its scope (an ASSERT may return early).
class WatchThread {
 public:
  WatchThread(std::atomic<bool>& stop, std::function<void()> body)
      : stop_(stop), thread_(std::move(body)) {}
  ~WatchThread() {
    stop_ = true;
    Join();
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool>& stop_;
  std::thread thread_;
};

std::string Rv(const nlohmann::json& object) {
  return object["metadata"]["resourceVersion"].get<std::string>();
}

TEST_F(ApiServerTest, CreateGetDeleteConfigMap) {
  auto created = client_->Create(ConfigMaps(), ns_, ConfigMap("a", {{"k", "v"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE((*created)["metadata"]["uid"].get<std::string>().empty());

  auto got = client_->Get(ConfigMaps(), ns_, "a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["data"]["k"], "v");
  EXPECT_EQ((*got)["metadata"]["namespace"], ns_);

  auto again = client_->Create(ConfigMaps(), ns_, ConfigMap("a"));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();
  EXPECT_THAT(again.status().message(), HasSubstr("already exists"));

  ASSERT_TRUE(client_->Delete(ConfigMaps(), ns_, "a").ok());
  auto gone = client_->Get(ConfigMaps(), ns_, "a");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(gone.status().message(), HasSubstr("GET /api/v1/namespaces/" + ns_ +
                                                 "/configmaps/a: HTTP 404 NotFound: "
                                                 "configmaps \"a\" not found"));
  Status twice = client_->Delete(ConfigMaps(), ns_, "a");
  EXPECT_EQ(twice.code(), StatusCode::kNotFound) << twice.ToString();
}

TEST_F(ApiServerTest, ListWithLimitFollowsContinue) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client_
                    ->Create(ConfigMaps(), ns_,
                             ConfigMap("cm-" + std::to_string(i), {}, {{"set", "listed"}}))
                    .ok());
  }
  ASSERT_TRUE(client_->Create(ConfigMaps(), ns_, ConfigMap("other", {}, {{"set", "no"}})).ok());
  ListOptions options;
  options.label_selector = "set=listed";
  options.limit = 2;  // three pages
  auto list = client_->List(ConfigMaps(), ns_, options);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> names;
  for (const auto& item : (*list)["items"]) names.push_back(item["metadata"]["name"]);
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("cm-0", "cm-1", "cm-2", "cm-3", "cm-4"));
  EXPECT_FALSE((*list)["metadata"]["resourceVersion"].get<std::string>().empty());
  EXPECT_FALSE((*list)["metadata"].contains("continue"));

  auto all = client_->List(ConfigMaps(), ns_, ListOptions{});
  ASSERT_TRUE(all.ok());
  // kube-root-ca.crt is published only by the controller manager, which is not running.
  EXPECT_EQ((*all)["items"].size(), 6u);

  auto across = client_->List(ConfigMaps(), "", options);  // all namespaces
  ASSERT_TRUE(across.ok()) << across.status().ToString();
  EXPECT_EQ((*across)["items"].size(), 5u);
}

TEST_F(ApiServerTest, MergeJsonAndStrategicPatches) {
  ASSERT_TRUE(client_->Create(ConfigMaps(), ns_, ConfigMap("p", {{"a", "1"}, {"b", "2"}})).ok());
  auto merged = client_->Patch(ConfigMaps(), ns_, "p", PatchType::kMerge,
                               {{"data", {{"a", "10"}, {"b", nullptr}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ((*merged)["data"], (nlohmann::json{{"a", "10"}}));

  auto json_patched = client_->Patch(
      ConfigMaps(), ns_, "p", PatchType::kJson,
      nlohmann::json::array({{{"op", "add"}, {"path", "/data/c"}, {"value", "3"}},
                             {{"op", "test"}, {"path", "/data/a"}, {"value", "10"}}}));
  ASSERT_TRUE(json_patched.ok()) << json_patched.status().ToString();
  EXPECT_EQ((*json_patched)["data"], (nlohmann::json{{"a", "10"}, {"c", "3"}}));

  auto failed_test = client_->Patch(
      ConfigMaps(), ns_, "p", PatchType::kJson,
      nlohmann::json::array({{{"op", "test"}, {"path", "/data/a"}, {"value", "wrong"}}}));
  EXPECT_FALSE(failed_test.ok());

  auto strategic = client_->Patch(ConfigMaps(), ns_, "p", PatchType::kStrategicMerge,
                                  {{"metadata", {{"labels", {{"x", "y"}}}}}});
  ASSERT_TRUE(strategic.ok()) << strategic.status().ToString();
  EXPECT_EQ((*strategic)["metadata"]["labels"]["x"], "y");

  auto missing = client_->Patch(ConfigMaps(), ns_, "nope", PatchType::kMerge, {{"data", {}}});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(ApiServerTest, UpdateWithStaleResourceVersionConflicts) {
  auto created = client_->Create(ConfigMaps(), ns_, ConfigMap("u", {{"v", "0"}}));
  ASSERT_TRUE(created.ok());
  nlohmann::json first = *created;
  first["data"]["v"] = "1";
  auto updated = client_->Update(ConfigMaps(), ns_, first);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_NE(Rv(*updated), Rv(*created));

  nlohmann::json stale = *created;  // still carries the old resourceVersion
  stale["data"]["v"] = "2";
  auto conflict = client_->Update(ConfigMaps(), ns_, stale);
  EXPECT_EQ(conflict.status().code(), StatusCode::kAborted) << conflict.status().ToString();
  EXPECT_THAT(conflict.status().message(), HasSubstr("HTTP 409 Conflict"));
  EXPECT_THAT(conflict.status().message(), HasSubstr("the object has been modified"));

  auto now = client_->Get(ConfigMaps(), ns_, "u");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ((*now)["data"]["v"], "1");
}

TEST_F(ApiServerTest, PodStatusSubresource) {
  const nlohmann::json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", "worker-0"}}},
      {"spec", {{"containers", {{{"name", "main"}, {"image", "ringtrain/runtime:test"}}}}}}};
  auto created = client_->Create(Pods(), ns_, pod);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["status"]["phase"], "Pending");

  // The main resource ignores status changes; the subresource takes them.
  auto ignored = client_->Patch(Pods(), ns_, "worker-0", PatchType::kMerge,
                                {{"status", {{"phase", "Failed"}}}});
  ASSERT_TRUE(ignored.ok()) << ignored.status().ToString();
  EXPECT_EQ((*ignored)["status"]["phase"], "Pending");

  auto patched = client_->PatchStatus(
      Pods(), ns_, "worker-0",
      {{"status",
        {{"phase", "Running"}, {"podIP", "10.1.2.3"}, {"podIPs", {{{"ip", "10.1.2.3"}}}}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  auto got = client_->Get(Pods(), ns_, "worker-0");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["status"]["phase"], "Running");
  EXPECT_EQ((*got)["status"]["podIP"], "10.1.2.3");

  auto missing = client_->PatchStatus(Pods(), ns_, "worker-9", {{"status", {}}});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

// A client for the same server with `edit` applied to its configuration.
StatusOr<std::unique_ptr<RestClient>> Variant(const testing::ControlPlane& cp,
                                              const std::function<void(ClusterConfig&)>& edit) {
  auto config = LoadKubeconfig(cp.kubeconfig());
  if (!config.ok()) return config.status();
  edit(*config);
  ClientOptions options;
  options.request_timeout = std::chrono::seconds(20);
  return RestClient::Make(*config, options);
}

int RunQuietly(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

TEST_F(ApiServerTest, WrongTokenIsPermissionDenied) {
  auto client = Variant(*cp_, [](ClusterConfig& c) { c.token = "not-the-token"; });
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto got = (*client)->Get(ConfigMaps(), ns_, "x");
  EXPECT_EQ(got.status().code(), StatusCode::kPermissionDenied) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("HTTP 401"));
}

TEST_F(ApiServerTest, ServerCertificateIsVerifiedAgainstTheConfiguredCa) {
  const std::string other = cp_->dir() + "/other-ca";
  std::filesystem::create_directories(other);
  ASSERT_EQ(RunQuietly("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                       "-days 1 -subj /CN=other-ca -keyout " +
                       other + "/ca.key -out " + other + "/ca.crt"),
            0);
  std::ifstream in(other + "/ca.crt");
  const std::string other_ca((std::istreambuf_iterator<char>(in)), {});
  auto wrong_ca = Variant(*cp_, [&](ClusterConfig& c) { c.ca_pem = other_ca; });
  ASSERT_TRUE(wrong_ca.ok()) << wrong_ca.status().ToString();
  auto rejected = (*wrong_ca)->Get(ConfigMaps(), ns_, "x");
  EXPECT_EQ(rejected.status().code(), StatusCode::kUnavailable) << rejected.status().ToString();

  auto insecure = Variant(*cp_, [&](ClusterConfig& c) {
    c.ca_pem = other_ca;
    c.insecure_skip_tls_verify = true;
  });
  ASSERT_TRUE(insecure.ok());
  auto accepted = (*insecure)->Get(ConfigMaps(), ns_, "x");
  EXPECT_EQ(accepted.status().code(), StatusCode::kNotFound) << accepted.status().ToString();
}

TEST_F(ApiServerTest, ClientCertificateAuthenticates) {
  // A client certificate signed by the cluster CA (the apiserver's --client-ca-file), in the
  // group system:masters, referenced by relative paths from a kubeconfig of its own.
  const std::string mtls = cp_->dir() + "/mtls";
  std::filesystem::create_directories(mtls + "/pki");
  const std::string pki = cp_->dir() + "/pki";
  {
    std::ofstream ext(mtls + "/ext.cnf");
    ext << "extendedKeyUsage = clientAuth\n";
  }
  ASSERT_EQ(RunQuietly("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                       "-subj /O=system:masters/CN=ringtrain-mtls -keyout " +
                       mtls + "/pki/client.key -out " + mtls + "/client.csr"),
            0);
  ASSERT_EQ(RunQuietly("openssl x509 -req -days 1 -in " + mtls + "/client.csr -CA " + pki +
                       "/ca.crt -CAkey " + pki + "/ca.key -CAcreateserial -extfile " + mtls +
                       "/ext.cnf -out " + mtls + "/pki/client.crt"),
            0);
  auto base = LoadKubeconfig(cp_->kubeconfig());
  ASSERT_TRUE(base.ok());
  std::filesystem::copy_file(pki + "/ca.crt", mtls + "/pki/ca.crt");
  {
    std::ofstream kubeconfig(mtls + "/kubeconfig");
    kubeconfig << "apiVersion: v1\nkind: Config\n"
               << "clusters:\n- name: c\n  cluster:\n    server: " << base->server
               << "\n    certificate-authority: pki/ca.crt\n"
               << "users:\n- name: u\n  user:\n    client-certificate: pki/client.crt\n"
               << "    client-key: pki/client.key\n"
               << "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
               << "current-context: x\n";
  }
  auto config = LoadKubeconfig(mtls + "/kubeconfig");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->token.empty());
  auto client = RestClient::Make(*config, ClientOptions{});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const Resource reviews{"authentication.k8s.io", "v1", "selfsubjectreviews", false};
  auto review = (*client)->Create(
      reviews, "", {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}});
  ASSERT_TRUE(review.ok()) << review.status().ToString();
  EXPECT_EQ((*review)["status"]["userInfo"]["username"], "ringtrain-mtls");
  EXPECT_TRUE((*client)->Create(ConfigMaps(), ns_, ConfigMap("by-cert")).ok());
}

// Records events of a watch; the watch thread adds, the test thread waits.
class EventLog {
 public:
  bool Add(const WatchEvent& e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(e);
    cv_.notify_all();
    return !(e.type == "DELETED" && stop_after_delete_);
  }
  // Waits until `pred` holds over the events (no deadline: the test's own timeout bounds it).
  void WaitUntil(const std::function<bool(const std::vector<WatchEvent>&)>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return pred(events_); });
  }
  // Like WaitUntil, but gives up after `timeout`; returns whether `pred` holds.
  bool WaitFor(std::chrono::milliseconds timeout,
               const std::function<bool(const std::vector<WatchEvent>&)>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(events_); });
  }
  std::vector<std::string> Summary(bool with_bookmarks = false) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& e : events_) {
      if (e.type == "BOOKMARK" && !with_bookmarks) continue;
      out.push_back(e.type + " " + e.object["metadata"].value("name", ""));
    }
    return out;
  }
  std::vector<WatchEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  void StopAfterDelete() { stop_after_delete_ = true; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
  bool stop_after_delete_ = false;
};

TEST_F(ApiServerTest, WatchSeesChangesMadeWhileItRuns) {
  const std::string from = CollectionVersion();
  EventLog log;
  log.StopAfterDelete();
  std::atomic<bool> stop{false};
  Status watch_status;
  WatchThread watcher(stop, [&] {
    WatchOptions options;
    options.resource_version = from;  // so changes racing the watch's start are not missed
    options.server_timeout = std::chrono::seconds(60);
    watch_status = client_->Watch(
        ConfigMaps(), ns_, options, [&](const WatchEvent& e) { return log.Add(e); }, stop);
  });
  ASSERT_TRUE(client_->Create(ConfigMaps(), ns_, ConfigMap("w", {{"n", "1"}})).ok());
  ASSERT_TRUE(
      client_->Patch(ConfigMaps(), ns_, "w", PatchType::kMerge, {{"data", {{"n", "2"}}}}).ok());
  ASSERT_TRUE(client_->Delete(ConfigMaps(), ns_, "w").ok());
  watcher.Join();
  EXPECT_TRUE(watch_status.ok()) << watch_status.ToString();
  EXPECT_THAT(log.Summary(), ElementsAre("ADDED w", "MODIFIED w", "DELETED w"));
  EXPECT_EQ(log.events()[1].object["data"]["n"], "2");
}

TEST_F(ApiServerTest, WatchResumesFromAResourceVersion) {
  auto a = client_->Create(ConfigMaps(), ns_, ConfigMap("a"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(client_->Create(ConfigMaps(), ns_, ConfigMap("b")).ok());
  ASSERT_TRUE(client_->Delete(ConfigMaps(), ns_, "a").ok());
  EventLog log;
  log.StopAfterDelete();
  std::atomic<bool> stop{false};
  WatchOptions options;
  options.resource_version = Rv(*a);  // everything after a's creation is replayed
  Status s = client_->Watch(
      ConfigMaps(), ns_, options, [&](const WatchEvent& e) { return log.Add(e); }, stop);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(log.Summary(), ElementsAre("ADDED b", "DELETED a"));
}

TEST_F(ApiServerTest, WatchPassesOnProgressBookmarks) {
  // The server reports progress that the selector hides as a BOOKMARK (about 2 s before the
  // watch's timeout, if the resourceVersion advanced after the watch began). Another thread
  // keeps changing an object the selector filters out until the bookmark arrives.
  const std::string from = CollectionVersion();
  ASSERT_TRUE(client_->Create(ConfigMaps(), ns_, ConfigMap("unwatched")).ok());
  EventLog log;
  std::atomic<bool> stop{false};
  std::atomic<bool> watch_done{false};
  std::thread writer([&] {
    for (int i = 0; !watch_done; ++i) {
      auto patched = client_->Patch(ConfigMaps(), ns_, "unwatched", PatchType::kMerge,
                                    {{"data", {{"i", std::to_string(i)}}}});
      EXPECT_TRUE(patched.ok()) << patched.status().ToString();
      log.WaitFor(std::chrono::milliseconds(200),
                  [](const std::vector<WatchEvent>& events) { return !events.empty(); });
    }
  });
  WatchOptions options;
  options.resource_version = from;
  options.label_selector = "watched=yes";
  options.server_timeout = std::chrono::seconds(5);
  const auto start = SteadyClock::now();
  Status s = client_->Watch(
      ConfigMaps(), ns_, options,
      [&](const WatchEvent& e) {
        log.Add(e);
        return e.type != "BOOKMARK";
      },
      stop);
  watch_done = true;
  writer.join();
  std::fprintf(stderr, "bookmark after %.2f s\n",
               std::chrono::duration<double>(SteadyClock::now() - start).count());
  EXPECT_TRUE(s.ok()) << s.ToString();
  const auto events = log.events();
  ASSERT_EQ(events.size(), 1u) << "expected exactly one event, a BOOKMARK";
  EXPECT_EQ(events[0].type, "BOOKMARK");
  EXPECT_GT(std::stoll(Rv(events[0].object)), std::stoll(from));
}

TEST_F(ApiServerTest, WatchWithoutBookmarksEndsQuietlyAtTheServerTimeout) {
  EventLog log;
  const auto start = SteadyClock::now();
  std::atomic<bool> stop{false};
  WatchOptions options;
  options.allow_bookmarks = false;
  options.server_timeout = std::chrono::seconds(1);
  Status s = client_->Watch(
      ConfigMaps(), ns_, options, [&](const WatchEvent& e) { return log.Add(e); }, stop);
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::fprintf(stderr, "1 s watch ended after %.2f s\n", elapsed);
  EXPECT_TRUE(s.ok()) << s.ToString();  // the server ended it
  EXPECT_GE(elapsed, 0.9);
  EXPECT_TRUE(log.events().empty());
}

TEST_F(ApiServerTest, WatchStopFlagEndsItPromptly) {
  const std::string from = CollectionVersion();
  EventLog log;
  std::atomic<bool> stop{false};
  Status watch_status;
  SteadyClock::time_point returned_at;
  WatchThread watcher(stop, [&] {
    WatchOptions options;
    options.resource_version = from;
    options.server_timeout = std::chrono::seconds(60);
    watch_status = client_->Watch(
        ConfigMaps(), ns_, options, [&](const WatchEvent& e) { return log.Add(e); }, stop);
    returned_at = SteadyClock::now();
  });
  ASSERT_TRUE(client_->Create(ConfigMaps(), ns_, ConfigMap("s")).ok());
  log.WaitUntil([](const std::vector<WatchEvent>& events) { return !events.empty(); });
  const auto stopped_at = SteadyClock::now();
  stop = true;  // the stream is now quiet: only the flag can end the watch before 60 s
  watcher.Join();
  EXPECT_EQ(watch_status.code(), StatusCode::kCancelled) << watch_status.ToString();
  const double latency = std::chrono::duration<double>(returned_at - stopped_at).count();
  std::fprintf(stderr, "stop honoured after %.3f s\n", latency);
  EXPECT_LT(latency, 5.0);
}

TEST_F(ApiServerTest, WatchFromAVersionOlderThanTheCacheIsOutOfRange) {
  // A restarted API server's watch cache starts at etcd's current revision; a watch from an
  // earlier resourceVersion gets 410 Gone ("too old resource version").
  const std::string old_version = CollectionVersion();
  ASSERT_TRUE(client_->Create(ConfigMaps(), ns_, ConfigMap("after")).ok());
  Status restarted = cp_->RestartApiServer();
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  EventLog log;
  std::atomic<bool> stop{false};
  WatchOptions options;
  options.resource_version = old_version;
  Status s = client_->Watch(
      ConfigMaps(), ns_, options, [&](const WatchEvent& e) { return log.Add(e); }, stop);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("too old resource version"));
  EXPECT_TRUE(log.events().empty());
  // The client keeps working across the restart (pooled connections were closed by it).
  auto got = client_->Get(ConfigMaps(), ns_, "after");
  EXPECT_TRUE(got.ok()) << got.status().ToString();
}

}  // namespace
}  // namespace ringtrain::op::kube
