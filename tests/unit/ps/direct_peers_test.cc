// DirectPeers on real Unix sockets: each connection is a peer of its own id, whose messages come
// as a ROUTER's do and whose replies go back on it; a connection that sends something malformed
// is closed and counted while the others go on; no more than max_connections are kept.
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "link_messages.h"
#include "process_helpers.h"
#include "ringtrain/auth/curve.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/direct_peers.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/transport/message.h"

namespace ringtrain::ps {
namespace {

TEST(DirectPathOfTest, IsBesideAnIpcSocketAndNothingElse) {
  EXPECT_EQ(DirectPathOf("ipc:///run/job/ps-0"), "/run/job/ps-0.direct");
  EXPECT_EQ(DirectPathOf("tcp://127.0.0.1:7070"), "");
  EXPECT_EQ(DirectPathOf("ipc://@abstract"), "");
  EXPECT_EQ(DirectPathOf("ipc://"), "");
  EXPECT_EQ(DirectPathOf("ipc://*"), "") << "libzmq picks the name";
}

class DirectPeersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("direct-peers");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    peers_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Listen(size_t max_connections) {
    auto p = DirectPeers::Listen(dir_ + "/ps.direct", 1 << 20, max_connections);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    peers_ = std::move(p).value();
  }

  std::unique_ptr<transport::StreamLink> Connect() {
    auto c = transport::StreamLink::Connect(peers_->path(), 1 << 20);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  // One poll (up to 100 ms) and Service; what was handled goes to received_.
  size_t Serve() {
    std::vector<zmq::pollitem_t> items;
    peers_->AddPollItems(&items);
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
    return peers_->Service(items, [this](std::vector<zmq::message_t> frames) {
      received_.push_back(std::move(frames));
    });
  }

  // Serves until `count` messages were handled (or 5 s passed).
  void ServeUntil(size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (received_.size() < count && std::chrono::steady_clock::now() < deadline) Serve();
    ASSERT_EQ(received_.size(), count);
  }

  static proto::Header Stats(uint64_t id) {
    proto::Header h;
    h.set_kind(proto::STATS);
    h.set_request_id(id);
    return h;
  }

  std::string dir_;
  std::unique_ptr<DirectPeers> peers_;
  std::vector<std::vector<zmq::message_t>> received_;
};

TEST_F(DirectPeersTest, EachConnectionIsAPeerWhoseRepliesGoBackOnIt) {
  Listen(8);
  auto a = Connect();
  auto b = Connect();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  proto::Header ha = Stats(1);
  proto::Header hb = Stats(2);
  ASSERT_TRUE(transport::SendMessage(*a, &ha, {}).ok());
  ASSERT_TRUE(transport::SendMessage(*b, &hb, {}).ok());
  ServeUntil(2);
  EXPECT_EQ(peers_->connections(), 2u);
  std::map<uint64_t, std::string> peer_of;  // request id -> peer
  for (std::vector<zmq::message_t>& frames : received_) {
    ASSERT_EQ(frames.size(), 2u) << "[peer id][header], as from a ROUTER";
    const std::string peer(static_cast<const char*>(frames[0].data()), frames[0].size());
    EXPECT_TRUE(DirectPeers::Names(peer));
    std::vector<zmq::message_t> body;
    body.push_back(std::move(frames[1]));
    auto msg = transport::DecodeMessage(std::move(body));
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    peer_of[msg->header.request_id()] = peer;
  }
  ASSERT_EQ(peer_of.size(), 2u);
  EXPECT_NE(peer_of[1], peer_of[2]);
  // Answered crosswise in time, each on its own link.
  for (uint64_t id : {2u, 1u}) {
    proto::Header reply;
    reply.set_kind(proto::STATS_REPLY);
    reply.set_request_id(id);
    uint64_t sent = 0;
    ASSERT_TRUE(peers_->Send(peer_of[id], &reply, {}, &sent).ok());
    EXPECT_GT(sent, 0u);
  }
  const auto ra = testing::NextMessageOn(*a, std::chrono::seconds(5));
  const auto rb = testing::NextMessageOn(*b, std::chrono::seconds(5));
  ASSERT_TRUE(ra.has_value());
  ASSERT_TRUE(rb.has_value());
  EXPECT_EQ(ra->header.request_id(), 1u);
  EXPECT_EQ(rb->header.request_id(), 2u);
  // Names is the direct ids only: not a worker's routing id, nor one libzmq generates.
  EXPECT_FALSE(DirectPeers::Names("w0-123-abcdef"));
  EXPECT_FALSE(DirectPeers::Names(std::string("\0\0\0\0\1", 5)));
  uint64_t sent = 0;
  proto::Header nobody = Stats(3);
  EXPECT_FALSE(peers_->Send(std::string(DirectPeers::kIdBytes, 'x'), &nobody, {}, &sent).ok());
}

TEST_F(DirectPeersTest, AMalformedConnectionIsClosedAndCountedWhileTheOthersGoOn) {
  Listen(8);
  auto good = Connect();
  auto bad = Connect();
  ASSERT_NE(good, nullptr);
  ASSERT_NE(bad, nullptr);
  // A frame count of zero.
  std::vector<std::byte> junk(12, std::byte{0});
  const uint64_t body = 4;
  std::memcpy(junk.data(), &body, sizeof(body));
  ASSERT_EQ(::write(bad->fd(), junk.data(), junk.size()), 12);
  proto::Header h = Stats(7);
  ASSERT_TRUE(transport::SendMessage(*good, &h, {}).ok());
  size_t refused = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((received_.empty() || refused == 0) && std::chrono::steady_clock::now() < deadline) {
    refused += Serve();
  }
  EXPECT_EQ(refused, 1u);
  EXPECT_EQ(received_.size(), 1u);
  EXPECT_EQ(peers_->connections(), 1u);
  EXPECT_TRUE(testing::ClosedByPeer(*bad, std::chrono::seconds(5)));
  // The good one is still served.
  proto::Header again = Stats(8);
  ASSERT_TRUE(transport::SendMessage(*good, &again, {}).ok());
  ServeUntil(2);
}

TEST_F(DirectPeersTest, MessagesBeyondOneServicesShareAreHandledWithoutMoreComing) {
  Listen(8);
  auto a = Connect();
  ASSERT_NE(a, nullptr);
  Serve();  // accepted
  // Every message in one write (the link's wire form, stream_link.h), so that the server's one
  // read takes them all: the ones beyond a Service's share wait in the link's buffer, which no
  // poll announces.
  const size_t n = DirectPeers::kMessagesPerService + 6;
  std::vector<std::byte> bytes;
  for (size_t i = 0; i < n; ++i) {
    proto::Header h = Stats(i);
    h.set_wire_version(proto::WIRE_VERSION_1);
    const std::string head = h.SerializeAsString();
    const uint64_t size = head.size();
    const uint64_t body = 4 + 8 + size;
    const uint32_t count = 1;
    const auto put = [&bytes](const void* p, size_t len) {
      const auto* b = static_cast<const std::byte*>(p);
      bytes.insert(bytes.end(), b, b + len);
    };
    put(&body, 8);
    put(&count, 4);
    put(&size, 8);
    put(head.data(), head.size());
  }
  ASSERT_EQ(::write(a->fd(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  Serve();
  EXPECT_EQ(received_.size(), DirectPeers::kMessagesPerService);
  EXPECT_TRUE(peers_->has_buffered()) << "the rest is read, not handled";
  // Nothing more comes to the socket: the next Service hands them on all the same.
  std::vector<zmq::pollitem_t> items;
  peers_->AddPollItems(&items);
  peers_->Service(items, [this](std::vector<zmq::message_t> frames) {
    received_.push_back(std::move(frames));
  });
  EXPECT_EQ(received_.size(), n);
  EXPECT_FALSE(peers_->has_buffered());
}

TEST_F(DirectPeersTest, APeerThatDoesNotReadItsRepliesIsClosed) {
  Listen(8);
  auto a = Connect();
  ASSERT_NE(a, nullptr);
  proto::Header h = Stats(1);
  ASSERT_TRUE(transport::SendMessage(*a, &h, {}).ok());
  ServeUntil(1);
  const std::string peer(static_cast<const char*>(received_[0][0].data()), received_[0][0].size());
  // Replies of 1 MiB each, never read: the socket's buffer fills, then the queue; the Send
  // beyond 2 x 1 MiB queued fails.
  std::vector<char> big(1 << 20, 'x');
  Status sent = Status::Ok();
  int replies = 0;
  for (; replies < 64 && sent.ok(); ++replies) {
    proto::Header reply;
    reply.set_kind(proto::STATS_REPLY);
    std::vector<zmq::message_t> payload;
    payload.emplace_back(big.data(), big.size());
    uint64_t bytes = 0;
    sent = peers_->Send(peer, &reply, payload, &bytes);
  }
  EXPECT_EQ(sent.code(), StatusCode::kUnavailable) << "after " << replies << " replies";
  Serve();
  EXPECT_EQ(peers_->connections(), 0u);
}

TEST_F(DirectPeersTest, NoMoreThanMaxConnectionsAreKept) {
  Listen(1);
  auto first = Connect();
  ASSERT_NE(first, nullptr);
  Serve();
  auto second = Connect();
  ASSERT_NE(second, nullptr);
  for (int i = 0; i < 3; ++i) Serve();
  EXPECT_EQ(peers_->connections(), 1u);
  EXPECT_TRUE(testing::ClosedByPeer(*second, std::chrono::seconds(5)));
  proto::Header h = Stats(1);
  ASSERT_TRUE(transport::SendMessage(*first, &h, {}).ok());
  ServeUntil(1);
}

TEST_F(DirectPeersTest, CloseAllClosesEveryLinkAndSendsFailAtOnce) {
  Listen(8);
  auto a = Connect();
  ASSERT_NE(a, nullptr);
  proto::Header h = Stats(1);
  ASSERT_TRUE(transport::SendMessage(*a, &h, {}).ok());
  ServeUntil(1);
  const std::string peer(static_cast<const char*>(received_[0][0].data()), received_[0][0].size());
  peers_->CloseAll();
  proto::Header reply;
  reply.set_kind(proto::STATS_REPLY);
  uint64_t sent = 0;
  EXPECT_EQ(peers_->Send(peer, &reply, {}, &sent).code(), StatusCode::kUnavailable);
  Serve();
  EXPECT_EQ(peers_->connections(), 0u);
  EXPECT_TRUE(testing::ClosedByPeer(*a, std::chrono::seconds(5)));
}

}  // namespace
}  // namespace ringtrain::ps

namespace ringtrain::ps {
namespace {

std::unique_ptr<ServerCore> Core() {
  ring::HashRing hash_ring = ring::HashRing::Make({"ps-0"}).value();
  auto table = std::make_shared<const ring::PartitionTable>(
      ring::PartitionTable::Build({{"w", 0, 16}}, 8, hash_ring).value());
  ServerCoreConfig config;
  config.job = "j";
  config.num_workers = 1;
  config.table = table;
  config.optimizer = optim::MakeOptimizer({}).value();
  return ServerCore::Make(std::move(config), std::vector<float>(16, 0.0f)).value();
}

// A server's options with a direct path in a directory of the test's own.
class DirectServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("direct-server");
    ASSERT_FALSE(dir_.empty());
    options_.bind_endpoint = "tcp://127.0.0.1:0";
    options_.direct_path = dir_ + "/ps.direct";
    options_.poll_interval = std::chrono::milliseconds(20);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  zmq::context_t context_{1};
  ServerOptions options_;
};

TEST_F(DirectServerTest, BindRefusesDirectLinksWithCredentials) {
  ServerOptions& options = options_;
  zmq::context_t& context = context_;
  options.credentials = std::make_shared<auth::Credentials>();
  const Status both = ParameterServer::Bind(context, options, Core()).status();
  EXPECT_EQ(both.code(), StatusCode::kInvalidArgument) << both.ToString();
  EXPECT_NE(both.message().find("no direct links"), std::string::npos) << both.ToString();
  options.credentials = nullptr;
  auto server = ParameterServer::Bind(context, options, Core());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_TRUE((*server)->direct());
}

// A ZeroMQ peer that names itself as a direct link would have the replies to it written to that
// link: what it sends is dropped and counted, unanswered.
TEST_F(DirectServerTest, AZeroMQPeerNamedAsADirectLinkIsDroppedAndCounted) {
  zmq::context_t& context = context_;
  std::unique_ptr<ParameterServer> server =
      ParameterServer::Bind(context, options_, Core()).value();
  std::thread serve([&] { (void)server->Serve(); });
  auto ask = [&](const std::string& id) -> std::optional<proto::Header> {
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::routing_id, id);
    dealer.connect(server->endpoint());
    proto::Header h;
    h.set_wire_version(proto::WIRE_VERSION_1);
    h.set_kind(proto::STATS);
    h.set_request_id(5);
    const std::string head = h.SerializeAsString();
    dealer.send(zmq::buffer(head), zmq::send_flags::none);
    zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(1000)) <= 0) return std::nullopt;
    std::vector<zmq::message_t> frames;
    while (true) {
      zmq::message_t m;
      (void)dealer.recv(m);
      const bool more = m.more();
      frames.push_back(std::move(m));
      if (!more) break;
    }
    auto msg = transport::DecodeMessage(std::move(frames));
    if (!msg.ok()) return std::nullopt;
    return msg->header;
  };
  std::string forged("\0direct-", 8);
  forged.append(8, '\1');
  EXPECT_FALSE(ask(forged).has_value()) << "answered a peer named as a direct link";
  const std::optional<proto::Header> stats = ask("w0-test");
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->stats().messages_dropped(), 1u);
  EXPECT_NE(stats->incarnation(), 0u) << "every reply names the server's process";
  server->stop();
  serve.join();
}

}  // namespace
}  // namespace ringtrain::ps
