// Forged and malformed messages on `ringtrain run`'s control socket — the loopback port on
// which its servers and workers report, and to which any local process can send — are dropped
// and counted while the job trains to the end. Regression: one PROGRESS event whose step
// exceeded its total made the progress line write past its buffer.
//
// The test learns the socket's address as any local process could: from the environment the
// launcher gives its children (RINGTRAIN_CONTROL_ENDPOINT, the pod contract). The launcher runs
// on a terminal (script(1) gives it a pseudo-terminal), where it redraws its progress line every
// 200 ms, so the line is drawn while the bad events arrive.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "events.h"
#include "job_fixture.h"
#include "process_helpers.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/launch/child_process.h"
#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain {
namespace {

using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

const std::string kBinary = RINGTRAIN_BINARY;

// The value of `name` in the environment of process `pid`, or "".
std::string EnvironmentValue(int pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  const std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string key = name + "=";
  size_t at = 0;
  while (at < env.size()) {
    const size_t end = env.find('\0', at);
    const std::string entry = env.substr(at, end == std::string::npos ? end : end - at);
    if (entry.rfind(key, 0) == 0) return entry.substr(key.size());
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return "";
}

// A forged PROGRESS event of worker `index`, claiming 2^30 samples.
proto::Event ForgedProgress(uint32_t index, int64_t step, int64_t total, int epoch) {
  proto::Event e = testing::WorkerProgress(index, step, total, epoch);
  e.set_samples(1u << 30);
  return e;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Messages that are not an event of a job of 2 servers and 2 workers training 10 epochs.
std::vector<std::string> BadMessages() {
  std::vector<proto::Event> events;
  events.push_back(ForgedProgress(0, 1'000'000, 10, 1));  // step > total: the reported event
  events.push_back(ForgedProgress(1, std::numeric_limits<int64_t>::max(), 10, 1));
  events.push_back(ForgedProgress(0, 1'000'000'000'000, 1'000'000'000'000, 1));  // > the job's
  events.push_back(ForgedProgress(1, 1, 10, 99));                                // epoch > 10
  events.push_back(ForgedProgress(2, 1, 10, 1));                                 // no worker 2
  events.push_back(ForgedProgress(0, -5, 10, 1));
  proto::Event chief = ForgedProgress(0, 1, 10, 1);
  chief.set_role("chief");
  events.push_back(chief);
  events.push_back(testing::ServerReady(5, "tcp://127.0.0.1:1"));  // a server that does not exist
  // A server that says more workers finished than there are.
  events.push_back(testing::ServerFinished(0, 1000));
  events.push_back(testing::Failed("worker", 4000000000u, "forged"));
  proto::Event eval = ForgedProgress(0, 1, 10, 1);
  eval.set_type(static_cast<proto::EventType>(77));  // a type the schema does not name
  events.push_back(eval);

  std::vector<std::string> messages;
  for (const proto::Event& e : events) messages.push_back(e.SerializeAsString());
  messages.push_back("");                  // parses as an event of no type
  messages.push_back("\xff\xff\xff\xff");  // a truncated varint: not a protobuf
  messages.push_back("not an event at all");
  return messages;
}

TEST(ControlEventsTest, LauncherDropsForgedEventsAndTheJobSucceeds) {
  auto job = testing::JobFixture::Make("ctl-forged", 20000, 2, 2, 10);
  const std::string log = job.dir + "/launcher.log";
  // script(1) (util-linux, essential in Debian): `ringtrain run` on a pseudo-terminal, its
  // transcript in the log, its exit code script's.
  auto launcher =
      launch::ChildProcess::Spawn("launcher",
                                  {"/usr/bin/script", "--quiet", "--flush", "--return", "--command",
                                   "'" + kBinary + "' run '" + job.spec_path + "'", "/dev/null"},
                                  {}, log);
  ASSERT_TRUE(launcher.ok()) << launcher.status().ToString();

  // Workers start once every server is ready: then training is under way.
  const std::string needle = "RINGTRAIN_SPEC_PATH=" + job.spec_path;
  std::string endpoint;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (endpoint.empty() && Clock::now() < deadline && (*launcher)->running()) {
    for (int pid : testing::ProcessesWithEnv(needle)) {
      if (EnvironmentValue(pid, job::kEnvRole) == "worker") {
        endpoint = EnvironmentValue(pid, job::kEnvControlEndpoint);
      }
    }
    if (endpoint.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_THAT(endpoint, HasSubstr("tcp://127.0.0.1:")) << (*launcher)->LogTail(20);

  // Sends `messages`, then waits until the launcher has redrawn its progress line twice: each
  // redraw follows a receive, so the line has been drawn from what they said (if they were
  // used).
  const std::string kStatusLine = "samples/s ETA";
  zmq::context_t ctx(1);
  auto send = [&](const std::vector<std::string>& messages) {
    const size_t lines_before = Count(ReadFile(log), kStatusLine);
    {
      zmq::socket_t push(ctx, zmq::socket_type::push);
      push.set(zmq::sockopt::linger, 10000);  // closing waits until everything is sent
      push.connect(endpoint);
      for (const std::string& m : messages) push.send(zmq::buffer(m), zmq::send_flags::none);
    }
    EXPECT_TRUE((*launcher)->running()) << "the events must arrive during the run";
    const auto drawn_deadline = Clock::now() + std::chrono::seconds(30);
    while (Count(ReadFile(log), kStatusLine) < lines_before + 2 && (*launcher)->running() &&
           Clock::now() < drawn_deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_GE(Count(ReadFile(log), kStatusLine), lines_before + 2)
        << "no progress line drawn after them";
  };
  const std::vector<std::string> bad = BadMessages();
  send({bad[0]});  // the reported event alone: once it is used, the line overflows its buffer
  send(std::vector<std::string>(bad.begin() + 1, bad.end()));

  auto exit = testing::WaitForExit(**launcher, std::chrono::seconds(300));
  ASSERT_TRUE(exit.has_value()) << "launcher did not finish";
  const std::string out = ReadFile(log);
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << out;
  EXPECT_THAT(out, HasSubstr("epoch 10/10  test accuracy"));
  // Nothing forged reached the progress line.
  EXPECT_THAT(out, ::testing::Not(HasSubstr("epoch 99/")));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("step -")));
  EXPECT_THAT(out, HasSubstr("dropped events       " + std::to_string(bad.size()) + " "));
  EXPECT_THAT(out, HasSubstr("dropped messages     0"));
  EXPECT_GE(testing::SummaryAccuracy(out), 0.9) << out;
  EXPECT_TRUE(testing::ProcessesWithEnv(needle).empty());
}

}  // namespace
}  // namespace ringtrain
