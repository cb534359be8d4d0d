// PsClient and ParameterServer over CURVE (issue 12), real sockets: a worker with the job's key
// pulls; one whose key the server's ZAP handler refuses gets nothing and says why, once.
// (Requests in another worker's name: garbage_test.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "ringtrain/auth/key_set.h"
#include "ringtrain/auth/zap_handler.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/ring/hash_ring.h"
#include "ringtrain/worker/ps_client.h"

namespace ringtrain::worker {
namespace {

using ::testing::HasSubstr;

constexpr char kJob[] = "auth";

class PsClientAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = auth::NewJobKeys(1, 2).value();
    zap_ = auth::ZapHandler::Start(server_context_, keys_.public_keys, nullptr).value();
    auto r = ring::HashRing::Make({"ps-0"});
    table_ = std::make_shared<const ring::PartitionTable>(
        ring::PartitionTable::Build({{"w", 0, 64}}, 16, *r).value());
    ps::ServerCoreConfig c;
    c.job = kJob;
    c.num_workers = 2;
    c.table = table_;
    c.optimizer = optim::MakeOptimizer({}).value();
    c.consistency = ps::Consistency::kAsync;
    std::vector<float> initial(64, 1.0f);
    ps::ServerOptions o;
    o.bind_endpoint = "tcp://127.0.0.1:0";
    o.poll_interval = std::chrono::milliseconds(20);
    o.credentials = Of(auth::Identity::Server(0));
    server_ = ps::ParameterServer::Bind(server_context_, o,
                                        ps::ServerCore::Make(std::move(c), initial).value())
                  .value();
    serve_ = std::thread([this] { (void)server_->Serve(); });
  }
  void TearDown() override {
    server_->stop();
    serve_.join();
    server_.reset();
    zap_.reset();
  }

  std::shared_ptr<const auth::Credentials> Of(const auth::Identity& id) {
    return std::make_shared<auth::Credentials>(
        auth::Credentials{id, keys_.pairs.at(id), keys_.public_keys});
  }

  std::unique_ptr<PsClient> Client(int rank, std::shared_ptr<const auth::Credentials> creds) {
    PsClientOptions o;
    o.job = kJob;
    o.rank = rank;
    o.endpoints = {server_->endpoint()};
    o.table = table_;
    o.consistency = ps::Consistency::kAsync;
    o.timeout = std::chrono::seconds(2);
    o.credentials = std::move(creds);
    o.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back(line);
    };
    return PsClient::Connect(client_context_, o).value();
  }

  auth::JobKeys keys_;
  zmq::context_t server_context_;
  zmq::context_t client_context_;
  std::unique_ptr<auth::ZapHandler> zap_;
  std::shared_ptr<const ring::PartitionTable> table_;
  std::unique_ptr<ps::ParameterServer> server_;
  std::thread serve_;
  std::mutex mu_;
  std::vector<std::string> log_;
};

TEST_F(PsClientAuthTest, TheJobsWorkerPullsAndAStrangerGetsNothingAndSaysWhy) {
  std::vector<float> params(64, 0.0f);
  std::unique_ptr<PsClient> worker = Client(1, Of(auth::Identity::Worker(1)));
  ASSERT_TRUE(worker->Pull(0, params).ok());
  EXPECT_EQ(params[0], 1.0f);

  // Its own key pair, not the job's (it knows the server's public key, which is no secret).
  auto stranger = std::make_shared<auth::Credentials>(*Of(auth::Identity::Worker(0)));
  stranger->pair = auth::NewKeyPair().value();
  std::unique_ptr<PsClient> outsider = Client(0, stranger);
  Status s = outsider->Pull(0, params);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();  // never connected
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(std::count_if(log_.begin(), log_.end(),
                          [](const std::string& l) {
                            return l.find("refused this worker's key") != std::string::npos;
                          }),
            1)
      << ::testing::PrintToString(log_);
  EXPECT_GE(zap_->refused(), 1u);
}

}  // namespace
}  // namespace ringtrain::worker
