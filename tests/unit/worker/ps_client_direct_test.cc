// PsClient's direct links (PsClientOptions::direct_paths): a scripted server (fake_server.h) on
// its ZeroMQ socket, and the test itself on the server's direct path (a real Unix socket). A
// push through shared memory goes over the link and its answer comes back on it; an answer from
// another process than the ZeroMQ socket's, a link that closes with the push in flight, and a
// malformed answer each close the link, and the push goes again through ZeroMQ.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fake_server.h"
#include "link_messages.h"
#include "process_helpers.h"
#include "ringtrain/ps/pull_publisher.h"
#include "ringtrain/ps/shared_push_reader.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/ring/partition_table.h"
#include "ringtrain/transport/stream_link.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::worker {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kIncarnation = 0x5eed;

// One server; "w" of 10 and "b" of 6 elements in partitions of at most 8: 16 parameters.
std::shared_ptr<const ring::PartitionTable> Table() {
  ring::HashRing hash_ring = ring::HashRing::Make({"ps-0"}).value();
  auto table = ring::PartitionTable::Build({{"w", 0, 10}, {"b", 10, 6}}, 8, hash_ring).value();
  return std::make_shared<const ring::PartitionTable>(std::move(table));
}

class PsClientDirectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("ps-client-direct");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/ps-0.direct";
    listener_ = transport::StreamListener::Listen(path_).value();
  }
  void TearDown() override {
    listener_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start(std::vector<std::string> direct_paths) {
    PsClientOptions options;
    options.job = "j";
    options.table = table_;
    options.timeout = std::chrono::seconds(10);
    options.shared_memory = true;
    options.direct_paths = std::move(direct_paths);
    options.log = [this](const std::string& line) { log_.push_back(line); };
    options.endpoints.push_back(server_.endpoint());
    client_ = PsClient::Connect(context_, options).value();
    params_.assign(static_cast<size_t>(table_->total_size()), -1.0f);
  }

  // The reply a parameter server sends to `header`: every listed partition at `version`,
  // partition i filled with value + i, through the publisher (in shared memory if asked), from
  // the process `incarnation`.
  ps::Reply ReplyTo(const proto::Header& header, const std::string& peer, int64_t version,
                    float value, uint64_t incarnation = kIncarnation) {
    ps::Reply r;
    r.peer = peer;
    r.header = PullReply(header.request_id(), SlicesFor(header, version, value), &r.payloads);
    r.header.set_shared_ok(header.shared_ok());
    r.header.set_incarnation(incarnation);
    publisher_.Publish(/*generation=*/0, &r);
    return r;
  }

  // Answers the initial pull through ZeroMQ (from shared memory, so the worker knows the
  // server's host), from kIncarnation.
  void AnswerFirstPull() {
    std::optional<FakeRequest> pull = server_.Receive();
    ASSERT_TRUE(pull.has_value());
    ps::Reply r = ReplyTo(pull->header, pull->peer, 0, 1.0f);
    ASSERT_TRUE(server_.Send(*pull, std::move(r.header), std::move(r.payloads)).ok());
  }

  // The worker's link, accepted (5 s at most).
  std::unique_ptr<transport::StreamLink> AcceptLink() {
    pollfd fd{listener_->fd(), POLLIN, 0};
    if (::poll(&fd, 1, 5000) != 1) return nullptr;
    auto link = listener_->Accept(1 << 20);
    return link.ok() ? std::move(link).value() : nullptr;
  }

  // The next message on `link`, decoded (5 s at most).
  static std::optional<transport::Message> NextOn(transport::StreamLink& link) {
    return testing::NextMessageOn(link, std::chrono::seconds(5));
  }

  // What a worker does: the initial pull, then `steps` sync steps (a push each, pulled back).
  Status Train(int steps) {
    Status s = client_->Pull(0, params_);
    std::vector<float> g(static_cast<size_t>(table_->total_size()), 0.5f);
    transport::SharedBuffer<float> gradient(std::move(g));
    for (int step = 0; s.ok() && step < steps; ++step) {
      s = client_->PushPull({gradient, step, 4, 0.1f}, step + 1, params_);
    }
    return s;
  }

  void ExpectParams(float value) const { ExpectPartitionValues(*table_, params_, value); }

  std::string dir_;
  std::string path_;
  std::unique_ptr<transport::StreamListener> listener_;
  zmq::context_t context_{1};
  std::shared_ptr<const ring::PartitionTable> table_ = Table();
  FakeServer server_{context_};
  ps::PullPublisher publisher_{table_, 0, nullptr};
  std::vector<std::string> log_;
  std::unique_ptr<PsClient> client_;
  std::vector<float> params_;
};

