// DirectPeers: a parameter server's same-host direct links (transport/stream_link.h), beside its
// ZeroMQ socket.
//
// A worker on the server's host (ipc:// endpoints, no CURVE) sends its hot-path requests over a
// Unix stream socket it connects to at the server's direct path, and gets their answers back on
// it (worker/ps_client.h, Direct link): the two processes' own threads write and read, without
// ZeroMQ's I/O threads in between. Everything else, and everything when no link can be made,
// goes through ZeroMQ. The path is beside the server's ipc:// socket, in the directory that
// protects it (DirectPathOf): who may connect is who may connect to the ZeroMQ socket.
//
// Each connection is a peer with an id of its own (kIdBytes bytes beginning with a zero byte
// and "direct"; the ids libzmq generates are 5 bytes, and the workers name their sockets "w..."),
// so that a request read from a link is handled exactly as one read from the ROUTER socket (the
// id its first frame) and its replies, which name that id, come back here (Names, Send). The
// server drops (and counts) what a ZeroMQ peer naming itself so sends. Service() reads whole
// messages and hands them on; a connection that breaks, or sends a malformed message or more
// than it may, is closed (the worker sends again through ZeroMQ what it had in flight on it), and
// those closed for what they sent are counted. At most `max_connections` at a time: more are
// closed as they come. Replies a peer does not read are queued up to 2 x max_message_bytes; the
// Send that goes beyond fails and the connection is closed.
//
// Thread-safety: none; the serving thread owns it.
#ifndef RINGTRAIN_PS_DIRECT_PEERS_H_
#define RINGTRAIN_PS_DIRECT_PEERS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/transport/stream_link.h"

namespace ringtrain::ps {

// The direct path of the server bound at `endpoint`: its ipc:// socket's path with ".direct"
// after it; empty for any other endpoint (no direct link). The one definition the server and
// its workers use.
std::string DirectPathOf(const std::string& endpoint);

class DirectPeers {
 public:
  static constexpr size_t kIdBytes = 16;
  // Whole messages read from one connection per Service(), so that none starves the others.
  static constexpr size_t kMessagesPerService = 64;

  // Listens at `path` (transport::StreamListener::Listen's errors).
  static StatusOr<std::unique_ptr<DirectPeers>> Listen(const std::string& path,
                                                       uint64_t max_message_bytes,
                                                       size_t max_connections);

  // True for an id Service() gives its messages (a reply to it goes to Send).
  static bool Names(const std::string& peer);

  const std::string& path() const { return listener_->path(); }
  size_t connections() const { return conns_.size(); }

  // Appends what to poll: the listener, then each connection (POLLOUT too while a reply is
  // queued).
  void AddPollItems(std::vector<zmq::pollitem_t>* items) const;

  // Called with each whole message read: frames [peer id][header][payloads...], as a ROUTER
  // socket gives them.
  using Handler = std::function<void(std::vector<zmq::message_t> frames)>;
  // After a poll of `items` (those AddPollItems appended, from the listener's on): writes what
  // is queued, reads (handing each whole message to `handle`), closes what broke, and accepts
  // new connections. Returns how many connections it closed for what they sent (malformed, or
  // a message above max_message_bytes).
  size_t Service(std::span<const zmq::pollitem_t> items, const Handler& handle);

  // Sends [header][payloads...] to `peer`; Unavailable when that connection is gone or broke
  // (then closed at the next Service).
  Status Send(const std::string& peer, proto::Header* header,
              std::span<const zmq::message_t> payloads, uint64_t* bytes_sent);

  // A connection has whole messages read and not handled yet (Service stopped at
  // kMessagesPerService): the next poll must not wait, since the socket will not announce them.
  bool has_buffered() const;

  // Closes every connection at the next Service(), and Send() to them fails from now on (their
  // workers send again through ZeroMQ what was in flight on them).
  void CloseAll() {
    for (Conn& c : conns_) c.broken = true;
  }

 private:
  struct Conn {
    std::string id;
    std::unique_ptr<transport::StreamLink> link;
    bool broken = false;  // to be closed (a Send failed, or its queue overflowed)
  };
  DirectPeers(std::unique_ptr<transport::StreamListener> listener, uint64_t max_message_bytes,
              size_t max_connections);
  Conn* Find(const std::string& peer);

  std::unique_ptr<transport::StreamListener> listener_;
  uint64_t max_message_bytes_;
  size_t max_connections_;
  static constexpr std::chrono::milliseconds kAcceptPause{100};

  std::vector<Conn> conns_;  // in the order of AddPollItems' items after the listener
  uint64_t next_serial_ = 1;
  std::chrono::steady_clock::time_point accept_paused_until_{};  // after an accept failed
  std::vector<std::vector<zmq::message_t>> received_;            // reused
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_DIRECT_PEERS_H_
