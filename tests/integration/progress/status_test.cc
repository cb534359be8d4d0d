// Progress, pulled: the StatusServer (runtime) answering the operator's ZmqProgressSource over
// real ZeroMQ sockets on 127.0.0.1 — worker 0's progress, a parameter server's last checkpoint —
// and garbage on the status port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "events.h"
#include "ringtrain/app/checkpointing.h"
#include "ringtrain/auth/key_set.h"
#include "ringtrain/auth/zap_handler.h"
#include "ringtrain/operator/api_convert.h"
#include "ringtrain/operator/progress_source.h"
#include "ringtrain/transport/status_server.h"
#include "ringtrain/worker/progress_recorder.h"

namespace ringtrain {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

// Worker 0's event of `type` at `step` of 1000 in epoch 2.
proto::Event Progress(proto::EventType type, int64_t step, uint64_t samples, double loss,
                      double accuracy = -1) {
  proto::Event e = testing::WorkerEvent(type, 0, step, 1000, 2);
  e.set_samples(samples);
  e.set_loss(loss);
  e.set_accuracy(accuracy);
  return e;
}

class StatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = transport::StatusServer::Start(context_, "tcp://127.0.0.1:0", "mnist",
                                                 [this] { return recorder_.Snapshot(); });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    source_ = op::MakeZmqProgressSource();
  }

  zmq::context_t context_{1};
  worker::ProgressRecorder recorder_{nullptr, "mnist", 4, 256};
  std::unique_ptr<transport::StatusServer> server_;
  std::unique_ptr<op::ProgressSource> source_;
};

