// StreamLink and StreamListener on real Unix sockets: whole messages with their frames, in
// order, however the bytes are cut; what the socket does not take is kept and flushed; a
// malformed or oversized message is refused before its body is read; a closed peer is said.
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/transport/stream_link.h"

namespace ringtrain::transport {
namespace {

using Frames = std::vector<std::vector<std::byte>>;

std::vector<std::byte> Bytes(const std::string& s) {
  std::vector<std::byte> b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

std::vector<std::byte> Pattern(size_t n, int seed) {
  std::vector<std::byte> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>((i * 131 + seed) & 0xff);
  return b;
}

Status SendFrames(StreamLink& link, const Frames& frames) {
  std::vector<std::span<const std::byte>> spans(frames.begin(), frames.end());
  return link.Send(spans);
}

void ExpectFrames(const std::vector<zmq::message_t>& got, const Frames& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].size(), want[i].size()) << "frame " << i;
    if (want[i].empty()) continue;  // (memcmp of no bytes may not be given a null pointer)
    EXPECT_EQ(std::memcmp(got[i].data(), want[i].data(), want[i].size()), 0) << "frame " << i;
  }
}

class StreamLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/stream-link-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/s";
    auto listener = StreamListener::Listen(path_);
    ASSERT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(listener).value();
  }
  void TearDown() override {
    listener_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A connected pair: the client's link and the server's accepted one.
  void Pair(uint64_t max_bytes = 1 << 20) {
    auto c = StreamLink::Connect(path_, max_bytes);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(c).value();
    auto a = listener_->Accept(max_bytes);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_NE(*a, nullptr);
    server_ = std::move(a).value();
  }

  // Receives on `link` until `count` messages came, flushing `writer` when it can; fails after
  // 10 s.
  std::vector<std::vector<zmq::message_t>> ReceiveN(StreamLink& link, size_t count,
                                                    StreamLink* writer = nullptr) {
    std::vector<std::vector<zmq::message_t>> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got.size() < count && std::chrono::steady_clock::now() < deadline) {
      std::vector<pollfd> fds{{link.fd(), POLLIN, 0}};
      if (writer != nullptr && writer->wants_write()) fds.push_back({writer->fd(), POLLOUT, 0});
      ::poll(fds.data(), fds.size(), 100);
      if (fds.size() > 1 && (fds[1].revents & POLLOUT) != 0) {
        EXPECT_TRUE(writer->Flush().ok());
      }
      const Status s = link.Receive(&got, count - got.size());
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) break;
    }
    EXPECT_EQ(got.size(), count);
    return got;
  }

  // Writes raw bytes to the client's socket (a malformed peer).
  void WriteRaw(const std::vector<std::byte>& bytes) {
    ASSERT_EQ(::write(client_->fd(), bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<StreamListener> listener_;
  std::unique_ptr<StreamLink> client_;
  std::unique_ptr<StreamLink> server_;
};

TEST_F(StreamLinkTest, MessagesArriveWholeWithTheirFramesInOrder) {
  Pair();
  const Frames a{Bytes("header"), Pattern(1000, 1), {}, Pattern(3, 2)};
  const Frames b{Bytes("only a header")};
  const Frames c{{}, Bytes("x")};
  ASSERT_TRUE(SendFrames(*client_, a).ok());
  ASSERT_TRUE(SendFrames(*client_, b).ok());
  ASSERT_TRUE(SendFrames(*client_, c).ok());
  EXPECT_FALSE(client_->wants_write());
  auto got = ReceiveN(*server_, 3);
  ASSERT_EQ(got.size(), 3u);
  ExpectFrames(got[0], a);
  ExpectFrames(got[1], b);
  ExpectFrames(got[2], c);
  // And back the other way.
  ASSERT_TRUE(SendFrames(*server_, b).ok());
  auto back = ReceiveN(*client_, 1);
  ASSERT_EQ(back.size(), 1u);
  ExpectFrames(back[0], b);
}

TEST_F(StreamLinkTest, AMessageTheSocketCannotTakeAtOnceIsQueuedAndFlushed) {
  Pair(/*max_bytes=*/64 << 20);
  // Far above a Unix socket's buffer: most of it is queued (copied) and written as the reader
  // reads; the next message is queued behind it, in order.
  const Frames big{Bytes("big"), Pattern(16 << 20, 3), Pattern(5, 4)};
  const Frames small{Bytes("after")};
  ASSERT_TRUE(SendFrames(*client_, big).ok());
  EXPECT_TRUE(client_->wants_write());
  EXPECT_GT(client_->queued_bytes(), 0u);
  ASSERT_TRUE(SendFrames(*client_, small).ok());
  auto got = ReceiveN(*server_, 2, client_.get());
  ASSERT_EQ(got.size(), 2u);
  ExpectFrames(got[0], big);
  ExpectFrames(got[1], small);
  EXPECT_FALSE(client_->wants_write());
}

TEST_F(StreamLinkTest, ReceiveStopsAtTheMessagesAskedFor) {
  Pair();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(SendFrames(*client_, {Pattern(10, i)}).ok());
  std::vector<std::vector<zmq::message_t>> got;
  // Wait for every byte to arrive, then take them two by two.
  pollfd fd{server_->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&fd, 1, 5000), 1);
  ASSERT_TRUE(server_->Receive(&got, 2).ok());
  EXPECT_EQ(got.size(), 2u);
  EXPECT_TRUE(server_->has_whole_message()) << "read, not handed out";
  ASSERT_TRUE(server_->Receive(&got, 2).ok());
  EXPECT_EQ(got.size(), 4u);
  ASSERT_TRUE(server_->Receive(&got, 2).ok());
  ASSERT_EQ(got.size(), 5u);
  EXPECT_FALSE(server_->has_whole_message());
  for (int i = 0; i < 5; ++i) ExpectFrames(got[static_cast<size_t>(i)], {Pattern(10, i)});
}

// The wire form (see stream_link.h): u64 body, u32 frame count, u64 sizes, bytes.
std::vector<std::byte> Prefix(uint64_t body, uint32_t count, std::vector<uint64_t> sizes) {
  std::vector<std::byte> out(12 + 8 * sizes.size());
  std::memcpy(out.data(), &body, 8);
  std::memcpy(out.data() + 8, &count, 4);
  for (size_t i = 0; i < sizes.size(); ++i) std::memcpy(out.data() + 12 + 8 * i, &sizes[i], 8);
  return out;
}

TEST_F(StreamLinkTest, MalformedOrOversizedMessagesAreRefusedBeforeTheirBody) {
  struct Case {
    const char* what;
    std::vector<std::byte> bytes;
  };
  const std::vector<Case> cases{
      {"no frame", Prefix(4, 0, {})},
      {"too many frames", Prefix(4 + 8ull * 70000, 70000, {})},
      {"frames that do not add up to the body", Prefix(4 + 8 + 10, 1, {11})},
      {"a body above the limit (nothing of it sent)", Prefix(4 + 8 + (1 << 20) + 1, 1, {})},
      {"a body shorter than its sizes", Prefix(4, 1, {0})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Pair(/*max_bytes=*/1 << 20);
    WriteRaw(c.bytes);
    pollfd fd{server_->fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&fd, 1, 5000), 1);
    std::vector<std::vector<zmq::message_t>> got;
    const Status s = server_->Receive(&got, 10);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
    EXPECT_TRUE(got.empty());
  }
}

// A size that would be refused is not used to size the buffer while its prefix is incomplete:
// 8 bytes of a huge body and one more byte neither allocate it nor fail; the rest of the prefix
// is refused.
TEST_F(StreamLinkTest, AnIncompletePrefixDoesNotSizeTheBuffer) {
  Pair(/*max_bytes=*/1 << 20);
  const uint64_t huge = uint64_t{1} << 62;
  std::vector<std::byte> start(9, std::byte{0});
  std::memcpy(start.data(), &huge, sizeof(huge));
  WriteRaw(start);
  pollfd fd{server_->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&fd, 1, 5000), 1);
  std::vector<std::vector<zmq::message_t>> got;
  EXPECT_TRUE(server_->Receive(&got, 10).ok());
  EXPECT_TRUE(got.empty());
  EXPECT_FALSE(server_->has_whole_message());
  WriteRaw(std::vector<std::byte>(3, std::byte{1}));  // the frame count's other bytes
  ASSERT_EQ(::poll(&fd, 1, 5000), 1);
  EXPECT_EQ(server_->Receive(&got, 10).code(), StatusCode::kDataLoss);
}

