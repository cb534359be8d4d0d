#include "ringtrain/launch/loopback_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringtrain::launch {

StatusOr<std::vector<std::string>> FreeLoopbackEndpoints(int n) {
  // All held open at once, so that the kernel hands out distinct ports.
  std::vector<int> fds;
  std::vector<std::string> endpoints;
  Status failure = Status::Ok();
  for (int i = 0; i < n && failure.ok(); ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      failure = Unavailable(std::string("socket: ") + std::strerror(errno));
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      failure = Unavailable(std::string("finding a free loopback port: ") + std::strerror(errno));
      break;
    }
    endpoints.push_back("tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  }
  for (int fd : fds) ::close(fd);
  if (!failure.ok()) return failure;
  return endpoints;
}

}  // namespace ringtrain::launch
