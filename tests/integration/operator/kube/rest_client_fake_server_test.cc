// RestClient against a scripted HTTP server: what goes on the wire, and how it copes with
// responses a real API server produces only rarely (garbage, silence, non-JSON errors).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "fake_api_server.h"
#include "ringtrain/operator/kube/rest_client.h"

namespace ringtrain::op::kube {
namespace {

using ringtrain::testing::FakeApiServer;
using ringtrain::testing::RecordedRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Exchange = FakeApiServer::Exchange;
using SteadyClock = std::chrono::steady_clock;

std::unique_ptr<RestClient> Client(const std::string& url, ClientOptions options = {},
                                   const std::string& token = "secret-token") {
  ClusterConfig config;
  config.server = url;
  config.token = token;
  config.source = "fake server";
  auto client = RestClient::Make(config, options);
  if (!client.ok()) {
    ADD_FAILURE() << client.status().ToString();
    return nullptr;
  }
  return std::move(client).value();
}

std::string Event(const std::string& type, const std::string& name, const std::string& rv) {
  return nlohmann::json{
      {"type", type},
      {"object", {{"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"resourceVersion", rv}}}}}}
      .dump();
}

// A one-shot latch for handing "it happened" between threads.
class Latch {
 public:
  void Set() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

TEST(RestClientFakeServerTest, GetSendsPathAuthAndUserAgent) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) {
    ex.Respond(200, R"({"kind":"ConfigMap","metadata":{"name":"a"}})");
  });
  ClientOptions options;
  options.user_agent = "ringtrain-test/1";
  auto client = Client(server.url(), options);
  auto got = client->Get(ConfigMaps(), "ns1", "a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["metadata"]["name"], "a");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/api/v1/namespaces/ns1/configmaps/a");
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer secret-token");
  EXPECT_EQ(requests[0].headers["user-agent"], "ringtrain-test/1");
  EXPECT_EQ(requests[0].headers["accept"], "application/json");
}

TEST(RestClientFakeServerTest, PatchesCarryTheirContentTypeAndStatusHitsTheSubresource) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) { ex.Respond(200, "{}"); });
  auto client = Client(server.url());
  ASSERT_TRUE(client->Patch(Pods(), "n", "p", PatchType::kMerge, {{"a", 1}}).ok());
  ASSERT_TRUE(client
                  ->Patch(Pods(), "n", "p", PatchType::kJson,
                          nlohmann::json::array({{{"op", "remove"}, {"path", "/a"}}}))
                  .ok());
  ASSERT_TRUE(client->Patch(Pods(), "n", "p", PatchType::kStrategicMerge, {{"b", 2}}).ok());
  ASSERT_TRUE(client->PatchStatus(Pods(), "n", "p", {{"status", {{"phase", "Running"}}}}).ok());
  auto r = server.requests();
  ASSERT_EQ(r.size(), 4u);
  for (const auto& request : r) EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(r[0].headers["content-type"], "application/merge-patch+json");
  EXPECT_EQ(r[0].body, R"({"a":1})");
  EXPECT_EQ(r[1].headers["content-type"], "application/json-patch+json");
  EXPECT_EQ(r[1].body, R"([{"op":"remove","path":"/a"}])");
  EXPECT_EQ(r[2].headers["content-type"], "application/strategic-merge-patch+json");
  EXPECT_EQ(r[3].target, "/api/v1/namespaces/n/pods/p/status");
  EXPECT_EQ(r[3].headers["content-type"], "application/merge-patch+json");
}

TEST(RestClientFakeServerTest, PatchShapesAreCheckedBeforeSending) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) { ex.Respond(200, "{}"); });
  auto client = Client(server.url());
  EXPECT_EQ(client->Patch(Pods(), "n", "p", PatchType::kJson, {{"a", 1}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      client->Patch(Pods(), "n", "p", PatchType::kMerge, nlohmann::json::array()).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Update(Pods(), "n", {{"metadata", {{"namespace", "n"}}}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(server.requests().empty());
}

TEST(RestClientFakeServerTest, BodiesThatAreNotUtf8AreRefusedBeforeSending) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) { ex.Respond(200, "{}"); });
  auto client = Client(server.url());
  const nlohmann::json bad = {{"metadata", {{"name", "p"}}}, {"data", "\xff\xfe"}};
  const Status create = client->Create(ConfigMaps(), "n", bad).status();
  EXPECT_EQ(create.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(create.message(), HasSubstr("POST /api/v1/namespaces/n/configmaps: cannot "
                                          "serialize the object"));
  const Status update = client->Update(ConfigMaps(), "n", bad).status();
  EXPECT_THAT(update.message(), HasSubstr("PUT /api/v1/namespaces/n/configmaps/p: cannot "
                                          "serialize the object"));
  const Status patch = client->Patch(ConfigMaps(), "n", "p", PatchType::kMerge, bad).status();
  EXPECT_THAT(patch.message(), HasSubstr("cannot serialize the patch"));
  const Status status = client->PatchStatus(ConfigMaps(), "n", "p", bad).status();
  EXPECT_THAT(status.message(), HasSubstr("/status: cannot serialize the patch"));
  EXPECT_TRUE(server.requests().empty());
}

TEST(RestClientFakeServerTest, DeleteAsksForBackgroundPropagation) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) {
    ex.Respond(200, R"({"kind":"Status","status":"Success"})");
  });
  auto client = Client(server.url());
  ASSERT_TRUE(client->Delete(TrainingJobs(), "team", "mnist").ok());
  auto r = server.requests();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].method, "DELETE");
  EXPECT_EQ(r[0].target, "/apis/ringtrain.io/v1alpha1/namespaces/team/trainingjobs/mnist");
  EXPECT_EQ(r[0].headers["content-type"], "application/json");
  EXPECT_EQ(nlohmann::json::parse(r[0].body)["propagationPolicy"], "Background");
}