TEST_F(StreamLinkTest, MessagesBeforeAMalformedOneAreKept) {
  Pair();
  ASSERT_TRUE(SendFrames(*client_, {Bytes("good")}).ok());
  WriteRaw(Prefix(4, 0, {}));
  pollfd fd{server_->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&fd, 1, 5000), 1);
  std::vector<std::vector<zmq::message_t>> got;
  const Status s = server_->Receive(&got, 10);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  ASSERT_EQ(got.size(), 1u);
  ExpectFrames(got[0], {Bytes("good")});
}

TEST_F(StreamLinkTest, APeerThatClosesIsSaidAndASendToItFails) {
  Pair();
  ASSERT_TRUE(SendFrames(*client_, {Bytes("last")}).ok());
  client_.reset();
  std::vector<std::vector<zmq::message_t>> got;
  Status s = Status::Ok();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (s.ok() && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{server_->fd(), POLLIN, 0};
    ::poll(&fd, 1, 100);
    s = server_->Receive(&got, 10);
  }
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  ASSERT_EQ(got.size(), 1u) << "what came before the close is read";
  ExpectFrames(got[0], {Bytes("last")});
  EXPECT_EQ(SendFrames(*server_, {Bytes("to nobody")}).code(), StatusCode::kUnavailable);
  EXPECT_EQ(SendFrames(*server_, {}).code(), StatusCode::kInvalidArgument);
}

TEST_F(StreamLinkTest, AcceptWithNothingWaitingReturnsNull) {
  auto a = listener_->Accept(1 << 20);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, nullptr);
}

TEST_F(StreamLinkTest, AListenerTakesOverItsPathAndRemovesItOnlyWhileItIsItsOwn) {
  // As libzmq's ipc:// bind: a second listener at the path takes it; new connections go to it.
  auto second = StreamListener::Listen(path_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto c = StreamLink::Connect(path_, 1024);
  ASSERT_TRUE(c.ok());
  pollfd fd{(*second)->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&fd, 1, 5000), 1);
  auto accepted = (*second)->Accept(1024);
  ASSERT_TRUE(accepted.ok());
  EXPECT_NE(*accepted, nullptr);
  // The first, going away, leaves the second's file; the second removes it.
  listener_.reset();
  EXPECT_TRUE(std::filesystem::exists(path_));
  EXPECT_TRUE(StreamLink::Connect(path_, 1024).ok());
  second->reset();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(StreamLinkTest, ConnectAndListenSayWhatIsWrong) {
  const Status nobody = StreamLink::Connect(dir_ + "/nobody", 1024).status();
  EXPECT_EQ(nobody.code(), StatusCode::kUnavailable);
  EXPECT_NE(nobody.message().find(dir_ + "/nobody"), std::string::npos) << nobody.ToString();
  const std::string long_path = dir_ + "/" + std::string(200, 'x');
  EXPECT_EQ(StreamLink::Connect(long_path, 1024).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StreamListener::Listen(long_path).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ringtrain::transport