TEST_F(PsClientDirectTest, APushThroughSharedMemoryGoesOverTheLinkAndItsAnswerComesBackOnIt) {
  Start({path_});
  bool zmq_quiet = false;
  std::thread script([&] {
    AnswerFirstPull();
    auto link = AcceptLink();
    ASSERT_NE(link, nullptr) << "the worker made no link";
    ps::SharedPushReader reader(/*num_workers=*/1);
    for (int step = 0; step < 2; ++step) {
      std::optional<transport::Message> push = NextOn(*link);
      ASSERT_TRUE(push.has_value());
      EXPECT_EQ(push->header.kind(), proto::PUSH);
      EXPECT_TRUE(push->header.pull_back());
      EXPECT_TRUE(transport::HasSharedPartitions(push->header));
      ASSERT_TRUE(reader.Resolve(&*push).ok());
      ps::Reply r = ReplyTo(push->header, "", step + 1, 2.0f + static_cast<float>(step));
      ASSERT_TRUE(transport::SendMessage(*link, &r.header, r.payloads).ok());
    }
    zmq_quiet = !server_.Receive(std::chrono::milliseconds(200)).has_value();
  });
  Status s = Train(/*steps=*/2);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(zmq_quiet) << "no push went through ZeroMQ";
  EXPECT_EQ(client_->direct_sent(), 2u);
  EXPECT_EQ(client_->direct_breaks(), 0u);
  ExpectParams(3.0f);
  EXPECT_TRUE(log_.empty()) << log_[0];
}

