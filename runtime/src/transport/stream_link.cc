#include "ringtrain/transport/stream_link.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace ringtrain::transport {

namespace {

constexpr size_t kReadChunk = 64 << 10;  // bytes asked of the socket at least, per read
constexpr size_t kPrefixBytes = 8 + 4;   // body size, frame count
constexpr size_t kGrowStep = 1 << 20;    // most a read buffer grows by before data comes
constexpr size_t kMaxIovecs = 64;        // pieces written straight from the frames

StatusOr<sockaddr_un> AddressOf(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("unix socket path '" + path + "' must have 1 to " +
                           std::to_string(sizeof(addr.sun_path) - 1) + " characters");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

template <typename T>
void Put(std::vector<std::byte>* out, T value) {
  const auto* p = reinterpret_cast<const std::byte*>(&value);
  out->insert(out->end(), p, p + sizeof(T));
}

template <typename T>
T Get(const std::byte* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

}  // namespace

StatusOr<std::unique_ptr<StreamLink>> StreamLink::Connect(const std::string& path,
                                                          uint64_t max_message_bytes) {
  RT_ASSIGN_OR_RETURN(sockaddr_un addr, AddressOf(path));
  // Non-blocking from the start: a listener whose backlog is full fails the connect (EAGAIN)
  // instead of blocking it.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Unavailable(Errno("creating a unix socket"));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const std::string why = Errno("connecting to " + path);
    ::close(fd);
    return Unavailable(why);
  }
  return std::make_unique<StreamLink>(fd, max_message_bytes);
}

StreamLink::StreamLink(int fd, uint64_t max_message_bytes)
    : fd_(fd), max_message_bytes_(max_message_bytes) {
  const int flags = ::fcntl(fd_, F_GETFL, 0);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

StreamLink::~StreamLink() {
  if (fd_ >= 0) ::close(fd_);
}

Status StreamLink::Send(std::span<const std::span<const std::byte>> frames) {
  if (frames.empty() || frames.size() > kMaxFrames) {
    return InvalidArgument("a message has 1 to " + std::to_string(kMaxFrames) + " frames, not " +
                           std::to_string(frames.size()));
  }
  uint64_t body = 4 + 8 * static_cast<uint64_t>(frames.size());
  for (const auto& f : frames) body += f.size();
  // The prefix goes at the end of out_ (out_ holds only unsent bytes before it, or nothing).
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
  const size_t prefix_at = out_.size();
  Put<uint64_t>(&out_, body);
  Put<uint32_t>(&out_, static_cast<uint32_t>(frames.size()));
  for (const auto& f : frames) Put<uint64_t>(&out_, f.size());
  if (prefix_at > 0 || frames.size() + 1 > kMaxIovecs) {
    // Behind bytes still queued (or in more pieces than one write takes here): queued whole,
    // in order.
    for (const auto& f : frames) out_.insert(out_.end(), f.begin(), f.end());
    return Flush();
  }
  // Nothing queued: written straight from the frames, and only what the socket does not take
  // now is copied.
  iovec iov[kMaxIovecs];
  iov[0] = {out_.data(), out_.size()};
  for (size_t i = 0; i < frames.size(); ++i) {
    iov[i + 1] = {const_cast<std::byte*>(frames[i].data()), frames[i].size()};
  }
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = frames.size() + 1;
  ssize_t n;
  do {
    n = ::sendmsg(fd_, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    out_.resize(prefix_at);
    return Unavailable(Errno("writing to a direct link"));
  }
  size_t written = n < 0 ? 0 : static_cast<size_t>(n);
  // What was not written: the rest of the prefix stays where it is; the frames' rest is copied.
  const size_t prefix = out_.size();
  if (written >= prefix) {
    out_.clear();
    written -= prefix;
  } else {
    out_sent_ = written;
    written = 0;
  }
  for (const auto& f : frames) {
    const size_t skip = std::min(written, f.size());
    written -= skip;
    out_.insert(out_.end(), f.begin() + static_cast<ptrdiff_t>(skip), f.end());
  }
  if (out_.empty()) out_sent_ = 0;
  return Status::Ok();
}

Status StreamLink::Flush() {
  while (out_sent_ < out_.size()) {
    const ssize_t n =
        ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        Compact();
        return Status::Ok();
      }
      return Unavailable(Errno("writing to a direct link"));
    }
    out_sent_ += static_cast<size_t>(n);
  }
  out_.clear();
  out_sent_ = 0;
  return Status::Ok();
}

void StreamLink::Compact() {
  // What was written goes once it is half the queue, so that a peer that reads slowly, but
  // never lets the queue empty, does not grow it without bound.
  if (out_sent_ > 0 && out_sent_ >= out_.size() / 2) {
    out_.erase(out_.begin(), out_.begin() + static_cast<ptrdiff_t>(out_sent_));
    out_sent_ = 0;
  }
}

Status StreamLink::Receive(std::vector<std::vector<zmq::message_t>>* messages,
                           size_t max_messages) {
  const size_t before = messages->size();
  auto done = [&] { return messages->size() - before >= max_messages; };
  RT_RETURN_IF_ERROR(Parse(messages, max_messages));
  while (!done()) {
    // Room for at least a chunk, or for the rest of the message begun once its size is
    // checked (never a size straight off the wire).
    size_t need = kReadChunk;
    const size_t avail = in_end_ - in_begin_;
    uint64_t body = 0;
    if (avail >= kPrefixBytes && CheckPrefix(in_.data() + in_begin_, &body).ok() &&
        8 + body > avail) {
      // At most kGrowStep more at a time: a buffer grows with what arrives, not with what a
      // prefix announces (a peer that sends only prefixes holds no memory).
      need = std::max<size_t>(need,
                              std::min<size_t>(static_cast<size_t>(8 + body - avail), kGrowStep));
    }
    if (in_begin_ > 0 && in_.size() - in_end_ < need) {
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    }
    if (in_.size() - in_end_ < need) in_.resize(in_end_ + need);
    const size_t room = in_.size() - in_end_;
    const ssize_t n = ::recv(fd_, in_.data() + in_end_, room, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::Ok();
      return Unavailable(Errno("reading a direct link"));
    }
    if (n == 0) return Unavailable("the direct link was closed by its peer");
    in_end_ += static_cast<size_t>(n);
    RT_RETURN_IF_ERROR(Parse(messages, max_messages - (messages->size() - before)));
    // A read that did not fill the room found the socket empty: the caller's poll (level-
    // triggered) says when more comes, without another read to see nothing.
    if (static_cast<size_t>(n) < room) return Status::Ok();
  }
  return Status::Ok();
}

Status StreamLink::CheckPrefix(const std::byte* at, uint64_t* body_out) const {
  const auto body = Get<uint64_t>(at);
  const auto count = Get<uint32_t>(at + 8);
  if (count == 0 || count > kMaxFrames) {
    return DataLoss("a direct link's message says it has " + std::to_string(count) +
                    " frames (1 to " + std::to_string(kMaxFrames) + ")");
  }
  const uint64_t sizes = 8 * static_cast<uint64_t>(count);
  if (body < 4 + sizes || body - 4 - sizes > max_message_bytes_) {
    return DataLoss("a direct link's message of " + std::to_string(body) +
                    " bytes is malformed or above the " + std::to_string(max_message_bytes_) +
                    " bytes allowed");
  }
  *body_out = body;
  return Status::Ok();
}

bool StreamLink::has_whole_message() const {
  const size_t avail = in_end_ - in_begin_;
  if (avail < kPrefixBytes) return false;
  uint64_t body = 0;
  // A malformed one too: the next Receive refuses it without reading.
  return !CheckPrefix(in_.data() + in_begin_, &body).ok() || avail >= 8 + body;
}

Status StreamLink::Parse(std::vector<std::vector<zmq::message_t>>* messages, size_t max_messages) {
  size_t parsed = 0;
  while (parsed < max_messages) {
    const size_t avail = in_end_ - in_begin_;
    if (avail < kPrefixBytes) break;
    const std::byte* at = in_.data() + in_begin_;
    uint64_t body = 0;
    RT_RETURN_IF_ERROR(CheckPrefix(at, &body));
    const auto count = Get<uint32_t>(at + 8);
    const uint64_t sizes = 8 * static_cast<uint64_t>(count);
    if (avail < kPrefixBytes + sizes) break;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < count; ++i) {
      sum += std::min<uint64_t>(Get<uint64_t>(at + kPrefixBytes + 8 * i), body);
    }
    if (sum != body - 4 - sizes) {
      return DataLoss("a direct link's message has frames of " + std::to_string(sum) +
                      " bytes in a body of " + std::to_string(body - 4 - sizes));
    }
    if (avail < 8 + body) break;
    std::vector<zmq::message_t>& frames = messages->emplace_back();
    frames.reserve(count);
    const std::byte* data = at + kPrefixBytes + sizes;
    for (uint32_t i = 0; i < count; ++i) {
      const auto size = static_cast<size_t>(Get<uint64_t>(at + kPrefixBytes + 8 * i));
      frames.emplace_back(data, size);
      data += size;
    }
    in_begin_ += static_cast<size_t>(8 + body);
    ++parsed;
  }
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  return Status::Ok();
}