TEST(RestClientFakeServerTest, ListFollowsContinueTokens) {
  FakeApiServer server([](const RecordedRequest& req, Exchange& ex) {
    if (req.target.find("continue=") == std::string::npos) {
      ex.Respond(200, R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"7",
        "continue":"tok/1","remainingItemCount":1},"items":[{"n":1},{"n":2}]})");
    } else {
      ex.Respond(200, R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"9"},
        "items":[{"n":3}]})");
    }
  });
  auto client = Client(server.url());
  ListOptions options;
  options.limit = 2;
  options.label_selector = "app=x";
  auto list = client->List(ConfigMaps(), "ns", options);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ((*list)["items"].size(), 3u);
  EXPECT_EQ((*list)["items"][2]["n"], 3);
  EXPECT_EQ((*list)["metadata"]["resourceVersion"], "7");  // the snapshot of the first page
  EXPECT_FALSE((*list)["metadata"].contains("continue"));
  auto r = server.requests();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].target, "/api/v1/namespaces/ns/configmaps?labelSelector=app%3Dx&limit=2");
  EXPECT_EQ(r[1].target,
            "/api/v1/namespaces/ns/configmaps?labelSelector=app%3Dx&limit=2&continue=tok%2F1");
}

TEST(RestClientFakeServerTest, ErrorBodiesAreMappedWithTheirMessage) {
  FakeApiServer server([](const RecordedRequest& req, Exchange& ex) {
    if (req.target.find("/forbidden") != std::string::npos) {
      ex.Respond(403, R"({"kind":"Status","status":"Failure","reason":"Forbidden",
        "message":"configmaps \"forbidden\" is forbidden: User \"x\" cannot get","code":403})");
    } else if (req.target.find("/html") != std::string::npos) {
      ex.Respond(502, "<html>proxy error</html>", "text/html");
    } else {
      ex.Respond(200, "this is not json", "text/plain");
    }
  });
  auto client = Client(server.url());
  auto forbidden = client->Get(ConfigMaps(), "ns", "forbidden");
  EXPECT_EQ(forbidden.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(forbidden.status().message(),
              HasSubstr("GET /api/v1/namespaces/ns/configmaps/forbidden: HTTP 403 Forbidden: "
                        "configmaps \"forbidden\" is forbidden"));
  auto html = client->Get(ConfigMaps(), "ns", "html");
  EXPECT_EQ(html.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(html.status().message(), HasSubstr("<html>proxy error</html>"));
  auto garbage = client->Get(ConfigMaps(), "ns", "ok");
  EXPECT_EQ(garbage.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(garbage.status().message(), HasSubstr("this is not json"));
}

TEST(RestClientFakeServerTest, ServerThatNeverAnswersHitsTheRequestTimeout) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) { ex.WaitForClientClose(); });
  ClientOptions options;
  options.request_timeout = std::chrono::seconds(1);
  auto client = Client(server.url(), options);
  const auto start = SteadyClock::now();
  auto got = client->Get(ConfigMaps(), "ns", "a");
  EXPECT_EQ(got.status().code(), StatusCode::kDeadlineExceeded) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("GET /api/v1/namespaces/ns/configmaps/a"));
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(10));
}

