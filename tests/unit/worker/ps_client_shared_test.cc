// PsClient reading pull replies from a server's shared memory (PsClientOptions::shared_memory):
// a scripted server (fake_server.h) whose replies go through a real ps::PullPublisher, as a
// parameter server's do. The client asks only in sync mode, copies from the segment, pulls again
// with frames when its copy may be torn, and goes on with frames from a server whose memory it
// cannot open. And pushes the other way, read by a real ps::SharedPushReader: only to a server
// whose memory the worker has read, and again with frames (from then on) when it is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fake_server.h"
#include "ringtrain/ps/pull_publisher.h"
#include "ringtrain/ps/shared_push_reader.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/ring/partition_table.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::worker {
namespace {

using ::testing::HasSubstr;

// One server; "w" of 10 and "b" of 6 elements in partitions of at most 8: 16 parameters.
std::shared_ptr<const ring::PartitionTable> Table() {
  ring::HashRing hash_ring = ring::HashRing::Make({"ps-0"}).value();
  auto table = ring::PartitionTable::Build({{"w", 0, 10}, {"b", 10, 6}}, 8, hash_ring).value();
  return std::make_shared<const ring::PartitionTable>(std::move(table));
}

class PsClientSharedTest : public ::testing::Test {
 protected:
  void Start(bool shared_memory, ps::Consistency consistency = ps::Consistency::kSync) {
    PsClientOptions options;
    options.job = "j";
    options.table = table_;
    options.consistency = consistency;
    options.timeout = std::chrono::seconds(5);
    options.shared_memory = shared_memory;
    options.log = [this](const std::string& line) { log_.push_back(line); };
    options.endpoints.push_back(server_.endpoint());
    client_ = PsClient::Connect(context_, options).value();
    params_.assign(static_cast<size_t>(table_->total_size()), -1.0f);
  }

  // The reply a parameter server sends to `to`: every listed partition at `version`, partition i
  // filled with value + i, through the publisher (in shared memory if the pull asked).
  ps::Reply ReplyTo(const FakeRequest& to, int64_t version, float value) {
    ps::Reply r;
    r.peer = to.peer;
    r.header = PullReply(to.header.request_id(), SlicesFor(to.header, version, value), &r.payloads);
    r.header.set_shared_ok(to.header.shared_ok());
    publisher_.Publish(/*generation=*/0, &r);
    return r;
  }

  void Send(const FakeRequest& to, ps::Reply r) {
    ASSERT_TRUE(server_.Send(to, std::move(r.header), std::move(r.payloads)).ok());
  }

  FakeRequest ReceivePull() {
    std::optional<FakeRequest> r = server_.Receive();
    EXPECT_TRUE(r.has_value());
    EXPECT_EQ(r->header.kind(), proto::PULL);
    return *r;
  }

  void ExpectParams(float value) const { ExpectPartitionValues(*table_, params_, value); }

