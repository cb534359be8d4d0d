#include "link_messages.h"

#include <poll.h>

#include <utility>
#include <vector>

namespace ringtrain::testing {

std::optional<transport::Message> NextMessageOn(transport::StreamLink& link,
                                                std::chrono::milliseconds wait) {
  std::vector<std::vector<zmq::message_t>> got;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (got.empty() && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{link.fd(), POLLIN, 0};
    ::poll(&fd, 1, 100);
    if (!link.Receive(&got, 1).ok()) return std::nullopt;
  }
  if (got.empty()) return std::nullopt;
  StatusOr<transport::Message> msg = transport::DecodeMessage(std::move(got[0]));
  if (!msg.ok()) return std::nullopt;
  return std::move(msg).value();
}

bool ClosedByPeer(transport::StreamLink& link, std::chrono::milliseconds wait) {
  std::vector<std::vector<zmq::message_t>> got;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fd{link.fd(), POLLIN, 0};
    ::poll(&fd, 1, 100);
    got.clear();
    if (link.Receive(&got, 16).code() == StatusCode::kUnavailable) return true;
  }
  return false;
}

}  // namespace ringtrain::testing
