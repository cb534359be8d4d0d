#include "ringtrain/operator/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cpprest/http_client.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ringtrain/operator/health.h"
#include "ringtrain/operator/metrics.h"

namespace ringtrain::op {
namespace {

using std::chrono::steady_clock;
using web::http::methods;

constexpr char kLoopback[] = "127.0.0.1";

// A server on 127.0.0.1 at a port the kernel picks.
std::unique_ptr<HttpServer> StartOnFreePort(std::map<std::string, HttpHandler> routes,
                                            HttpServerOptions options = {}) {
  options.host = kLoopback;
  options.port = 0;
  options.routes = std::move(routes);
  StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(std::move(options));
  if (!server.ok()) {
    ADD_FAILURE() << "cannot start a server: " << server.status().ToString();
    return nullptr;
  }
  EXPECT_GT((*server)->port(), 0);
  return std::move(server).value();
}

struct Reply {
  int status = 0;
  std::string content_type;
  std::string allow;
  std::string body;
};

web::http::client::http_client Client(int port) {
  web::http::client::http_client_config config;
  config.set_timeout(std::chrono::seconds(10));
  return web::http::client::http_client("http://127.0.0.1:" + std::to_string(port), config);
}

Reply Send(web::http::client::http_client& client, const web::http::method& method,
           const std::string& path) {
  web::http::http_response response = client.request(method, path).get();
  Reply reply;
  reply.status = response.status_code();
  reply.content_type = response.headers().content_type();
  if (response.headers().has("Allow")) reply.allow = response.headers()["Allow"];
  reply.body = response.extract_utf8string(true).get();
  return reply;
}

Reply Get(int port, const std::string& path) {
  auto client = Client(port);
  return Send(client, methods::GET, path);
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// Writes `bytes` on a fresh connection, half-closes it and returns what the server sent back
// before closing (or within the 5 s receive timeout).
std::string RawExchange(int port, const std::string& bytes) {
  const int fd = Connect(port);
  if (fd < 0) throw std::runtime_error("connect failed");
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close on garbage before reading it all
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string received;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    received.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return received;
}

std::map<std::string, HttpHandler> TestRoutes() {
  std::map<std::string, HttpHandler> routes;
  routes["/hello"] = [] { return HttpResponse{200, "text/plain; charset=utf-8", "hi"}; };
  routes["/teapot"] = [] { return HttpResponse{418, "application/json", "{\"tea\":true}"}; };
  routes["/empty"] = [] { return HttpResponse{204, "text/plain; charset=utf-8", ""}; };
  routes["/throws"] = []() -> HttpResponse { throw std::runtime_error("boom"); };
  routes["/bad_status"] = [] { return HttpResponse{42, "text/plain", "x"}; };
  return routes;
}

TEST(HttpServerTest, ServesRoutesWithStatusContentTypeAndBody) {
  auto server = StartOnFreePort(TestRoutes());
  ASSERT_NE(server, nullptr);
  auto client = Client(server->port());

  Reply hello = Send(client, methods::GET, "/hello");
  EXPECT_EQ(hello.status, 200);
  EXPECT_EQ(hello.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(hello.body, "hi");

  Reply with_query = Send(client, methods::GET, "/hello?verbose=1");
  EXPECT_EQ(with_query.status, 200);
  EXPECT_EQ(with_query.body, "hi");

  Reply teapot = Send(client, methods::GET, "/teapot");
  EXPECT_EQ(teapot.status, 418);
  EXPECT_EQ(teapot.content_type, "application/json");
  EXPECT_EQ(teapot.body, "{\"tea\":true}");

  EXPECT_EQ(Send(client, methods::GET, "/empty").status, 204);
  EXPECT_EQ(Send(client, methods::GET, "/bad_status").status, 500);
}

TEST(HttpServerTest, UnknownPathIs404) {
  auto server = StartOnFreePort(TestRoutes());
  ASSERT_NE(server, nullptr);
  auto client = Client(server->port());
  for (const std::string path : {"/", "/nope", "/hello/", "/HELLO", "/hello/x"}) {
    Reply reply = Send(client, methods::GET, path);
    EXPECT_EQ(reply.status, 404) << path;
    EXPECT_EQ(reply.body, "not found: " + path);
  }
  EXPECT_EQ(Send(client, methods::POST, "/nope").status, 404);
}

TEST(HttpServerTest, MethodsOtherThanGetAre405) {
  auto server = StartOnFreePort(TestRoutes());
  ASSERT_NE(server, nullptr);
  auto client = Client(server->port());
  for (const web::http::method& method : {methods::POST, methods::PUT, methods::DEL, methods::PATCH,
                                          methods::OPTIONS, methods::TRCE}) {
    Reply reply = Send(client, method, "/hello");
    EXPECT_EQ(reply.status, 405) << method;
    EXPECT_EQ(reply.allow, "GET") << method;
  }
  // A body on a rejected request does not confuse the connection.
  web::http::http_request post(methods::POST);
  post.set_request_uri("/hello");
  post.set_body(std::string(10000, 'x'));
  EXPECT_EQ(client.request(post).get().status_code(), 405);
  EXPECT_EQ(Send(client, methods::GET, "/hello").body, "hi");
}

TEST(HttpServerTest, HandlerThatThrowsIs500AndServerGoesOn) {
  auto server = StartOnFreePort(TestRoutes());
  ASSERT_NE(server, nullptr);
  Reply reply = Get(server->port(), "/throws");
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body, "internal error: boom");
  EXPECT_EQ(Get(server->port(), "/hello").status, 200);
}

TEST(HttpServerTest, ObservabilityRoutes) {
  HealthState health;
  MetricsRegistry registry;
  registry.AddCounterFamily("ringtrain_operator_reconcile_total", "Reconciles.", {"result"})
      .WithLabels({"success"})
      .Inc(3);
  auto server = StartOnFreePort(ObservabilityRoutes(health, registry));
  ASSERT_NE(server, nullptr);
  auto client = Client(server->port());

  Reply healthz = Send(client, methods::GET, "/healthz");
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(healthz.body, "ok");

  Reply not_ready = Send(client, methods::GET, "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(not_ready.body, "starting");
  health.SetNotReady("informer caches not synced");
  EXPECT_EQ(Send(client, methods::GET, "/readyz").body, "informer caches not synced");
  health.SetReady();
  Reply ready = Send(client, methods::GET, "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ok");

  health.SetUnhealthy("lost leadership");
  Reply unhealthy = Send(client, methods::GET, "/healthz");
  EXPECT_EQ(unhealthy.status, 500);
  EXPECT_EQ(unhealthy.body, "lost leadership");
  health.SetHealthy();
  EXPECT_EQ(Send(client, methods::GET, "/healthz").status, 200);

  Reply metrics = Send(client, methods::GET, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(metrics.body,
            "# HELP ringtrain_operator_reconcile_total Reconciles.\n"
            "# TYPE ringtrain_operator_reconcile_total counter\n"
            "ringtrain_operator_reconcile_total{result=\"success\"} 3\n");
  EXPECT_EQ(metrics.body, registry.Render());

  // The exact bytes on the wire, from a client that is not cpprestsdk.
  const std::string raw = RawExchange(
      server->port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos)
      << raw;
}

TEST(HttpServerTest, GarbageDoesNotStopTheServer) {
  auto server = StartOnFreePort(TestRoutes());
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  const std::vector<std::string> garbage = {
      "",                                                               // connect, close
      "GARBAGE\r\n\r\n",                                                // no path, no version
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // a TLS hello
      std::string("\x00\xff\xfe\x80 binary \x01\x02", 14),
      "GET / HTTP/1.1\r\nNoColonHeader\r\n\r\n",
      "GET /hello HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort",  // truncated body
      "GET /hello HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET /%zz HTTP/1.1\r\n\r\n",
      std::string(100000, 'A'),              // one endless line
      "GET /hello HTTP/1.1\r\nHost: x\r\n",  // headers never end
  };
  for (const std::string& bytes : garbage) {
    const std::string answer = RawExchange(port, bytes);
    if (!answer.empty()) {
      EXPECT_EQ(answer.rfind("HTTP/1.1 ", 0), 0u) << answer;
    }
    // Still serving after each.
    EXPECT_EQ(Get(port, "/hello").body, "hi");
  }
  // A request line without a version is answered 400 (other garbage may be closed unanswered).
  EXPECT_EQ(RawExchange(port, "GET /hello\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
}

TEST(HttpServerTest, ConcurrentClients) {
  MetricsRegistry registry;
  Counter& scrapes = registry.AddCounter("scrapes_total", "Scrapes.");
  std::map<std::string, HttpHandler> routes;
  routes["/count"] = [&scrapes] {
    scrapes.Inc();
    return HttpResponse{200, "text/plain; charset=utf-8", "counted"};
  };
  auto server = StartOnFreePort(routes);
  ASSERT_NE(server, nullptr);
  constexpr int kThreads = 4;
  constexpr int kRequests = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto client = Client(server->port());
      for (int i = 0; i < kRequests; ++i) {
        if (Send(client, methods::GET, "/count").body == "counted") ++ok;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
  EXPECT_EQ(scrapes.Value(), kThreads * kRequests);
}

TEST(HttpServerTest, DestructionWhileIdleIsPromptAndClosesThePort) {
  // Another server stays open: each server owns its socket.
  auto other = StartOnFreePort(TestRoutes());
  ASSERT_NE(other, nullptr);
  auto server = StartOnFreePort(TestRoutes());
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  auto client = Client(port);
  ASSERT_EQ(Send(client, methods::GET, "/hello").status, 200);  // leaves a keep-alive connection
  const int idle = Connect(port);                               // and a silent one
  ASSERT_GE(idle, 0);

  const auto start = steady_clock::now();
  server.reset();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(2));
  char byte;
  const ssize_t got = ::recv(idle, &byte, 1, 0);  // 0 (FIN) or ECONNRESET, never the timeout
  EXPECT_TRUE(got == 0 || (got < 0 && errno == ECONNRESET)) << got << " errno " << errno;
  ::close(idle);

  EXPECT_LT(Connect(port), 0);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_EQ(Get(other->port(), "/hello").body, "hi");
}

// cpprestsdk's listener, which served here before, could wait forever in close() for a
// connection it accepted while closing; the client below keeps each connection open and silent
// until the server closes it.
TEST(HttpServerTest, DestructionWhileClientsConnectIsPrompt) {
  for (int round = 0; round < 20; ++round) {
    auto server = StartOnFreePort(TestRoutes());
    ASSERT_NE(server, nullptr);
    const int port = server->port();
    std::atomic<bool> stop{false};
    std::atomic<int> connected{0};
    std::thread connector([&] {
      std::vector<int> open;
      while (!stop.load() && open.size() < 32) {  // within the backlog: connect never waits
        const int fd = Connect(port);
        if (fd < 0) break;  // refused: the server is gone
        ++connected;
        open.push_back(fd);
      }
      while (!stop.load()) std::this_thread::yield();
      for (int fd : open) ::close(fd);
    });
    while (connected.load() < 3) std::this_thread::yield();
    const auto start = steady_clock::now();
    server.reset();
    const auto took = steady_clock::now() - start;
    stop = true;
    connector.join();
    EXPECT_LT(took, std::chrono::seconds(2)) << "round " << round;
  }
}

TEST(HttpServerTest, IdleConnectionsAreClosedAfterTheTimeout) {
  HttpServerOptions options;
  options.idle_timeout_seconds = 1;
  auto server = StartOnFreePort(TestRoutes(), options);
  ASSERT_NE(server, nullptr);
  const int idle = Connect(server->port());  // its receive timeout is 5 s
  ASSERT_GE(idle, 0);
  char byte;
  EXPECT_EQ(::recv(idle, &byte, 1, 0), 0) << "not closed by the server (errno " << errno << ")";
  ::close(idle);
  EXPECT_EQ(Get(server->port(), "/hello").body, "hi");
}

TEST(HttpServerTest, ConnectionsBeyondTheLimitWaitUntilOneCloses) {
  HttpServerOptions options;
  options.max_connections = 2;
  options.threads = 1;
  auto server = StartOnFreePort(TestRoutes(), options);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  const int first = Connect(port);
  const int second = Connect(port);
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  const int third = Connect(port);  // waits in the listen backlog
  ASSERT_GE(third, 0);
  const std::string request = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(third, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  timeval short_wait{0, 300 * 1000};
  ::setsockopt(third, SOL_SOCKET, SO_RCVTIMEO, &short_wait, sizeof(short_wait));
  char buf[4096];
  EXPECT_LT(::recv(third, buf, sizeof(buf), 0), 0) << "answered beyond the limit";
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << errno;

  ::close(first);  // frees a slot: the waiting connection is served
  timeval long_wait{5, 0};
  ::setsockopt(third, SOL_SOCKET, SO_RCVTIMEO, &long_wait, sizeof(long_wait));
  std::string received;
  for (ssize_t n; (n = ::recv(third, buf, sizeof(buf), 0)) > 0;) received.append(buf, n);
  EXPECT_EQ(received.rfind("HTTP/1.1 200", 0), 0u) << received;
  ::close(third);
  ::close(second);
}

TEST(HttpServerTest, DestructionWaitsForHandlersInFlight) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  std::map<std::string, HttpHandler> routes;
  routes["/slow"] = [&] {
    std::unique_lock<std::mutex> lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(20), [&] { return release; });
    return HttpResponse{200, "text/plain; charset=utf-8", "slow"};
  };
  auto server = StartOnFreePort(routes);
  ASSERT_NE(server, nullptr);
  auto client = Client(server->port());
  pplx::task<web::http::http_response> pending = client.request(methods::GET, "/slow");
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return entered; }));
  }
  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    server.reset();
    destroyed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(destroyed.load()) << "destructor returned while a handler was running";
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  destroyer.join();
  EXPECT_TRUE(destroyed.load());
  try {
    pending.get();  // answered or cut off by the close; either is fine
  } catch (const std::exception&) {
  }
}

TEST(HttpServerTest, PortInUseIsUnavailableNamingHostPort) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);