  zmq::context_t context_{1};
  std::shared_ptr<const ring::PartitionTable> table_ = Table();
  FakeServer server_{context_};
  ps::PullPublisher publisher_{table_, 0, nullptr};
  std::vector<std::string> log_;
  std::unique_ptr<PsClient> client_;
  std::vector<float> params_;
};

TEST_F(PsClientSharedTest, ASyncPullIsCopiedFromTheServersSharedMemory) {
  Start(/*shared_memory=*/true);
  bool asked = false;
  std::thread script([&] {
    FakeRequest pull = ReceivePull();
    asked = pull.header.shared_ok();
    ps::Reply r = ReplyTo(pull, 0, 3.0f);
    EXPECT_TRUE(r.header.partitions(0).shared());
    EXPECT_TRUE(r.payloads.empty());
    Send(pull, std::move(r));
  });
  Status s = client_->Pull(0, params_);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(asked);
  ExpectParams(3.0f);
  EXPECT_EQ(client_->bytes_pulled(), 16 * sizeof(float));
  EXPECT_EQ(client_->bytes_pulled_shared(), 16 * sizeof(float));
  EXPECT_EQ(client_->shared_retries(), 0u);
}

TEST_F(PsClientSharedTest, ACopyTheServerWroteOverIsPulledAgainWithFrames) {
  Start(/*shared_memory=*/true);
  bool asked_again = true;
  std::thread script([&] {
    FakeRequest pull = ReceivePull();
    ps::Reply stale = ReplyTo(pull, 0, 1.0f);
    // A later version goes into the same slots before the worker copies the first reply.
    ps::Reply later = ReplyTo(pull, 1, 2.0f);
    Send(pull, std::move(stale));
    FakeRequest again = ReceivePull();
    asked_again = again.header.shared_ok();
    Send(again, ReplyTo(again, 0, 5.0f));  // frames: the pull did not ask
  });
  int64_t version = -1;
  Status s = client_->Pull(0, params_, &version);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(asked_again) << "the second try asks for frames";
  ExpectParams(5.0f);
  EXPECT_EQ(version, 0);
  EXPECT_EQ(client_->shared_retries(), 1u);
  EXPECT_EQ(client_->bytes_pulled_shared(), 0u);
}

TEST_F(PsClientSharedTest, AServerWhoseMemoryCannotBeOpenedIsAskedWithFramesFromThenOn) {
  Start(/*shared_memory=*/true);
  std::vector<bool> asked;
  std::thread script([&] {
    FakeRequest pull = ReceivePull();
    asked.push_back(pull.header.shared_ok());
    ps::Reply r = ReplyTo(pull, 0, 1.0f);
    r.header.mutable_segment()->set_fd(1 << 20);  // as if in another PID namespace
    Send(pull, std::move(r));
    for (int i = 0; i < 2; ++i) {
      FakeRequest next = ReceivePull();
      asked.push_back(next.header.shared_ok());
      Send(next, ReplyTo(next, 0, 4.0f));
    }
  });
  Status first = client_->Pull(0, params_);
  Status second = client_->Pull(0, params_);
  script.join();
  ASSERT_TRUE(first.ok()) << first.ToString();
  ASSERT_TRUE(second.ok()) << second.ToString();
  EXPECT_EQ(asked, (std::vector<bool>{true, false, false}));
  ExpectParams(4.0f);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_THAT(log_[0], HasSubstr("cannot read its shared memory"));
  EXPECT_THAT(log_[0], HasSubstr("pulling through the socket"));
}

TEST_F(PsClientSharedTest, RejectsSharedMemoryItDidNotAskFor) {
  Start(/*shared_memory=*/false);
  std::thread script([&] {
    FakeRequest pull = ReceivePull();
    EXPECT_FALSE(pull.header.shared_ok());
    pull.header.set_shared_ok(true);  // the server answers as if it had asked
    Send(pull, ReplyTo(pull, 0, 1.0f));
  });
  Status s = client_->Pull(0, params_);
  script.join();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("did not ask for it"));
  EXPECT_EQ(params_[0], -1.0f) << "a rejected reply changes nothing";
}

TEST_F(PsClientSharedTest, OnlySyncPullsAsk) {
  Start(/*shared_memory=*/true, ps::Consistency::kAsync);
  bool asked = true;
  std::thread script([&] {
    FakeRequest pull = ReceivePull();
    asked = pull.header.shared_ok();
    Send(pull, ReplyTo(pull, 0, 1.0f));
  });
  Status s = client_->Pull(0, params_);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(asked) << "outside sync a server may write while the worker copies";
  ExpectParams(1.0f);
}