// A restarting API server closes the idle keep-alive connections cpprestsdk pools. The next
// request finds out only when it writes to the dead one; the server never saw that request, so
// the client sends it again on a new connection instead of failing it (a few times at most: a
// server that really is gone is still an error). Both ways a connection can die: FIN and RST.
TEST(RestClientFakeServerTest, RequestOnAConnectionTheServerClosedIsSentAgain) {
  for (const bool reset : {false, true}) {
    SCOPED_TRACE(reset ? "RST" : "FIN");
    FakeApiServer server([reset](const RecordedRequest& r, Exchange& ex) {
      ex.Respond(200, r.body);
      // Long enough for the client to read the response before the connection dies.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ex.CloseAfterwards(reset);
    });
    auto client = Client(server.url());
    constexpr int kRequests = 8;
    for (int i = 0; i < kRequests; ++i) {
      auto patched = client->PatchStatus(Pods(), "n", "p", {{"status", {{"i", i}}}});
      ASSERT_TRUE(patched.ok()) << "request " << i << ": " << patched.status().ToString();
      EXPECT_EQ((*patched)["status"]["i"], i);
      // Let the close reach the pooled connection before the next request uses it.
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
    }
    // Each request reached the server once: none was lost, none applied twice.
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), static_cast<size_t>(kRequests));
    for (int i = 0; i < kRequests; ++i) {
      EXPECT_EQ(requests[i].body, nlohmann::json({{"status", {{"i", i}}}}).dump());
    }
  }
}

// The pool holds as many connections as requests ran at once (the operator's threads share
// one client); a restart kills them all, and the next request may meet each dead one in turn.
TEST(RestClientFakeServerTest, RequestAfterEveryPooledConnectionDiedIsSentAgain) {
  constexpr int kConnections = 3;
  std::mutex mu;
  std::condition_variable all_arrived;
  int arrived = 0;
  FakeApiServer server([&](const RecordedRequest& r, Exchange& ex) {
    if (r.target.find("/held-") != std::string::npos) {
      std::unique_lock<std::mutex> lock(mu);
      ++arrived;
      all_arrived.notify_all();
      // Answer only once all are in flight, so that each has a connection of its own.
      all_arrived.wait_for(lock, std::chrono::seconds(10), [&] { return arrived == kConnections; });
      lock.unlock();
      ex.Respond(200, R"({"kind":"ConfigMap"})");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ex.CloseAfterwards(/*reset=*/true);
      return;
    }
    ex.Respond(200, R"({"kind":"ConfigMap","metadata":{"name":"after"}})");
  });
  auto client = Client(server.url());
  std::vector<std::thread> threads;
  for (int i = 0; i < kConnections; ++i) {
    threads.emplace_back([&, i] {
      auto got = client->Get(ConfigMaps(), "ns", "held-" + std::to_string(i));
      EXPECT_TRUE(got.ok()) << got.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(arrived, kConnections) << "the requests did not run at once";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // every pooled one is dead now
  auto after = client->Get(ConfigMaps(), "ns", "after");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ((*after)["metadata"]["name"], "after");
  const auto requests = server.requests();
  EXPECT_EQ(std::count_if(requests.begin(), requests.end(),
                          [](const RecordedRequest& r) {
                            return r.target == "/api/v1/namespaces/ns/configmaps/after";
                          }),
            1);
}

TEST(RestClientFakeServerTest, RefusedConnectionIsUnavailable) {
  // A port that was just free and has no listener.
  int port = 0;
  {
    FakeApiServer server([](const RecordedRequest&, Exchange&) {});
    port = std::stoi(server.url().substr(server.url().rfind(':') + 1));
  }
  auto client = Client("http://127.0.0.1:" + std::to_string(port));
  auto got = client->Get(ConfigMaps(), "ns", "a");
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
}

TEST(RestClientFakeServerTest, TokenFileIsReadForEveryRequest) {
  const std::string token_file =
      std::filesystem::temp_directory_path() / ("ringtrain-token-" + std::to_string(::getpid()));
  std::ofstream(token_file) << "first\n";
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) { ex.Respond(200, "{}"); });
  ClusterConfig config;
  config.server = server.url();
  config.token_file = token_file;
  auto client = RestClient::Make(config, ClientOptions{});
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Get(Pods(), "n", "a").ok());
  std::ofstream(token_file) << "rotated\n";
  ASSERT_TRUE((*client)->Get(Pods(), "n", "a").ok());
  std::filesystem::remove(token_file);
  auto gone = (*client)->Get(Pods(), "n", "a");
  EXPECT_EQ(gone.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(gone.status().message(), HasSubstr(token_file));
  auto r = server.requests();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].headers["authorization"], "Bearer first");
  EXPECT_EQ(r[1].headers["authorization"], "Bearer rotated");
}

