#include "ringtrain/operator/http_server.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

namespace ringtrain::op {
namespace {

using Routes = std::map<std::string, HttpHandler>;

constexpr char kText[] = "text/plain; charset=utf-8";

HttpResponse Route(const Routes& routes, const std::string& method, const std::string& path) {
  const auto it = routes.find(path);
  if (it == routes.end()) return {404, kText, "not found: " + path};
  if (method != MHD_HTTP_METHOD_GET) return {405, kText, "method not allowed: " + method};
  return it->second();
}

HttpResponse Handle(const Routes& routes, const char* method, const char* url) {
  try {
    return Route(routes, method, url);
  } catch (const std::exception& e) {
    return {500, kText, std::string("internal error: ") + e.what()};
  } catch (...) {
    return {500, kText, "internal error"};
  }
}

// Queues `response` on `connection`; MHD_NO (MHD then closes the connection) if it cannot.
MHD_Result Reply(MHD_Connection* connection, const HttpResponse& response) {
  const unsigned status = response.status >= 100 && response.status <= 599
                              ? static_cast<unsigned>(response.status)
                              : 500;
  MHD_Response* message = MHD_create_response_from_buffer(
      response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
  if (message == nullptr) return MHD_NO;
  // A header value MHD rejects (a newline in it) is left out rather than sent.
  MHD_add_response_header(message, MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type.c_str());
  if (status == 405) MHD_add_response_header(message, MHD_HTTP_HEADER_ALLOW, "GET");
  const MHD_Result queued = MHD_queue_response(connection, status, message);
  MHD_destroy_response(message);
  return queued;
}

// MHD's access handler, on one of the server's threads; nothing may escape into MHD. It answers
// on the first call, before any request body arrives: only GET is served, and MHD discards the
// body of a request answered early (closing the connection if it cannot).
MHD_Result Access(void* cls, MHD_Connection* connection, const char* url, const char* method,
                  const char* /*version*/, const char* /*upload_data*/,
                  size_t* /*upload_data_size*/, void** /*request_state*/) {
  try {
    return Reply(connection, Handle(*static_cast<const Routes*>(cls), method, url));
  } catch (...) {
    return MHD_NO;  // out of memory building the reply: drop the connection
  }
}

std::string HostPort(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// A listening TCP socket bound to host:port (the first address `host` resolves to), with its
// bound port in *bound_port; or the reason it could not be made.
StatusOr<int> Listen(const std::string& host, int port, int backlog, int* bound_port) {
  const std::string where = HostPort(host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int resolved = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (resolved != 0) {
    return Unavailable("http server: cannot listen on " + where + ": " + ::gai_strerror(resolved));
  }
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    const int error = errno;
    ::freeaddrinfo(found);
    return Unavailable("http server: cannot listen on " + where + ": " + std::strerror(error));
  }
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  const bool bound = ::bind(fd, found->ai_addr, found->ai_addrlen) == 0;
  ::freeaddrinfo(found);
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  if (!bound || ::listen(fd, backlog) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
    const int error = errno;
    ::close(fd);
    return Unavailable("http server: cannot listen on " + where + ": " + std::strerror(error));
  }
  *bound_port = local.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port)
                    : ntohs(reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
  return fd;
}

}  // namespace

struct HttpServer::Impl {
  Routes routes;  // read by the server's threads until `daemon` is stopped
  MHD_Daemon* daemon = nullptr;
  int port = 0;
};

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options) {
  if (options.port < 0 || options.port > 65535) {
    return InvalidArgument("http server: port must be in 0..65535 (got " +
                           std::to_string(options.port) + ")");
  }
  if (options.host.empty()) return InvalidArgument("http server: host is empty");
  if (options.host.find_first_of(" /?#@") != std::string::npos) {
    return InvalidArgument("http server: host \"" + options.host + "\" is not an address or name");
  }
  if (options.threads < 1) return InvalidArgument("http server: threads must be at least 1");
  if (options.max_connections < 1) {
    return InvalidArgument("http server: max_connections must be at least 1");
  }
  if (options.idle_timeout_seconds < 1) {
    return InvalidArgument("http server: idle_timeout_seconds must be at least 1");
  }
  for (const auto& [path, handler] : options.routes) {
    if (path.empty() || path.front() != '/') {
      return InvalidArgument("http server: route \"" + path + "\" does not start with '/'");
    }
    if (handler == nullptr) return InvalidArgument("http server: route " + path + ": no handler");
  }

  auto impl = std::make_unique<Impl>();
  impl->routes = std::move(options.routes);
  StatusOr<int> fd = Listen(options.host, options.port, options.max_connections, &impl->port);
  if (!fd.ok()) return fd.status();
  // Each pool thread polls its own epoll set and runs the handlers of its connections.
  // MHD closes the listening socket when the daemon stops.
  impl->daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC, 0, nullptr, nullptr, &Access,
      &impl->routes, MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(*fd),
      MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned>(options.threads),
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(options.max_connections),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(options.idle_timeout_seconds),
      MHD_OPTION_END);
  if (impl->daemon == nullptr) {
    ::close(*fd);
    return Internal("http server: cannot start serving on " + HostPort(options.host, impl->port));
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// MHD_stop_daemon joins the pool threads (each finishes the handler it runs), then closes every
// connection and the listening socket.
HttpServer::~HttpServer() { MHD_stop_daemon(impl_->daemon); }

int HttpServer::port() const { return impl_->port; }

}  // namespace ringtrain::op
