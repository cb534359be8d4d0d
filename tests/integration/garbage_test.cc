// Garbage sent to a parameter server's port during a run — bytes that are not ZeroMQ at all,
// frames that are not a header, headers that lie about their payloads, requests for another
// job — is dropped and counted while training goes on and ends well. Real processes (the
// ringtrain binary in its ps and worker roles), real sockets on loopback, free ports.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <thread>

#include <zmq.hpp>

#include "job_fixture.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/launch/child_process.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/transport/message.h"

namespace ringtrain {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kBinary = RINGTRAIN_BINARY;

// Sends bytes that are not the ZMTP protocol to a tcp://host:port endpoint.
void SendRawTcpGarbage(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  const int port = std::stoi(endpoint.substr(colon + 1));
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string junk(4096, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 131 + 7) & 0xff);
  (void)!write(fd, junk.data(), junk.size());
  close(fd);
}

class Events {
 public:
  explicit Events(zmq::context_t& ctx) : socket_(ctx, zmq::socket_type::pull) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("tcp://127.0.0.1:0");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  }
  const std::string& endpoint() const { return endpoint_; }
  // Receives events until `pred` holds for one of them or the timeout passes.
  bool WaitFor(const std::function<bool(const proto::Event&)>& pred, std::chrono::seconds t) {
    const auto deadline = Clock::now() + t;
    while (Clock::now() < deadline) {
      zmq::message_t m;
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) <= 0) continue;
      if (!socket_.recv(m, zmq::recv_flags::dontwait)) continue;
      proto::Event e;
      if (!e.ParseFromArray(m.data(), static_cast<int>(m.size()))) continue;
      all.push_back(e);
      if (pred(e)) return true;
    }
    return false;
  }
  std::vector<proto::Event> all;

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
};