// ---- Watch -------------------------------------------------------------------------------

struct Collected {
  std::vector<std::string> lines;  // "TYPE name"
  std::function<bool(const WatchEvent&)> Callback() {
    return [this](const WatchEvent& e) {
      lines.push_back(e.type + " " + e.object["metadata"].value("name", ""));
      return true;
    };
  }
};

TEST(RestClientFakeServerTest, WatchStreamsEventsSplitAnyhowAcrossChunks) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) {
    ex.StartChunked();
    const std::string a = Event("ADDED", "a", "5") + "\n";
    ex.Chunk(a.substr(0, 10));  // one event over two chunks
    ex.Chunk(a.substr(10));
    ex.Chunk(Event("MODIFIED", "a", "6") + "\n" + Event("BOOKMARK", "", "7") + "\n");
    ex.Chunk(Event("DELETED", "a", "8"));  // the last line may lack its newline
    ex.EndChunked();
  });
  auto client = Client(server.url());
  WatchOptions options;
  options.resource_version = "4";
  options.label_selector = "app in (x)";
  options.server_timeout = std::chrono::seconds(30);
  Collected got;
  std::atomic<bool> stop{false};
  Status s = client->Watch(ConfigMaps(), "ns", options, got.Callback(), stop);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(got.lines, ElementsAre("ADDED a", "MODIFIED a", "BOOKMARK ", "DELETED a"));
  auto r = server.requests();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].target,
            "/api/v1/namespaces/ns/configmaps?watch=1&resourceVersion=4&"
            "labelSelector=app%20in%20%28x%29&allowWatchBookmarks=true&timeoutSeconds=30");
}

TEST(RestClientFakeServerTest, WatchGarbageLineIsDataLoss) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) {
    ex.StartChunked();
    ex.Chunk(Event("ADDED", "a", "5") + "\n{\"type\":\"ADDED\",\"obj\n");
    ex.WaitForClientClose();  // the client must hang up itself
  });
  auto client = Client(server.url());
  Collected got;
  std::atomic<bool> stop{false};
  Status s = client->Watch(ConfigMaps(), "ns", WatchOptions{}, got.Callback(), stop);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(R"({"type":"ADDED","obj)"));
  EXPECT_THAT(got.lines, ElementsAre("ADDED a"));
}

TEST(RestClientFakeServerTest, WatchGoneErrorEventIsOutOfRange) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) {
    ex.StartChunked();
    ex.Chunk(
        R"j({"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version: 2 (192)","reason":"Expired","code":410}})j"
        "\n");
    ex.WaitForClientClose();
  });
  auto client = Client(server.url());
  Collected got;
  std::atomic<bool> stop{false};
  Status s = client->Watch(ConfigMaps(), "ns", WatchOptions{}, got.Callback(), stop);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("too old resource version: 2 (192)"));
  EXPECT_TRUE(got.lines.empty());
}

