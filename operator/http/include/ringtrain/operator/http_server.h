// HttpServer: a small HTTP/1.1 server for the operator's probes and metrics, over GNU
// libmicrohttpd (kept out of this header). cpprestsdk's http_listener served here before; its
// maintainers do not support it outside their tests, and its close() could wait forever for a
// connection accepted while it ran.
//
// Routing: a request's path (without the query) must equal a route's path exactly. An unknown
// path gets 404; a known path with a method other than GET gets 405 with "Allow: GET"; a
// handler that throws gets 500. Malformed requests get 400 from libmicrohttpd and never reach a
// handler; they do not affect other connections.
//
// Limits: at most `max_connections` connections are served at once; more wait in the listen
// backlog until one closes. A connection idle for `idle_timeout_seconds` is closed, so a flood
// of silent connections holds the probes off for no longer than that.
//
// Ownership: the server owns its handlers (moved from the options); whatever a handler
// captures must outlive the server. Each server owns its listening socket: destroying it
// closes the port.
//
// Thread-safety: handlers run on the server's `threads` threads, several at once, so they must
// be thread-safe, and should be quick (a blocked handler holds up the other connections of its
// thread). Start, port() and the destructor may be called from any thread, but never from a
// handler (the destructor waits for handlers: deadlock).
#ifndef RINGTRAIN_OPERATOR_HTTP_SERVER_H_
#define RINGTRAIN_OPERATOR_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ringtrain/common/status.h"

namespace ringtrain::op {

struct HttpResponse {
  int status = 200;  // 100..599; anything else is sent as 500
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Serves GET of one path. Called on the server's threads: must be thread-safe.
using HttpHandler = std::function<HttpResponse()>;

struct HttpServerOptions {
  std::string host = "0.0.0.0";  // an address or a name to resolve; IPv6 literals unbracketed
  int port = 8080;               // 0..65535; 0 picks a free port (see port())
  std::map<std::string, HttpHandler> routes;  // path ("/metrics") -> handler
  int threads = 2;                            // >= 1
  int max_connections = 64;                   // >= 1; also the listen backlog
  int idle_timeout_seconds = 30;              // >= 1
};

class HttpServer {
 public:
  // Listens on host:port and serves `options.routes` until destroyed.
  // Errors: InvalidArgument for a port outside 0..65535, an empty host, a host with characters
  // no address or name has, a limit below 1, a route path not starting with '/' or a null
  // handler; Unavailable naming host:port if it cannot listen there (address in use, unknown
  // host, no permission); Internal if libmicrohttpd cannot start its threads.
  [[nodiscard]] static StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options);

  // Stops listening, closes open connections and waits for handlers in flight.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port it listens on (the one picked when the options said 0).
  int port() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_HTTP_SERVER_H_