StatusOr<std::unique_ptr<StreamListener>> StreamListener::Listen(const std::string& path) {
  RT_ASSIGN_OR_RETURN(sockaddr_un addr, AddressOf(path));
  // Whatever is there is replaced, as libzmq's ipc:// bind replaces its path: a server that
  // takes over its predecessor's ipc:// socket takes over its direct path too, so that both
  // lead to the same process.
  ::unlink(path.c_str());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Unavailable(Errno("creating a unix socket"));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 64) != 0) {
    const std::string why = Errno("listening at " + path);
    ::close(fd);
    return Unavailable(why);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const std::string why = Errno("looking at " + path);
    ::close(fd);
    return Unavailable(why);
  }
  return std::unique_ptr<StreamListener>(new StreamListener(fd, path, st.st_dev, st.st_ino));
}

StreamListener::~StreamListener() {
  // Only its own file: a successor may have replaced it.
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
  ::close(fd_);
}

StatusOr<std::unique_ptr<StreamLink>> StreamListener::Accept(uint64_t max_message_bytes) {
  while (true) {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return std::make_unique<StreamLink>(fd, max_message_bytes);
    if (errno == EINTR) continue;
    // A connection that went away before it was accepted: nothing waits.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) {
      return std::unique_ptr<StreamLink>();
    }
    return Unavailable(Errno("accepting at " + path_));
  }
}

}  // namespace ringtrain::transport