  HttpServerOptions options;
  options.host = kLoopback;
  options.port = port;
  options.routes = TestRoutes();
  StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(std::move(options));
  ::close(fd);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(server.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << server.status().ToString();

  // A failed start leaves nothing behind that stops the next one.
  auto next = StartOnFreePort(TestRoutes());
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(Get(next->port(), "/hello").body, "hi");
}

TEST(HttpServerTest, InvalidOptions) {
  const auto start = [](std::string host, int port, std::map<std::string, HttpHandler> routes) {
    HttpServerOptions options;
    options.host = std::move(host);
    options.port = port;
    options.routes = std::move(routes);
    return HttpServer::Start(std::move(options)).status();
  };
  EXPECT_EQ(start(kLoopback, -1, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(start(kLoopback, 65536, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(start("", 8080, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(start(kLoopback, 8080, {{"healthz", [] { return HttpResponse{}; }}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(start(kLoopback, 8080, {{"/healthz", nullptr}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(start("bad host", 8080, {}).code(), StatusCode::kInvalidArgument);
  HttpServerOptions no_threads;
  no_threads.host = kLoopback;
  no_threads.port = 0;
  no_threads.threads = 0;
  EXPECT_EQ(HttpServer::Start(no_threads).status().code(), StatusCode::kInvalidArgument);
  HttpServerOptions no_connections = no_threads;
  no_connections.threads = 1;
  no_connections.max_connections = 0;
  EXPECT_EQ(HttpServer::Start(no_connections).status().code(), StatusCode::kInvalidArgument);
  HttpServerOptions no_timeout = no_connections;
  no_timeout.max_connections = 1;
  no_timeout.idle_timeout_seconds = 0;
  EXPECT_EQ(HttpServer::Start(no_timeout).status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpServerTest, UnknownHostIsUnavailableNamingIt) {
  HttpServerOptions options;
  options.host = "no-such-host.invalid";
  options.port = 0;
  StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(std::move(options));
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(server.status().message().find("no-such-host.invalid:0"), std::string::npos)
      << server.status().ToString();
}

TEST(HttpServerTest, ServesOnIpv6Loopback) {
  HttpServerOptions options;
  options.host = "::1";
  options.port = 0;
  options.routes = TestRoutes();
  StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  // cpprestsdk's client cannot resolve "[::1]": a raw exchange.
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  addr.sin6_port = htons(static_cast<uint16_t>((*server)->port()));
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = "GET /hello HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string received;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) received.append(buf, n);
  ::close(fd);
  EXPECT_EQ(received.rfind("HTTP/1.1 200", 0), 0u) << received;
  EXPECT_EQ(received.substr(received.size() - 2), "hi") << received;
}

}  // namespace
}  // namespace ringtrain::op