TEST_F(StatusTest, TheOperatorReadsTheWorkersLatestProgress) {
  const auto t0 = worker::ProgressRecorder::Clock::now();
  recorder_.SendAt(Progress(proto::PROGRESS, 100, 6400, 0.9), t0);
  recorder_.SendAt(Progress(proto::EVAL, 150, 9600, 0.7, 0.81), t0 + std::chrono::seconds(2));
  recorder_.SendAt(Progress(proto::PROGRESS, 200, 12800, 0.5), t0 + std::chrono::seconds(4));
  StatusOr<op::Progress> p = source_->Fetch(server_->endpoint(), "mnist", milliseconds(2000), {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->step, 200);
  EXPECT_EQ(p->total_steps, 1000);
  EXPECT_EQ(p->epoch, 2);
  EXPECT_DOUBLE_EQ(p->loss, 0.5);
  ASSERT_TRUE(p->accuracy.has_value()) << "the last evaluation's accuracy is kept";
  EXPECT_DOUBLE_EQ(*p->accuracy, 0.81);
  // 3200 samples in 2 s on this worker, 4 workers.
  EXPECT_DOUBLE_EQ(p->samples_per_second, 6400);
  EXPECT_EQ(p->global_batch_size, 256);
  // The server counts a reply once its send has returned, which may be after we received it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (server_->answered() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_EQ(server_->answered(), 1u);
}

TEST_F(StatusTest, NoAccuracyBeforeTheFirstEvaluation) {
  recorder_.Send(Progress(proto::PROGRESS, 10, 640, 2.0));
  StatusOr<op::Progress> p = source_->Fetch(server_->endpoint(), "mnist", milliseconds(2000), {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->accuracy.has_value());
  EXPECT_EQ(
      job::FormatFinalProgress(worker::FinalProgressOf(recorder_.Snapshot())).find("accuracy"),
      std::string::npos);
}

// A click-through model's evaluation (worker::SparseTrainer) carries an AUC and no accuracy:
// the status shows the AUC, kept through later progress until the next evaluation, and no
// accuracy rather than 0; the final record carries it too.
TEST_F(StatusTest, AnEvaluationWithAnAucHasNoAccuracy) {
  StatusOr<op::Progress> p = source_->Fetch(server_->endpoint(), "mnist", milliseconds(2000), {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->auc.has_value()) << "no AUC before an evaluation";
  proto::Event eval = Progress(proto::EVAL, 150, 9600, 0.7);
  eval.set_test_auc(0.82);
  eval.set_test_loss(0.51);
  recorder_.Send(eval);
  recorder_.Send(Progress(proto::PROGRESS, 160, 10240, 0.6));
  p = source_->Fetch(server_->endpoint(), "mnist", milliseconds(2000), {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->accuracy.has_value());
  EXPECT_DOUBLE_EQ(p->loss, 0.6);
  ASSERT_TRUE(p->auc.has_value());
  EXPECT_DOUBLE_EQ(*p->auc, 0.82);
  const job::FinalProgress final_progress = worker::FinalProgressOf(recorder_.Snapshot());
  EXPECT_EQ(final_progress.auc, 0.82);
  EXPECT_FALSE(final_progress.accuracy.has_value());
  // What the operator writes into status.progress, from the record a finished worker leaves.
  const std::optional<op::Progress> from_record =
      op::ProgressFromTerminationMessage(job::FormatFinalProgress(final_progress));
  ASSERT_TRUE(from_record.has_value());
  EXPECT_EQ(from_record->auc, 0.82);
}

TEST_F(StatusTest, AnotherJobIsRefusedAndCounted) {
  StatusOr<op::Progress> p = source_->Fetch(server_->endpoint(), "other", milliseconds(2000), {});
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(p.status().message(), HasSubstr("belongs to job \"mnist\", not \"other\""));
  EXPECT_EQ(server_->dropped(), 1u);
}

TEST_F(StatusTest, NobodyListeningIsADeadlineNotAHang) {
  server_.reset();
  const auto start = std::chrono::steady_clock::now();
  StatusOr<op::Progress> p = source_->Fetch("tcp://127.0.0.1:1", "mnist", milliseconds(300), {});
  EXPECT_EQ(p.status().code(), StatusCode::kDeadlineExceeded) << p.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(StatusTest, GarbageOnTheStatusPortIsDroppedAndTheServerKeepsServing) {
  // Raw bytes over TCP (not ZMTP at all): libzmq drops the connection.
  const std::string endpoint = server_->endpoint();
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n\xff\xfe\x00garbage";
  ASSERT_GT(::write(fd, junk, sizeof(junk)), 0);
  ::close(fd);
  // A well-formed ZeroMQ request that is not a StatusRequest, and a two-frame one.
  zmq::socket_t req(context_, zmq::socket_type::req);
  req.set(zmq::sockopt::linger, 0);
  req.set(zmq::sockopt::rcvtimeo, 2000);
  req.connect(endpoint);
  ASSERT_TRUE(req.send(zmq::str_buffer("\x0f\x01 not a protobuf"), zmq::send_flags::none));
  zmq::message_t answer;
  ASSERT_TRUE(req.recv(answer));
  proto::StatusReply reply;
  ASSERT_TRUE(reply.ParseFromArray(answer.data(), static_cast<int>(answer.size())));
  EXPECT_EQ(reply.error(), "malformed status request");
  ASSERT_TRUE(req.send(zmq::str_buffer("a"), zmq::send_flags::sndmore));
  ASSERT_TRUE(req.send(zmq::str_buffer("b"), zmq::send_flags::none));
  ASSERT_TRUE(req.recv(answer));
  ASSERT_TRUE(reply.ParseFromArray(answer.data(), static_cast<int>(answer.size())));
  EXPECT_EQ(reply.error(), "malformed status request");
  EXPECT_EQ(server_->dropped(), 2u);

  recorder_.Send(Progress(proto::PROGRESS, 7, 70, 1.5));
  StatusOr<op::Progress> p = source_->Fetch(endpoint, "mnist", milliseconds(2000), {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->step, 7);
}

// A parameter server's status socket, as `ringtrain ps` starts it: app::ServerStatusReply's
// answer (here of a server without checkpoints, then with the wire form of one) and the workers
// it waits for reach the operator.
TEST(ServerStatusTest, TheOperatorReadsAServersLastCheckpointAndTheWorkersItWaitsFor) {
  zmq::context_t context(1);
  std::mutex mu;
  std::optional<ps::LastCheckpoint> last;  // GUARDED_BY(mu)
  std::vector<uint32_t> waiting;           // GUARDED_BY(mu)
  auto server = transport::StatusServer::Start(context, "tcp://127.0.0.1:0", "mnist", [&] {
    std::lock_guard<std::mutex> lock(mu);
    proto::StatusReply reply = app::ServerStatusReply(nullptr);
    if (last) *reply.mutable_checkpoint() = app::CheckpointInfoOf(*last);
    for (const uint32_t w : waiting) reply.add_waiting_for(w);
    return reply;
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto source = op::MakeZmqProgressSource();
  const std::string endpoint = (*server)->endpoint();
  StatusOr<op::ServerReport> got = source->FetchServer(endpoint, "mnist", milliseconds(2000), {});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->checkpoint.has_value()) << "none yet";
  EXPECT_TRUE(got->waiting_for.empty());
  {
    std::lock_guard<std::mutex> lock(mu);
    last =
        ps::LastCheckpoint{120, 1764806400250, "/ckpt/mnist/ps-1/ckpt-0000000003-step-120", true};
    waiting = {1, 3};
  }
  got = source->FetchServer(endpoint, "mnist", milliseconds(2000), {});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->checkpoint.has_value());
  EXPECT_EQ(got->checkpoint->step, 120);
  EXPECT_EQ(got->checkpoint->time, op::Time(std::chrono::milliseconds(1764806400250)));
  EXPECT_EQ(got->checkpoint->location, "/ckpt/mnist/ps-1/ckpt-0000000003-step-120");
  EXPECT_TRUE(got->checkpoint->final);
  EXPECT_EQ(got->waiting_for, (std::vector<int>{1, 3}));
  // Another job's operator is refused, as by worker 0.
  got = source->FetchServer(endpoint, "other", milliseconds(2000), {});
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(got.status().message(), HasSubstr("belongs to job \"mnist\", not \"other\""));
}

TEST(ProgressJsonTest, FinalWordsParseBackInTheOperator) {
  worker::ProgressRecorder recorder(nullptr, "mnist", 2, 128);
  recorder.Send(Progress(proto::FINISHED, 940, 60000, 0.31, 0.8734));
  const std::string json = job::FormatFinalProgress(worker::FinalProgressOf(recorder.Snapshot()));
  std::optional<op::Progress> p = op::ProgressFromTerminationMessage(json);
  ASSERT_TRUE(p.has_value()) << json;
  EXPECT_EQ(p->step, 940);
  ASSERT_TRUE(p->accuracy.has_value());
  EXPECT_NEAR(*p->accuracy, 0.8734, 1e-6);
  EXPECT_NEAR(p->loss, 0.31, 1e-6);
  EXPECT_EQ(p->global_batch_size, 128);
  EXPECT_FALSE(op::ProgressFromTerminationMessage("spec.dataset.train.images: no such file"));
  EXPECT_FALSE(op::ProgressFromTerminationMessage("{not json"));
}

// With authentication, the status socket answers the job's supervisor only: the operator
// (PeerAuth with the supervisor's pair) reads the progress; another process of the job gets an
// error; a client without CURVE, or with a key that is not the job's, gets nothing.
TEST(AuthenticatedStatusTest, OnlyTheSupervisorIsAnswered) {
  zmq::context_t context(1);
  auth::JobKeys keys = auth::NewJobKeys(1, 2).value();
  std::unique_ptr<auth::ZapHandler> zap =
      auth::ZapHandler::Start(context, keys.public_keys, nullptr).value();
  const auth::Credentials worker0{auth::Identity::Worker(0),
                                  keys.pairs.at(auth::Identity::Worker(0)), keys.public_keys};
  worker::ProgressRecorder recorder{nullptr, "mnist", 2, 128};
  recorder.Send(Progress(proto::PROGRESS, 100, 6400, 0.9));
  auto server = transport::StatusServer::Start(
      context, "tcp://127.0.0.1:0", "mnist", [&recorder] { return recorder.Snapshot(); }, &worker0);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::unique_ptr<op::ProgressSource> source = op::MakeZmqProgressSource();
  const auth::KeyPair& sup = keys.pairs.at(auth::Identity::Supervisor());
  const std::string worker0_key = keys.pairs.at(auth::Identity::Worker(0)).public_key;
  auto ask = [&](const op::PeerAuth& as) {
    return source->Fetch((*server)->endpoint(), "mnist", milliseconds(1000), as);
  };
  StatusOr<op::Progress> p = ask({sup.public_key, sup.secret_key, worker0_key});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->step, 100);
  const auth::KeyPair& w1 = keys.pairs.at(auth::Identity::Worker(1));
  EXPECT_THAT(ask({w1.public_key, w1.secret_key, worker0_key}).status().message(),
              HasSubstr("supervisor only"));
  const auth::KeyPair stranger = auth::NewKeyPair().value();
  EXPECT_EQ(ask({stranger.public_key, stranger.secret_key, worker0_key}).status().code(),
            StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ask({}).status().code(), StatusCode::kDeadlineExceeded);  // plaintext
  server->reset();
}

}  // namespace
}  // namespace ringtrain