TEST(GarbageTest, ServerDropsAndCountsGarbageWhileTrainingContinues) {
  auto job = testing::JobFixture::Make("garbage", 20000, 2, 2, 4);
  zmq::context_t ctx(1);
  Events events(ctx);

  job::PodContract base;
  base.job_name = "garbage";
  base.num_ps = 2;
  base.num_workers = 2;
  base.spec_path = job.spec_path;
  base.control_endpoint = events.endpoint();
  std::vector<std::unique_ptr<launch::ChildProcess>> procs;
  for (int i = 0; i < 2; ++i) {
    job::PodContract c = base;
    c.role = job::Role::kParameterServer;
    c.index = i;
    c.bind_endpoint = "tcp://127.0.0.1:0";
    procs.push_back(launch::ChildProcess::Spawn("ps", {kBinary, "ps"}, job::ToEnv(c),
                                                job.dir + "/ps-" + std::to_string(i) + ".log")
                        .value());
  }
  std::map<uint32_t, std::string> endpoints;
  ASSERT_TRUE(events.WaitFor(
      [&](const proto::Event& e) {
        if (e.type() == proto::READY) endpoints[e.index()] = e.endpoint();
        return endpoints.size() == 2;
      },
      std::chrono::seconds(60)))
      << procs[0]->LogTail(10);
  for (int i = 0; i < 2; ++i) {
    job::PodContract c = base;
    c.role = job::Role::kWorker;
    c.index = i;
    c.ps_endpoints = {endpoints[0], endpoints[1]};
    procs.push_back(launch::ChildProcess::Spawn("worker", {kBinary, "worker"}, job::ToEnv(c),
                                                job.dir + "/worker-" + std::to_string(i) + ".log")
                        .value());
  }
  // Training is under way once a worker reports progress.
  ASSERT_TRUE(events.WaitFor(
      [](const proto::Event& e) { return e.type() == proto::PROGRESS && e.role() == "worker"; },
      std::chrono::seconds(120)))
      << procs[2]->LogTail(10);

  constexpr uint64_t kZmqGarbagePerServer = 6;
  for (uint32_t s = 0; s < 2; ++s) {
    SendRawTcpGarbage(endpoints[s]);
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 1000);
    dealer.connect(endpoints[s]);
    // 1. one frame of random bytes
    dealer.send(zmq::str_buffer("\x08\xff\xff\xff\xff\x0f garbage"), zmq::send_flags::none);
    // 2. several frames of nonsense
    dealer.send(zmq::str_buffer("junk"), zmq::send_flags::sndmore);
    dealer.send(zmq::str_buffer("more junk"), zmq::send_flags::none);
    // 3. a valid PUSH header whose payload is shorter than it claims
    proto::Header h;
    h.set_wire_version(proto::WIRE_VERSION_1);
    h.set_kind(proto::PUSH);
    h.set_job("garbage");
    auto* p = h.add_partitions();
    p->set_id(0);
    p->set_num_elements(1024);
    p->set_payload_bytes(4096);
    std::string head = h.SerializeAsString();
    dealer.send(zmq::buffer(head), zmq::send_flags::sndmore);
    dealer.send(zmq::str_buffer("short"), zmq::send_flags::none);
    // 4. a well-formed PULL for another job
    proto::Header other;
    other.set_wire_version(proto::WIRE_VERSION_1);
    other.set_kind(proto::PULL);
    other.set_job("someone-else");
    std::string other_head = other.SerializeAsString();
    dealer.send(zmq::buffer(other_head), zmq::send_flags::none);
    // 5. an empty frame
    dealer.send(zmq::message_t(), zmq::send_flags::none);
    // 6. a header whose job name is not UTF-8 (libprotobuf printed its own parse error to the
    // server's stderr)
    proto::Header bad_utf8;
    bad_utf8.set_wire_version(proto::WIRE_VERSION_1);
    bad_utf8.set_kind(proto::PULL);
    bad_utf8.set_job("garbage");
    std::string bad_head = bad_utf8.SerializeAsString();
    const size_t at = bad_head.find("garbage");
    ASSERT_NE(at, std::string::npos);
    bad_head[at] = '\xff';
    dealer.send(zmq::buffer(bad_head), zmq::send_flags::none);

    // The server answers a STATS request while training goes on, with the garbage counted.
    proto::Header stats;
    stats.set_wire_version(proto::WIRE_VERSION_1);
    stats.set_kind(proto::STATS);
    stats.set_request_id(77);
    std::string stats_head = stats.SerializeAsString();
    dealer.send(zmq::buffer(stats_head), zmq::send_flags::none);
    bool got_stats = false;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (!got_stats && Clock::now() < deadline) {
      zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) <= 0) continue;
      std::vector<zmq::message_t> frames;
      while (true) {
        zmq::message_t m;
        (void)dealer.recv(m);
        const bool more = m.more();
        frames.push_back(std::move(m));
        if (!more) break;
      }
      auto msg = transport::DecodeMessage(std::move(frames));
      ASSERT_TRUE(msg.ok()) << msg.status().ToString();
      if (msg->header.kind() != proto::STATS_REPLY) continue;  // the ERROR for request 4
      got_stats = true;
      EXPECT_EQ(msg->header.request_id(), 77u);
      EXPECT_GE(msg->header.stats().messages_dropped(), kZmqGarbagePerServer);
      EXPECT_GT(msg->header.stats().pushes_accepted(), 0u) << "training was under way";
    }
    ASSERT_TRUE(got_stats) << "server " << s << " stopped answering";
    bool workers_running = procs[2]->running() || procs[3]->running();
    EXPECT_TRUE(workers_running) << "the garbage must arrive during the run";
  }

  // Every process ends well, and the model is good.
  const auto deadline = Clock::now() + std::chrono::seconds(300);
  for (auto& p : procs) {
    while (p->running() && Clock::now() < deadline) {
      events.WaitFor([](const proto::Event&) { return false; }, std::chrono::seconds(0));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto exit = p->Poll();
    ASSERT_TRUE(exit.has_value()) << p->name() << " did not finish";
    EXPECT_TRUE(exit->success()) << p->name() << ": " << exit->ToString() << "\n" << p->LogTail(15);
  }
  events.WaitFor([](const proto::Event&) { return false; }, std::chrono::seconds(1));
  double accuracy = -1;
  uint64_t dropped = 0;
  for (const auto& e : events.all) {
    if (e.type() == proto::EVAL) accuracy = e.accuracy();
    if (e.type() == proto::FINISHED && e.role() == "ps")
      dropped += e.server_stats().messages_dropped();
  }
  EXPECT_GE(dropped, 2 * kZmqGarbagePerServer);
  EXPECT_GE(accuracy, 0.9);
  // What the servers said is ringtrain's own: no library's messages about the garbage.
  for (int i = 0; i < 2; ++i) {
    EXPECT_THAT(procs[i]->LogTail(1000), ::testing::Not(::testing::HasSubstr("libprotobuf")))
        << "ps-" << i;
  }
}

}  // namespace
}  // namespace ringtrain