TEST(RestClientFakeServerTest, WatchHttpErrorIsMapped) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) {
    ex.Respond(403, R"({"kind":"Status","reason":"Forbidden","message":"no watch for you"})");
  });
  auto client = Client(server.url());
  Collected got;
  std::atomic<bool> stop{false};
  Status s = client->Watch(ConfigMaps(), "ns", WatchOptions{}, got.Callback(), stop);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("no watch for you"));
}

TEST(RestClientFakeServerTest, WatchEndsWhenTheCallbackSaysSoAndHangsUp) {
  Latch server_saw_close;
  FakeApiServer server([&](const RecordedRequest&, Exchange& ex) {
    ex.StartChunked();
    ex.Chunk(Event("ADDED", "a", "5") + "\n" + Event("ADDED", "b", "6") + "\n");
    ex.WaitForClientClose();
    server_saw_close.Set();
  });
  auto client = Client(server.url());
  std::vector<std::string> names;
  std::atomic<bool> stop{false};
  Status s = client->Watch(
      ConfigMaps(), "ns", WatchOptions{},
      [&](const WatchEvent& e) {
        names.push_back(e.object["metadata"]["name"]);
        return false;
      },
      stop);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(names, ElementsAre("a"));
  server_saw_close.Wait();  // the connection is closed, not left streaming into a buffer
}

TEST(RestClientFakeServerTest, WatchStopFlagEndsAQuietStreamPromptly) {
  Latch server_saw_close;
  FakeApiServer server([&](const RecordedRequest&, Exchange& ex) {
    ex.StartChunked();
    ex.Chunk(Event("ADDED", "a", "5") + "\n");
    ex.WaitForClientClose();  // then silence
    server_saw_close.Set();
  });
  auto client = Client(server.url());
  std::atomic<bool> stop{false};
  Latch first_event;
  SteadyClock::time_point stopped_at;
  std::thread stopper([&] {
    first_event.Wait();
    stopped_at = SteadyClock::now();
    stop = true;
  });
  Status s = client->Watch(
      ConfigMaps(), "ns", WatchOptions{},
      [&](const WatchEvent&) {
        first_event.Set();
        return true;
      },
      stop);
  const auto returned_at = SteadyClock::now();
  stopper.join();
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  // Well under the 60 s server timeout and the 120 s read timeout: the flag was honoured.
  EXPECT_LT(returned_at - stopped_at, std::chrono::seconds(5));
  server_saw_close.Wait();
}

TEST(RestClientFakeServerTest, WatchSilentStreamHitsTheReadTimeout) {
  FakeApiServer server([&](const RecordedRequest&, Exchange& ex) {
    ex.StartChunked();
    ex.Chunk(Event("ADDED", "a", "5") + "\n");
    ex.WaitForClientClose();  // a dead server: headers, one event, then nothing
  });
  ClientOptions options;
  options.watch_read_timeout = std::chrono::seconds(2);
  auto client = Client(server.url(), options);
  WatchOptions watch;
  watch.server_timeout = std::chrono::seconds(1);  // ignored by this server
  Collected got;
  std::atomic<bool> stop{false};
  const auto start = SteadyClock::now();
  Status s = client->Watch(ConfigMaps(), "ns", watch, got.Callback(), stop);
  const auto elapsed = SteadyClock::now() - start;
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_THAT(got.lines, ElementsAre("ADDED a"));
  EXPECT_GE(elapsed, std::chrono::seconds(2));
}

TEST(RestClientFakeServerTest, WatchServerTimeoutMustStayBelowTheReadTimeout) {
  FakeApiServer server([](const RecordedRequest&, Exchange& ex) { ex.Respond(200, ""); });
  ClientOptions options;
  options.watch_read_timeout = std::chrono::seconds(30);
  auto client = Client(server.url(), options);
  WatchOptions watch;
  watch.server_timeout = std::chrono::seconds(30);
  Collected got;
  std::atomic<bool> stop{false};
  Status s = client->Watch(ConfigMaps(), "ns", watch, got.Callback(), stop);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(server.requests().empty());
}

}  // namespace
}  // namespace ringtrain::op::kube
