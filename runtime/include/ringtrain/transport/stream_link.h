// Whole multipart messages over a connected Unix stream socket, without blocking: the same-host
// direct link between a worker and a parameter server (worker/ps_client.h, ps/direct_peers.h).
//
// Through ZeroMQ every message wakes three threads: the sender's I/O thread, which writes it
// to the kernel, the receiver's I/O thread, which reads it, and the receiver. Over a direct
// link the sender's own thread writes it and the receiver's own thread reads it: on a host
// whose cores the job's processes share, a synchronous round's hand-offs are most of what a
// step costs beyond its arithmetic.
//
// Wire form of a message, in this host's byte order (both ends are on this host): the body's
// size (u64), the frame count (u32), each frame's size (u64), then the frames' bytes. A
// receiver refuses a message whose body exceeds its max_message_bytes, that has no frame or
// more than kMaxFrames, or whose frame sizes do not add up to the body, before it reads the
// body (DataLoss): after that the stream cannot be resynchronised, and the link is to be
// closed.
//
// Send writes what the socket takes at once, straight from the frames (sendmsg over them, no
// copy), and keeps a copy of the rest for Flush, to be called when the socket is writable
// (wants_write()). Receive reads what has arrived and returns the messages it completes, each
// frame a zmq::message_t of its own (so that a receiver hands them on as ZeroMQ's).
//
// Errors: Unavailable when the peer has closed the connection or it broke; the link is then
// to be closed. Nothing blocks: a socket that takes nothing leaves the message queued.
//
// Thread-safety: none; one thread owns a link (and a listener).
#ifndef RINGTRAIN_TRANSPORT_STREAM_LINK_H_
#define RINGTRAIN_TRANSPORT_STREAM_LINK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/common/status.h"

namespace ringtrain::transport {

class StreamLink {
 public:
  static constexpr uint32_t kMaxFrames = 1 << 16;

  // Connects to the listening socket at `path`. A local connect completes or fails at once:
  // Unavailable (naming the path) when nothing listens there, InvalidArgument for a path too
  // long for a Unix socket address.
  static StatusOr<std::unique_ptr<StreamLink>> Connect(const std::string& path,
                                                       uint64_t max_message_bytes);
  // Takes a connected socket (closed with the link) and makes it non-blocking.
  StreamLink(int fd, uint64_t max_message_bytes);
  ~StreamLink();
  StreamLink(const StreamLink&) = delete;
  StreamLink& operator=(const StreamLink&) = delete;

  int fd() const { return fd_; }

  // Queues one message of `frames` (at least one) and writes what the socket takes now.
  // Unavailable when the connection is broken (the link is then to be closed).
  Status Send(std::span<const std::span<const std::byte>> frames);
  // Writes what is queued as far as the socket takes it.
  Status Flush();
  // Bytes queued and not written yet.
  uint64_t queued_bytes() const { return out_.size() - out_sent_; }
  bool wants_write() const { return queued_bytes() > 0; }

  // Reads what has arrived (until the socket has no more, or until `max_messages` messages are
  // whole) and appends each whole message's frames to *messages. Unavailable when the peer
  // closed or the connection broke, DataLoss for a malformed message (see the top); messages
  // completed before either are appended all the same.
  Status Receive(std::vector<std::vector<zmq::message_t>>* messages, size_t max_messages);
  // A whole message (or a malformed one) has been read and waits for the next Receive, which
  // returns it without the socket: a poll does not announce it (after a Receive cut short by
  // max_messages).
  bool has_whole_message() const;

 private:
  // Parses whole messages at the front of in_ into *messages, up to max_messages in all.
  Status Parse(std::vector<std::vector<zmq::message_t>>* messages, size_t max_messages);
  // Checks the prefix at `at` (kPrefixBytes bytes: body size and frame count) and gives the
  // body's size; DataLoss when the message cannot be one this link takes.
  Status CheckPrefix(const std::byte* at, uint64_t* body) const;
  // Drops the written part of out_ once it is half of it.
  void Compact();

  int fd_;
  uint64_t max_message_bytes_;
  std::vector<std::byte> in_;  // [in_begin_, in_end_): received bytes not parsed yet
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  std::vector<std::byte> out_;  // [out_sent_, end): queued bytes
  size_t out_sent_ = 0;
};

// A listening Unix stream socket; its path is removed when it is destroyed (unless another
// listener has replaced it meanwhile).
class StreamListener {
 public:
  // Listens at `path`, replacing whatever is there, as libzmq's ipc:// bind does (a server
  // replacing another takes over its path). InvalidArgument for a path too long for a Unix
  // socket address.
  static StatusOr<std::unique_ptr<StreamListener>> Listen(const std::string& path);
  ~StreamListener();
  StreamListener(const StreamListener&) = delete;
  StreamListener& operator=(const StreamListener&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // The next waiting connection as a link, or null when none waits.
  StatusOr<std::unique_ptr<StreamLink>> Accept(uint64_t max_message_bytes);

 private:
  StreamListener(int fd, std::string path, uint64_t dev, uint64_t ino)
      : fd_(fd), path_(std::move(path)), dev_(dev), ino_(ino) {}
  int fd_;
  std::string path_;
  uint64_t dev_;  // the socket file's, to remove it only if it is still this listener's
  uint64_t ino_;
};

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_STREAM_LINK_H_