// A server that comes back (a new process at the same endpoint and direct path, after the old
// one and its link went away): the worker rejoins it, and its pushes go over a new link again,
// whose answers come from the new process (its incarnation, learned through ZeroMQ).
TEST_F(PsClientDirectTest, AfterAServerComesBackPushesGoOverANewLinkAgain) {
  Start({path_});
  std::vector<float> g(static_cast<size_t>(table_->total_size()), 0.5f);
  transport::SharedBuffer<float> gradient(std::move(g));
  std::unique_ptr<transport::StreamLink> old_link;
  std::thread first([&] {
    AnswerFirstPull();
    old_link = AcceptLink();
    ASSERT_NE(old_link, nullptr);
    std::optional<transport::Message> push = NextOn(*old_link);
    ASSERT_TRUE(push.has_value());
    ps::SharedPushReader reader(1);
    ASSERT_TRUE(reader.Resolve(&*push).ok());
    ps::Reply r = ReplyTo(push->header, "", 1, 2.0f);
    ASSERT_TRUE(transport::SendMessage(*old_link, &r.header, r.payloads).ok());
  });
  Status s = Train(/*steps=*/1);
  first.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(client_->direct_sent(), 1u);
  // The old process goes, and a new one takes its endpoint.
  const std::string endpoint = server_.endpoint();
  server_.Close(std::chrono::milliseconds(0));
  old_link.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // libzmq closes in the background
  FakeServer second(context_, endpoint);
  constexpr uint64_t kNew = kIncarnation + 7;
  bool last_direct = false;
  bool joined = false;
  std::thread script([&] {
    ps::SharedPushReader reader(1);
    std::unique_ptr<transport::StreamLink> link;
    // Serves both ways until the push of step 2 is answered, on whichever path it comes.
    const auto answer = [&](transport::Message* push) -> bool {
      if (transport::HasSharedPartitions(push->header)) {
        EXPECT_TRUE(reader.Resolve(push).ok());
      }
      return push->header.clock() == 2;
    };
    bool done = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done && std::chrono::steady_clock::now() < deadline) {
      pollfd fd{listener_->fd(), POLLIN, 0};
      if (link == nullptr && ::poll(&fd, 1, 0) == 1) link = listener_->Accept(1 << 20).value();
      if (link != nullptr) {
        std::vector<std::vector<zmq::message_t>> got;
        pollfd lf{link->fd(), POLLIN, 0};
        if (::poll(&lf, 1, 20) == 1) {
          ASSERT_TRUE(link->Receive(&got, 8).ok());
        }
        for (auto& frames : got) {
          auto push = transport::DecodeMessage(std::move(frames));
          ASSERT_TRUE(push.ok());
          done = answer(&*push);
          last_direct = done;
          ps::Reply r = ReplyTo(push->header, "", push->header.clock() + 1, 3.0f, kNew);
          ASSERT_TRUE(transport::SendMessage(*link, &r.header, r.payloads).ok());
        }
      }
      std::optional<FakeRequest> r = second.Receive(std::chrono::milliseconds(20));
      if (!r.has_value()) continue;
      if (r->header.kind() == proto::JOIN) {
        joined = true;
        proto::Header reply = ReplyHeader(proto::JOIN_REPLY, r->header.request_id());
        reply.set_clock(r->header.clock());
        reply.set_incarnation(kNew);
        ASSERT_TRUE(second.Send(*r, std::move(reply)).ok());
      } else if (r->header.kind() == proto::PUSH) {
        done = answer(r->message.get());
        ps::Reply reply = ReplyTo(r->header, r->peer, r->header.clock() + 1, 3.0f, kNew);
        ASSERT_TRUE(second.Send(*r, std::move(reply.header), std::move(reply.payloads)).ok());
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the connection's events
  s = client_->PushPull({gradient, 1, 4, 0.1f}, 2, params_);
  const uint64_t breaks = client_->direct_breaks();  // the old link's end, if seen
  if (s.ok()) s = client_->PushPull({gradient, 2, 4, 0.1f}, 3, params_);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(joined);
  EXPECT_EQ(client_->rejoins(), 1u);
  EXPECT_TRUE(last_direct) << "the last push went over a new link";
  EXPECT_EQ(client_->direct_breaks(), breaks) << "and its answer, from the new process, was taken";
  ExpectParams(3.0f);
}

// What the test does with the push that came over the link, before the worker sends it again
// through ZeroMQ.
enum class Fault { kAnotherProcess, kClosed, kMalformed };

class PsClientDirectFaultTest : public PsClientDirectTest,
                                public ::testing::WithParamInterface<Fault> {};

TEST_P(PsClientDirectFaultTest, ThePushInFlightGoesAgainThroughZeroMQ) {
  const Fault fault = GetParam();
  Start({path_});
  uint64_t direct_id = 0;
  uint64_t zmq_id = 0;
  bool framed = false;
  std::thread script([&] {
    AnswerFirstPull();
    auto link = AcceptLink();
    ASSERT_NE(link, nullptr);
    std::optional<transport::Message> push = NextOn(*link);
    ASSERT_TRUE(push.has_value());
    direct_id = push->header.request_id();
    if (fault == Fault::kAnotherProcess) {
      // With frames (the publisher would keep these values for round 1 in shared memory).
      std::vector<zmq::message_t> payloads;
      proto::Header h =
          PullReply(push->header.request_id(), SlicesFor(push->header, 1, 9.0f), &payloads);
      h.set_incarnation(kIncarnation + 1);
      ASSERT_TRUE(transport::SendMessage(*link, &h, payloads).ok());
    } else if (fault == Fault::kClosed) {
      link.reset();
    } else {
      const std::string junk = "not a header";
      const std::span<const std::byte> frame = std::as_bytes(std::span(junk));
      ASSERT_TRUE(link->Send(std::span(&frame, 1)).ok());
    }
    std::optional<FakeRequest> again = server_.Receive();
    ASSERT_TRUE(again.has_value()) << "the push did not come through ZeroMQ";
    zmq_id = again->header.request_id();
    framed = !transport::HasSharedPartitions(again->header) && !again->message->payloads.empty();
    ps::Reply r = ReplyTo(again->header, again->peer, 1, 2.0f);
    ASSERT_TRUE(server_.Send(*again, std::move(r.header), std::move(r.payloads)).ok());
  });
  Status s = Train(/*steps=*/1);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(zmq_id, direct_id) << "the same request";
  EXPECT_TRUE(framed) << "sent again with frames";
  EXPECT_EQ(client_->direct_breaks(), 1u);
  EXPECT_EQ(client_->direct_resent(), 1u);
  ExpectParams(2.0f);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_THAT(log_[0], HasSubstr("the direct link to parameter server 0 closed ("));
  EXPECT_THAT(log_[0], HasSubstr("through ZeroMQ"));
  if (fault == Fault::kAnotherProcess) {
    EXPECT_THAT(log_[0], HasSubstr("another process"));
  }
  if (fault == Fault::kMalformed) {
    EXPECT_THAT(log_[0], HasSubstr("malformed"));
  }
}

INSTANTIATE_TEST_SUITE_P(Faults, PsClientDirectFaultTest,
                         ::testing::Values(Fault::kAnotherProcess, Fault::kClosed,
                                           Fault::kMalformed),
                         [](const ::testing::TestParamInfo<Fault>& p) {
                           return p.param == Fault::kAnotherProcess ? std::string("AnotherProcess")
                                  : p.param == Fault::kClosed       ? std::string("Closed")
                                                                    : std::string("Malformed");
                         });

TEST_F(PsClientDirectTest, NoListenerAtThePathIsSaidOnceAndPushesGoThroughZeroMQ) {
  Start({dir_ + "/nobody.direct"});
  std::thread script([&] {
    AnswerFirstPull();
    for (int step = 0; step < 2; ++step) {
      std::optional<FakeRequest> push = server_.Receive();
      ASSERT_TRUE(push.has_value());
      EXPECT_TRUE(transport::HasSharedPartitions(push->header));
      ps::SharedPushReader reader(1);
      ASSERT_TRUE(reader.Resolve(push->message.get()).ok());
      ps::Reply r = ReplyTo(push->header, push->peer, step + 1, 2.0f);
      ASSERT_TRUE(server_.Send(*push, std::move(r.header), std::move(r.payloads)).ok());
    }
  });
  Status s = Train(/*steps=*/2);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(client_->direct_sent(), 0u);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_THAT(log_[0], HasSubstr("no direct link to parameter server 0"));
  EXPECT_THAT(log_[0], HasSubstr("nobody.direct"));
}

TEST(PsClientDirectOptionsTest, ConnectRefusesDirectPathsWithCredentialsOrOfAnotherCount) {
  zmq::context_t context(1);
  PsClientOptions options;
  options.job = "j";
  options.table = Table();
  options.endpoints = {"tcp://127.0.0.1:1"};
  options.direct_paths = {"/tmp/a", "/tmp/b"};
  EXPECT_EQ(PsClient::Connect(context, options).status().code(), StatusCode::kInvalidArgument);
  options.direct_paths = {"/tmp/a"};
  options.credentials = std::make_shared<auth::Credentials>();
  const Status both = PsClient::Connect(context, options).status();
  EXPECT_EQ(both.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(both.message(), HasSubstr("credentials"));
}

}  // namespace
}  // namespace ringtrain::worker
