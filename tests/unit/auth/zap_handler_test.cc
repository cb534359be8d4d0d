// The ZAP handler and CURVE sockets over real TCP on loopback: only the job's keys get a
// message through, and the receiver learns who sent it from the key.
#include "ringtrain/auth/zap_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ringtrain/auth/curve.h"

namespace ringtrain::auth {
namespace {

using namespace std::chrono_literals;

class ZapHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<JobKeys> keys = NewJobKeys(1, 2);
    ASSERT_TRUE(keys.ok());
    keys_ = *keys;
    StatusOr<std::unique_ptr<ZapHandler>> zap =
        ZapHandler::Start(server_context_, keys_.public_keys, [this](const std::string& line) {
          std::lock_guard<std::mutex> lock(mu_);
          log_.push_back(line);
        });
    ASSERT_TRUE(zap.ok()) << zap.status().ToString();
    zap_ = std::move(zap).value();
    server_.emplace(server_context_, zmq::socket_type::router);
    server_->set(zmq::sockopt::linger, 0);
    ASSERT_TRUE(ApplyServer(*server_, Of(Identity::Server(0))).ok());
    server_->bind("tcp://127.0.0.1:0");
    endpoint_ = server_->get(zmq::sockopt::last_endpoint);
  }
  void TearDown() override {
    server_.reset();
    zap_.reset();
  }

  Credentials Of(const Identity& id) { return {id, keys_.pairs.at(id), keys_.public_keys}; }

  // A DEALER of another context (as another process) that sends "hello" once connected.
  zmq::socket_t Client(const Credentials& c, bool curve = true) {
    zmq::socket_t s(client_context_, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    if (curve) {
      EXPECT_TRUE(ApplyClient(s, c, Identity::Server(0)).ok());
    }
    s.connect(endpoint_);
    s.send(zmq::str_buffer("hello"), zmq::send_flags::dontwait);
    return s;
  }

  // The sender identity of the next message the server receives within `wait`; "none" if
  // no message came, "anonymous" if it came without an identity.
  std::string Received(std::chrono::milliseconds wait) {
    zmq::pollitem_t item{server_->handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, wait) == 0) return "none";
    zmq::message_t routing;
    zmq::message_t body;
    EXPECT_TRUE(server_->recv(routing));
    EXPECT_TRUE(server_->recv(body));
    EXPECT_EQ(body.to_string(), "hello");
    std::optional<Identity> who = SenderOf(body);
    return who ? Name(*who) : "anonymous";
  }

  bool WaitForRefusals(uint64_t n) {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (zap_->refused() < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(10ms);
    }
    return zap_->refused() >= n;
  }

  JobKeys keys_;
  zmq::context_t server_context_;
  zmq::context_t client_context_;
  std::unique_ptr<ZapHandler> zap_;
  std::optional<zmq::socket_t> server_;
  std::string endpoint_;
  std::mutex mu_;
  std::vector<std::string> log_;
};

TEST_F(ZapHandlerTest, TheJobsKeysAreAdmittedAndNamedByTheirKey) {
  zmq::socket_t w1 = Client(Of(Identity::Worker(1)));
  EXPECT_EQ(Received(5s), "worker-1");
  zmq::socket_t sup = Client(Of(Identity::Supervisor()));
  EXPECT_EQ(Received(5s), "supervisor");
  EXPECT_EQ(zap_->admitted(), 2u);
  EXPECT_EQ(zap_->refused(), 0u);
}

TEST_F(ZapHandlerTest, AKeyFromOutsideTheJobGetsNothingThrough) {
  StatusOr<KeyPair> stranger = NewKeyPair();
  ASSERT_TRUE(stranger.ok());
  // It knows the server's public key (public keys are not secret) but is not in the job.
  Credentials c = Of(Identity::Worker(0));
  c.pair = *stranger;
  zmq::socket_t s = Client(c);
  ASSERT_TRUE(WaitForRefusals(1));
  EXPECT_EQ(Received(300ms), "none");
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_FALSE(log_.empty());
  EXPECT_THAT(log_[0], ::testing::HasSubstr("refused a connection from 127.0.0.1: key is not "
                                            "one of this job's"));
}

TEST_F(ZapHandlerTest, PlaintextAndAWrongServerKeyGetNothingThrough) {
  zmq::socket_t plain = Client(Of(Identity::Worker(0)), /*curve=*/false);
  // The worker's pair but another server's key: it cannot complete the handshake.
  Credentials c = Of(Identity::Worker(0));
  StatusOr<KeyPair> other = NewKeyPair();
  ASSERT_TRUE(other.ok());
  KeySet wrong;
  ASSERT_TRUE(wrong.Add(Identity::Server(0), other->public_key).ok());
  c.keys = wrong;
  zmq::socket_t misled = Client(c);
  EXPECT_EQ(Received(1s), "none");
  // And a real worker still gets through afterwards.
  zmq::socket_t w0 = Client(Of(Identity::Worker(0)));
  EXPECT_EQ(Received(5s), "worker-0");
}

TEST_F(ZapHandlerTest, OneHandlerPerContext) {
  StatusOr<std::unique_ptr<ZapHandler>> second =
      ZapHandler::Start(server_context_, keys_.public_keys, nullptr);
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace ringtrain::auth