// Pushes: once the worker has read the server's memory (so it is on its host), a push's
// partitions go into the worker's own segment and the PUSH names them there.
class PsClientSharedPushTest : public PsClientSharedTest {
 protected:
  // The gradient: parameter j is 10 + j.
  transport::SharedBuffer<float> Gradient() const {
    std::vector<float> g(static_cast<size_t>(table_->total_size()));
    for (size_t j = 0; j < g.size(); ++j) g[j] = 10.0f + static_cast<float>(j);
    return transport::SharedBuffer<float>(std::move(g));
  }

  // Answers the initial pull (from shared memory, so the worker knows the server's host).
  void AnswerFirstPull() {
    FakeRequest pull = ReceivePull();
    Send(pull, ReplyTo(pull, 0, 1.0f));
  }

  FakeRequest ReceivePush() {
    std::optional<FakeRequest> r = server_.Receive();
    EXPECT_TRUE(r.has_value());
    EXPECT_EQ(r->header.kind(), proto::PUSH);
    return *r;
  }

  // Every partition of `msg` (frames) holds the gradient's values.
  void ExpectGradient(const transport::Message& msg) const {
    ASSERT_EQ(msg.payloads.size(), static_cast<size_t>(msg.header.partitions_size()));
    for (int i = 0; i < msg.header.partitions_size(); ++i) {
      const ring::Partition& p = table_->partition(msg.header.partitions(i).id());
      std::span<const float> got = msg.Floats(static_cast<size_t>(i));
      ASSERT_EQ(got.size(), static_cast<size_t>(p.size));
      for (int64_t j = 0; j < p.size; ++j) {
        EXPECT_EQ(got[static_cast<size_t>(j)], 10.0f + static_cast<float>(p.offset + j));
      }
    }
  }

  // What a worker does: the initial pull, then `steps` sync steps of the gradient (a push each,
  // answered with the next round's parameters).
  Status Train(int steps) {
    Status s = client_->Pull(0, params_);
    transport::SharedBuffer<float> gradient = Gradient();
    for (int step = 0; s.ok() && step < steps; ++step) {
      s = client_->PushPull({gradient, step, 4, 0.1f}, step + 1, params_);
    }
    return s;
  }
};

TEST_F(PsClientSharedPushTest, APushIsReadFromTheWorkersSharedMemory) {
  Start(/*shared_memory=*/true);
  std::vector<bool> shared;
  std::thread script([&] {
    AnswerFirstPull();
    ps::SharedPushReader reader(/*num_workers=*/1);
    for (int step = 0; step < 2; ++step) {
      FakeRequest push = ReceivePush();
      shared.push_back(transport::HasSharedPartitions(push.header));
      transport::Message& msg = *push.message;
      for (const zmq::message_t& frame : msg.payloads) EXPECT_EQ(frame.size(), 0u);
      Status read = reader.Resolve(&msg);
      ASSERT_TRUE(read.ok()) << read.ToString();
      ExpectGradient(msg);
      // Answered with the next round's parameters, from the server's shared memory.
      EXPECT_TRUE(push.header.pull_back());
      EXPECT_TRUE(push.header.shared_ok());
      Send(push, ReplyTo(push, step + 1, 2.0f));
    }
    EXPECT_EQ(reader.segments_opened(), 1u) << "mapped once for the worker's process";
  });
  Status s = Train(/*steps=*/2);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(shared, (std::vector<bool>{true, true}));
  EXPECT_EQ(client_->bytes_pushed(), 2 * 16 * sizeof(float));
  EXPECT_EQ(client_->bytes_pushed_shared(), 2 * 16 * sizeof(float));
  EXPECT_EQ(client_->bytes_pulled_shared(), 3 * 16 * sizeof(float)) << "every reply";
  ExpectParams(2.0f);
}

