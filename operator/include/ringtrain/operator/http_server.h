// HttpServer: a small HTTP/1.1 server for the operator's probes and metrics, over cpprestsdk's
// http_listener (kept out of this header).
//
// Routing: a request's path (without the query) must equal a route's path exactly. An unknown
// path gets 404; a known path with a method other than GET gets 405 with "Allow: GET"; a
// handler that throws gets 500. Malformed requests get 400 from cpprestsdk and never reach a
// handler; they do not affect other connections.
//
// Ownership: the server owns its handlers (moved from the options); whatever a handler
// captures must outlive the server.
//
// Thread-safety: handlers run on cpprestsdk's shared thread pool, several at once, so they
// must be thread-safe, and should be quick (a blocked handler holds a pool thread). Start,
// port() and the destructor may be called from any thread, but never from a handler (the
// destructor waits for handlers: deadlock).
//
// cpprestsdk keeps one process-wide table of listening sockets, which has two consequences:
//   - a destroyed server's socket closes only once no other HttpServer (or any other
//     http_listener) is open in the process; until then, connections to it get 404;
//   - starting two servers on the same host:port in one process makes cpprestsdk drop the
//     first one's socket when the second fails: never do that.
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

// Serves GET of one path. Called on cpprestsdk's thread pool: must be thread-safe.
using HttpHandler = std::function<HttpResponse()>;

struct HttpServerOptions {
  std::string host = "0.0.0.0";  // an address or a name to resolve; IPv6 literals unbracketed
  // 1..65535. Port 0 is not supported: http_listener cannot report the port it got.
  int port = 8080;
  std::map<std::string, HttpHandler> routes;  // path ("/metrics") -> handler
};

class HttpServer {
 public:
  // Listens on host:port and serves `options.routes` until destroyed.
  // Errors: InvalidArgument for a port outside 1..65535, an empty host, a host that makes no
  // valid URI, a route path not starting with '/' or a null handler; Unavailable naming
  // host:port if it cannot listen there (address in use, unknown host, no permission).
  [[nodiscard]] static StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options);

  // Stops listening, closes open connections and waits for handlers in flight.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_HTTP_SERVER_H_
