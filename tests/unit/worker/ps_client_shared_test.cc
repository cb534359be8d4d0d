// PsClient reading pull replies from a server's shared memory (PsClientOptions::shared_memory):
// a scripted server (fake_server.h) whose replies go through a real ps::PullPublisher, as a
// parameter server's do. The client asks only in sync mode, copies from the segment, pulls again
// with frames when its copy may be torn, and goes on with frames from a server whose memory it
// cannot open.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fake_server.h"
#include "ringtrain/ps/pull_publisher.h"
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

  void ExpectParams(float value) const {
    for (uint32_t id = 0; id < table_->partitions().size(); ++id) {
      const ring::Partition& p = table_->partition(id);
      for (int64_t j = 0; j < p.size; ++j) {
        EXPECT_EQ(params_[static_cast<size_t>(p.offset + j)], value + static_cast<float>(id));
      }
    }
  }

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

}  // namespace
}  // namespace ringtrain::worker
