// Forged and malformed messages on `ringtrain run`'s control socket — the loopback port on
// which its servers and workers report, and to which any local process can send — are dropped
// and counted while the job trains to the end. Regression: one PROGRESS event whose step
// exceeded its total made the progress line write past its buffer.
//
// The test learns the socket's address as any local process could: from the environment the
// launcher gives its children (RINGTRAIN_CONTROL_ENDPOINT, the pod contract).
//
// In each way a local run can be reached:
//   ipc (the default): the sockets are in a directory only this user can enter. Another user
//     (nobody) cannot even connect; this user's own processes can, and their bad events are
//     dropped by the events' checks.
//   tcp with CURVE (--transport tcp, authentication: curve): an outsider gets nothing through
//     at all, and an insider — worker 0's key, which a process of the same user can read — can
//     only speak as worker 0: its forged events about worker 1 are dropped and counted as such.
//   tcp in plaintext (authentication: none): the checks of the events alone hold the line. The
// launcher runs on a terminal (script(1) gives it a pseudo-terminal), where it redraws its progress
// line every 200 ms, so the line is drawn while the bad events arrive.
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

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
#include "ringtrain/auth/curve.h"
#include "ringtrain/auth/key_set.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/launch/child_process.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "sanitized.h"

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

using testing::ReadFile;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Messages that are not an event of a job of 2 servers and 2 workers training 10 or 60 epochs.
std::vector<std::string> BadMessages() {
  std::vector<proto::Event> events;
  events.push_back(ForgedProgress(0, 1'000'000, 10, 1));  // step > total: the reported event
  events.push_back(ForgedProgress(1, std::numeric_limits<int64_t>::max(), 10, 1));
  events.push_back(ForgedProgress(0, 1'000'000'000'000, 1'000'000'000'000, 1));  // > the job's
  events.push_back(ForgedProgress(1, 1, 10, 99));                                // epoch > 60
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

// Whether user nobody (65534) is refused connecting to the Unix socket at `path` (EACCES).
// Needs root, to become nobody.
bool RefusedToNobody(const std::string& path) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    const int r = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    _exit(r != 0 && errno == EACCES ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

enum class Mode { kIpc, kCurve, kPlaintext };

class ControlEventsTest : public ::testing::TestWithParam<Mode> {};

TEST_P(ControlEventsTest, LauncherDropsForgedEventsAndTheJobSucceeds) {
  const Mode mode = GetParam();
  const bool curve = mode == Mode::kCurve;
  // Long enough (10-20 s; training under a sanitizer is several times slower) for every send
  // to arrive during the run.
  const int epochs = test_build::kSanitized ? 10 : 60;
  auto job = testing::JobFixture::Make(mode == Mode::kIpc     ? "ctl-forged-ipc"
                                       : mode == Mode::kCurve ? "ctl-forged"
                                                              : "ctl-forged-plain",
                                       20000, 2, 2, epochs);
  if (mode == Mode::kPlaintext) {
    std::ofstream(job.spec_path, std::ios::app) << "  security: {authentication: none}\n";
  }
  const std::string transport = mode == Mode::kIpc ? "" : " --transport tcp";
  const std::string log = job.dir + "/launcher.log";
  // script(1) (util-linux, essential in Debian): `ringtrain run` on a pseudo-terminal, its
  // transcript in the log, its exit code script's.
  auto launcher = launch::ChildProcess::Spawn(
      "launcher",
      {"/usr/bin/script", "--quiet", "--flush", "--return", "--command",
       "'" + kBinary + "' run '" + job.spec_path + "'" + transport, "/dev/null"},
      {}, log);
  ASSERT_TRUE(launcher.ok()) << launcher.status().ToString();

  // Workers start once every server is ready: then training is under way.
  const std::string needle = "RINGTRAIN_SPEC_PATH=" + job.spec_path;
  std::string endpoint;
  std::string public_keys;
  std::string worker0_key;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (endpoint.empty() && Clock::now() < deadline && (*launcher)->running()) {
    for (int pid : testing::ProcessesWithEnv(needle)) {
      if (EnvironmentValue(pid, job::kEnvRole) == "worker" &&
          EnvironmentValue(pid, job::kEnvIndex) == "0") {
        endpoint = EnvironmentValue(pid, job::kEnvControlEndpoint);
        public_keys = EnvironmentValue(pid, job::kEnvPublicKeys);
        worker0_key = EnvironmentValue(pid, job::kEnvSecretKey);
      }
    }
    if (endpoint.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_THAT(endpoint, HasSubstr(mode == Mode::kIpc ? "ipc:///" : "tcp://127.0.0.1:"))
      << (*launcher)->LogTail(20);
  if (mode == Mode::kIpc) {
    ASSERT_EQ(geteuid(), 0u) << "this check becomes another user, which needs root";
    EXPECT_TRUE(RefusedToNobody(endpoint.substr(6))) << "another user could connect";
    const std::string run_dir =
        EnvironmentValue(testing::ProcessesWithEnv(needle).front(), job::kEnvRunDir);
    EXPECT_TRUE(RefusedToNobody(run_dir + "/ps-0"));
    // Whatever the sockets' own modes (umask), nobody else may even enter the directory.
    struct stat st {};
    ASSERT_EQ(stat(run_dir.c_str(), &st), 0) << run_dir;
    EXPECT_EQ(st.st_mode & 0777, 0700u) << run_dir;
  }

  // Sends `messages`, then waits until the launcher has redrawn its progress line twice: each
  // redraw follows a receive, so the line has been drawn from what they said (if they were
  // used).
  const std::string kStatusLine = "samples/s ETA";
  zmq::context_t ctx(1);
  // The sender: an outsider (no key), or worker 0's key (an insider of the same user).
  std::optional<auth::Credentials> insider;
  if (curve) {
    ASSERT_FALSE(public_keys.empty() || worker0_key.empty()) << "the launcher gave no keys";
    StatusOr<auth::KeySet> keys = auth::ReadKeySetFile(public_keys);
    StatusOr<auth::KeyPair> pair = auth::ReadSecretKeyFile(worker0_key);
    ASSERT_TRUE(keys.ok() && pair.ok());
    insider = auth::Credentials{auth::Identity::Worker(0), *pair, *keys};
  }
  auto send = [&](const std::vector<std::string>& messages, bool as_insider) {
    const size_t lines_before = Count(ReadFile(log), kStatusLine);
    {
      zmq::socket_t push(ctx, zmq::socket_type::push);
      // Closing waits until everything is sent (an outsider's never is: not for long).
      push.set(zmq::sockopt::linger, as_insider || !curve ? 10000 : 500);
      if (as_insider) {
        ASSERT_TRUE(auth::ApplyClient(push, *insider, auth::Identity::Supervisor()).ok());
      }
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
  // In plaintext anyone is an insider.
  send({bad[0]}, curve);  // the reported event alone: once used, the line overflows its buffer
  send(std::vector<std::string>(bad.begin() + 1, bad.end()), curve);
  // Valid events, but about worker 1.
  const std::vector<std::string> as_worker1 = {
      testing::WorkerProgress(1, 3, 6250, 1).SerializeAsString(),
      testing::Failed("worker", 1, "forged").SerializeAsString()};
  size_t forged = 0;
  if (curve) {
    send(as_worker1, true);
    forged = as_worker1.size();
    // An outsider: nothing it sends is even read.
    send(bad, false);
    send(as_worker1, false);
  }

  auto exit = testing::WaitForExit(**launcher, std::chrono::seconds(300));
  ASSERT_TRUE(exit.has_value()) << "launcher did not finish";
  const std::string out = ReadFile(log);
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << out;
  EXPECT_THAT(out, HasSubstr("epoch " + std::to_string(epochs) + "/" + std::to_string(epochs) +
                             "  test accuracy"));
  // Nothing forged reached the progress line.
  EXPECT_THAT(out, ::testing::Not(HasSubstr("epoch 99/")));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("step -")));
  EXPECT_THAT(out, HasSubstr("dropped events       " + std::to_string(bad.size() + forged) + " "));
  if (curve) {
    EXPECT_THAT(out, HasSubstr("; 2 about another process than their sender's key)"));
    EXPECT_THAT(out, HasSubstr("authentication       CURVE over loopback TCP"));
    EXPECT_THAT(out, ::testing::Not(HasSubstr("worker-1: forged")));
  }
  EXPECT_THAT(out, HasSubstr("dropped messages     0"));
  if (mode == Mode::kIpc) {
    EXPECT_THAT(out,
                HasSubstr("authentication       ipc:// sockets in a directory only this user"));
  }
  EXPECT_GE(testing::SummaryAccuracy(out), 0.9) << out;
  EXPECT_TRUE(testing::ProcessesWithEnv(needle).empty());
}

INSTANTIATE_TEST_SUITE_P(Transports, ControlEventsTest,
                         ::testing::Values(Mode::kIpc, Mode::kCurve, Mode::kPlaintext),
                         [](const ::testing::TestParamInfo<Mode>& p) {
                           return p.param == Mode::kIpc     ? "ipc"
                                  : p.param == Mode::kCurve ? "tcp_curve"
                                                            : "tcp_plaintext";
                         });

}  // namespace
}  // namespace ringtrain