TEST_F(PsClientSharedPushTest, APushTheServerCannotReadIsSentAgainWithFramesAndSoAreTheNext) {
  Start(/*shared_memory=*/true);
  std::vector<bool> shared;
  uint64_t refused_id = 0;
  uint64_t resent_id = 0;
  std::thread script([&] {
    AnswerFirstPull();
    FakeRequest push = ReceivePush();
    shared.push_back(transport::HasSharedPartitions(push.header));
    refused_id = push.header.request_id();
    proto::Header refusal = ReplyHeader(proto::ERROR, push.header.request_id());
    refusal.set_error("cannot open /proc/1/fd/3");
    refusal.set_shared_refused(true);
    EXPECT_TRUE(server_.Send(push, std::move(refusal)).ok());
    FakeRequest again = ReceivePush();
    shared.push_back(transport::HasSharedPartitions(again.header));
    resent_id = again.header.request_id();
    EXPECT_FALSE(again.header.has_segment());
    EXPECT_TRUE(again.header.pull_back());
    ExpectGradient(*again.message);
    Send(again, ReplyTo(again, 1, 2.0f));
    FakeRequest next = ReceivePush();
    shared.push_back(transport::HasSharedPartitions(next.header));
    ExpectGradient(*next.message);
    Send(next, ReplyTo(next, 2, 3.0f));
  });
  Status s = Train(/*steps=*/2);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(shared, (std::vector<bool>{true, false, false}));
  EXPECT_EQ(resent_id, refused_id) << "sent again as the same request";
  EXPECT_EQ(client_->bytes_pushed_shared(), 0u);
  ExpectParams(3.0f);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_THAT(log_[0], HasSubstr("cannot read this worker's shared memory"));
}

// A push's answer copied from shared memory the server wrote over meanwhile is asked for again:
// the same push, with frames and asking for frames (the server, which has it, answers it without
// applying it again), under a new request id, so another answer to the first try that is still
// on its way (in shared memory) is passed over.
TEST_F(PsClientSharedPushTest, APullBackTheServerWroteOverIsAskedForAgainByThePushWithFrames) {
  Start(/*shared_memory=*/true);
  uint64_t first_id = 0;
  uint64_t again_id = 0;
  bool asked_again = true;
  std::thread script([&] {
    AnswerFirstPull();
    FakeRequest push = ReceivePush();
    first_id = push.header.request_id();
    EXPECT_TRUE(push.header.shared_ok());
    ps::Reply torn = ReplyTo(push, 1, 1.0f);
    ps::Reply later = ReplyTo(push, 2, 9.0f);  // the same slots, before the worker copies
    Send(push, std::move(torn));
    FakeRequest again = ReceivePush();
    again_id = again.header.request_id();
    asked_again = again.header.shared_ok();
    EXPECT_TRUE(again.header.pull_back());
    EXPECT_FALSE(again.header.has_segment());
    ExpectGradient(*again.message);
    Send(push, ReplyTo(push, 1, 7.0f));    // another answer to the first try, in shared memory
    Send(again, ReplyTo(again, 1, 2.0f));  // frames: the push did not ask
  });
  Status s = Train(/*steps=*/1);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_NE(again_id, first_id) << "sent again as a new request";
  EXPECT_FALSE(asked_again) << "the second try asks for frames";
  EXPECT_EQ(client_->shared_retries(), 1u);
  ExpectParams(2.0f);
}

TEST_F(PsClientSharedPushTest, PushesHaveFramesUntilTheServersMemoryWasRead) {
  Start(/*shared_memory=*/true);
  bool shared = true;
  std::thread script([&] {
    FakeRequest pull = ReceivePull();
    pull.header.set_shared_ok(false);  // answered with frames: nothing says it shares the host
    Send(pull, ReplyTo(pull, 0, 1.0f));
    FakeRequest push = ReceivePush();
    shared = transport::HasSharedPartitions(push.header);
    ExpectGradient(*push.message);
    Send(push, ReplyTo(push, 1, 2.0f));
  });
  Status s = Train(/*steps=*/1);
  script.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(shared);
  EXPECT_EQ(client_->bytes_pushed_shared(), 0u);
}

}  // namespace
}  // namespace ringtrain::worker
