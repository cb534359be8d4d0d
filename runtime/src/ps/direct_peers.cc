#include "ringtrain/ps/direct_peers.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

#include "ringtrain/transport/message.h"

namespace ringtrain::ps {

namespace {

constexpr char kIdPrefix[] = {'\0', 'd', 'i', 'r', 'e', 'c', 't', '-'};

}  // namespace

std::string DirectPathOf(const std::string& endpoint) {
  constexpr std::string_view kIpc = "ipc://";
  // An abstract socket (ipc://@name) has no directory to protect a path beside it.
  // Nor has one bound where libzmq picks the name (ipc://*).
  if (!endpoint.starts_with(kIpc) || endpoint.size() == kIpc.size() ||
      endpoint[kIpc.size()] == '@' || endpoint.find('*') != std::string::npos) {
    return "";
  }
  return endpoint.substr(kIpc.size()) + ".direct";
}

StatusOr<std::unique_ptr<DirectPeers>> DirectPeers::Listen(const std::string& path,
                                                           uint64_t max_message_bytes,
                                                           size_t max_connections) {
  RT_ASSIGN_OR_RETURN(std::unique_ptr<transport::StreamListener> listener,
                      transport::StreamListener::Listen(path));
  return std::unique_ptr<DirectPeers>(
      new DirectPeers(std::move(listener), max_message_bytes, max_connections));
}

DirectPeers::DirectPeers(std::unique_ptr<transport::StreamListener> listener,
                         uint64_t max_message_bytes, size_t max_connections)
    : listener_(std::move(listener)),
      max_message_bytes_(max_message_bytes),
      max_connections_(max_connections) {}

bool DirectPeers::Names(const std::string& peer) {
  return peer.size() == kIdBytes && std::memcmp(peer.data(), kIdPrefix, sizeof(kIdPrefix)) == 0;
}

void DirectPeers::AddPollItems(std::vector<zmq::pollitem_t>* items) const {
  // Not while accepting is paused: a listener that cannot accept stays readable.
  const bool accepting = std::chrono::steady_clock::now() >= accept_paused_until_;
  items->push_back({nullptr, listener_->fd(), static_cast<short>(accepting ? ZMQ_POLLIN : 0), 0});
  for (const Conn& c : conns_) {
    const short events = static_cast<short>(ZMQ_POLLIN | (c.link->wants_write() ? ZMQ_POLLOUT : 0));
    items->push_back({nullptr, c.link->fd(), events, 0});
  }
}

size_t DirectPeers::Service(std::span<const zmq::pollitem_t> items, const Handler& handle) {
  size_t refused = 0;
  // The items describe the connections as they were when polled: handling a message may close
  // one (a failed Send marks it broken), so they are only removed at the end.
  const size_t polled = std::min(conns_.size(), items.size() > 0 ? items.size() - 1 : 0);
  for (size_t i = 0; i < polled; ++i) {
    const zmq::pollitem_t& item = items[i + 1];
    // Read too when whole messages wait in its buffer (the poll does not announce them).
    if ((item.revents == 0 && !conns_[i].link->has_whole_message()) || conns_[i].broken) continue;
    if ((item.revents & ZMQ_POLLOUT) != 0 && !conns_[i].link->Flush().ok()) {
      conns_[i].broken = true;
      continue;
    }
    if ((item.revents & (ZMQ_POLLIN | ZMQ_POLLERR)) == 0 && !conns_[i].link->has_whole_message()) {
      continue;
    }
    received_.clear();
    const Status read = conns_[i].link->Receive(&received_, kMessagesPerService);
    // Handled in order, then the connection is closed if the read ended in an error.
    // conns_ is not resized before the end (handlers only mark connections broken).
    const std::string& id = conns_[i].id;
    for (std::vector<zmq::message_t>& body : received_) {
      std::vector<zmq::message_t> frames;
      frames.reserve(body.size() + 1);
      frames.emplace_back(id.data(), id.size());
      for (zmq::message_t& f : body) frames.push_back(std::move(f));
      handle(std::move(frames));
    }
    received_.clear();
    if (!read.ok()) {
      conns_[i].broken = true;
      if (read.code() == StatusCode::kDataLoss) ++refused;
    }
  }
  // Links that broke, or whose replies overflowed (Send): closed.
  std::erase_if(conns_, [](const Conn& c) { return c.broken; });
  if (!items.empty() && (items[0].revents & ZMQ_POLLIN) != 0) {
    while (true) {
      StatusOr<std::unique_ptr<transport::StreamLink>> accepted =
          listener_->Accept(max_message_bytes_);
      if (!accepted.ok()) {
        // Out of descriptors, say: tried again a little later, not at every poll.
        accept_paused_until_ = std::chrono::steady_clock::now() + kAcceptPause;
        break;
      }
      if (*accepted == nullptr) break;
      if (conns_.size() >= max_connections_) continue;  // closed as it goes out of scope
      Conn& c = conns_.emplace_back();
      c.id.assign(kIdPrefix, sizeof(kIdPrefix));
      const uint64_t serial = next_serial_++;
      c.id.append(reinterpret_cast<const char*>(&serial), sizeof(serial));
      c.link = std::move(accepted).value();
    }
  }
  return refused;
}

DirectPeers::Conn* DirectPeers::Find(const std::string& peer) {
  for (Conn& c : conns_) {
    if (c.id == peer) return &c;
  }
  return nullptr;
}

Status DirectPeers::Send(const std::string& peer, proto::Header* header,
                         std::span<const zmq::message_t> payloads, uint64_t* bytes_sent) {
  Conn* c = Find(peer);
  if (c == nullptr || c->broken) return Unavailable("the direct peer is gone");
  Status sent = transport::SendMessage(*c->link, header, payloads, bytes_sent);
  if (!sent.ok()) {
    c->broken = true;
    return sent;
  }
  if (c->link->queued_bytes() > 2 * max_message_bytes_) {
    c->broken = true;
    return Unavailable("the direct peer does not read its replies");
  }
  return Status::Ok();
}

bool DirectPeers::has_buffered() const {
  return std::any_of(conns_.begin(), conns_.end(),
                     [](const Conn& c) { return !c.broken && c.link->has_whole_message(); });
}

}  // namespace ringtrain::ps
