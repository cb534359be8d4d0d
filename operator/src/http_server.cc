#include "ringtrain/operator/http_server.h"

#include <cpprest/http_listener.h>

#include <exception>
#include <utility>

namespace ringtrain::op {
namespace {

using web::http::http_request;
using web::http::methods;
using web::http::experimental::listener::http_listener;
using web::http::experimental::listener::http_listener_config;

using Routes = std::map<std::string, HttpHandler>;

constexpr char kText[] = "text/plain; charset=utf-8";

HttpResponse Route(const Routes& routes, const web::http::method& method, const std::string& path) {
  const auto it = routes.find(path);
  if (it == routes.end()) return {404, kText, "not found: " + path};
  if (method != methods::GET) return {405, kText, "method not allowed: " + method};
  return it->second();
}

// Sends `response`, observing the reply task's failure (a client that went away): pplx
// terminates the process when a failed task is dropped unobserved.
void Reply(http_request& request, const HttpResponse& response) {
  const int status = response.status >= 100 && response.status <= 599 ? response.status : 500;
  web::http::http_response message(static_cast<web::http::status_code>(status));
  if (status == 405) message.headers().add("Allow", "GET");
  message.set_body(response.body, response.content_type);
  request.reply(message).then([](pplx::task<void> sent) {
    try {
      sent.get();
    } catch (...) {
    }
  });
}

// Runs on cpprestsdk's thread pool; nothing may escape into it.
void Handle(const Routes& routes, http_request request) {
  HttpResponse response;
  try {
    response = Route(routes, request.method(), request.request_uri().path());
  } catch (const std::exception& e) {
    response = {500, kText, std::string("internal error: ") + e.what()};
  } catch (...) {
    response = {500, kText, "internal error"};
  }
  try {
    Reply(request, response);
  } catch (...) {
    // Building the reply failed (a header value cpprestsdk rejects): answer plainly.
    try {
      request.reply(web::http::status_codes::InternalError).then([](pplx::task<void> sent) {
        try {
          sent.get();
        } catch (...) {
        }
      });
    } catch (...) {
    }
  }
}

std::string HostPort(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

struct HttpServer::Impl {
  std::unique_ptr<http_listener> listener;
  int port = 0;
};

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options) {
  if (options.port < 1 || options.port > 65535) {
    return InvalidArgument("http server: port must be in 1..65535 (got " +
                           std::to_string(options.port) + ")");
  }
  if (options.host.empty()) return InvalidArgument("http server: host is empty");
  for (const auto& [path, handler] : options.routes) {
    if (path.empty() || path.front() != '/') {
      return InvalidArgument("http server: route \"" + path + "\" does not start with '/'");
    }
    if (handler == nullptr) return InvalidArgument("http server: route " + path + ": no handler");
  }
  const std::string where = HostPort(options.host, options.port);

  auto impl = std::make_unique<Impl>();
  impl->port = options.port;
  try {
    impl->listener = std::make_unique<http_listener>(web::uri("http://" + where + "/"));
  } catch (const std::exception& e) {
    return InvalidArgument("http server: " + where + ": not a valid address: " + e.what());
  }
  // Shared so the callback, which cpprestsdk copies, never dangles.
  auto routes = std::make_shared<const Routes>(std::move(options.routes));
  const auto handler = [routes](http_request request) { Handle(*routes, std::move(request)); };
  impl->listener->support(handler);
  // cpprestsdk answers OPTIONS and TRACE (an echo) itself unless they have handlers.
  impl->listener->support(methods::OPTIONS, handler);
  impl->listener->support(methods::TRCE, handler);
  try {
    impl->listener->open().wait();
  } catch (const std::exception& e) {
    return Unavailable("http server: cannot listen on " + where + ": " + e.what());
  } catch (...) {
    return Unavailable("http server: cannot listen on " + where);
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  // close() unregisters the listener, which takes its lock exclusively: it returns once no
  // handler runs, and none starts afterwards.
  try {
    impl_->listener->close().wait();
  } catch (...) {
    // Nothing to report to: the listener is unregistered either way.
  }
}

int HttpServer::port() const { return impl_->port; }

}  // namespace ringtrain::op
