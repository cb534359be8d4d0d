#include "recovery_trial.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>
#include <thread>

#include "process_helpers.h"

namespace ringtrain::bench {

namespace {

using Clock = std::chrono::steady_clock;
using proto::ServerStats;

constexpr auto kProbeInterval = std::chrono::milliseconds(10);
// A live server answers STATS within a millisecond unless its thread is busy; a dead one never.
constexpr auto kProbeTimeout = std::chrono::milliseconds(200);
constexpr auto kStartTimeout = std::chrono::seconds(120);
constexpr auto kRecoveryTimeout = std::chrono::seconds(60);
constexpr auto kRoundsTimeout = std::chrono::seconds(300);

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Rounds a server has applied since it started (sync: each round updates every partition
// it owns once).
uint64_t Rounds(const ServerStats& s) {
  return s.partitions_owned() == 0 ? 0 : s.updates_applied() / s.partitions_owned();
}

// The pid of the process to kill, or NotFound.
StatusOr<int> Victim(const RunningJob& job, const std::string& role, int index) {
  const int pid = testing::FindJobProcess(job.spec, role, index);
  if (pid <= 0) return NotFound(role + "-" + std::to_string(index) + " is not running");
  return pid;
}

Status Timeout(const RecoveryTimes& t) {
  char buf[200];
  std::snprintf(buf, sizeof(buf), " killed %lld s ago: started %.2f, ready %.2f, applied %.2f",
                static_cast<long long>(kRecoveryTimeout.count()), t.started, t.ready, t.applied);
  return DeadlineExceeded(t.victim + buf +
                          " (-1: not yet): waited for the next step that needed its replacement");
}

}  // namespace

Status CheckRunning(RunningJob& job, const std::string& what) {
  if (int signal = job.interrupted == nullptr ? 0 : job.interrupted->load()) {
    return Cancelled("interrupted by signal " + std::to_string(signal) + " while waiting for " +
                     what);
  }
  if (std::optional<launch::ExitInfo> exit = job.run->Poll()) {
    return Internal("`ringtrain run` ended (" + exit->ToString() + ") while the bench waited for " +
                    what + "; its last lines:\n" + job.run->LogTail(25));
  }
  return Status::Ok();
}

Status ConnectProbes(RunningJob& job, zmq::context_t& context) {
  const auto deadline = Clock::now() + kStartTimeout;
  std::optional<std::string> endpoints;
  while (!endpoints.has_value()) {
    RT_RETURN_IF_ERROR(CheckRunning(job, "the job's processes to start"));
    if (Clock::now() > deadline) {
      return DeadlineExceeded("the job's workers did not start within " +
                              std::to_string(kStartTimeout.count()) + " s");
    }
    const int worker = testing::FindJobProcess(job.spec, "worker", 0);
    if (worker > 0) endpoints = testing::ProcessEnv(worker, "RINGTRAIN_PS_ENDPOINTS");
    if (!endpoints.has_value()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::stringstream list(*endpoints);
  for (std::string e; std::getline(list, e, ',');) job.probes.emplace_back(context, e);
  if (static_cast<int>(job.probes.size()) != job.num_ps) {
    return Internal("worker-0 has " + std::to_string(job.probes.size()) +
                    " server endpoints, the job " + std::to_string(job.num_ps));
  }
  return Status::Ok();
}

Status WaitForRounds(RunningJob& job, uint64_t rounds, const std::string& why) {
  const std::string what =
      "every server to apply " + std::to_string(rounds) + " rounds (" + why + ")";
  const auto deadline = Clock::now() + kRoundsTimeout;
  std::vector<std::optional<uint64_t>> first(job.probes.size());
  size_t done = 0;
  while (done < job.probes.size()) {
    RT_RETURN_IF_ERROR(CheckRunning(job, what));
    if (Clock::now() > deadline) {
      return DeadlineExceeded("waited " + std::to_string(kRoundsTimeout.count()) + " s for " +
                              what);
    }
    done = 0;
    for (size_t m = 0; m < job.probes.size(); ++m) {
      std::optional<ServerStats> s = job.probes[m].Ask(kProbeTimeout);
      if (!s.has_value()) continue;
      if (!first[m].has_value()) first[m] = Rounds(*s);
      if (Rounds(*s) >= *first[m] + rounds) ++done;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Ok();
}

// See recovery_bench.cc's header for why the first rise after the JOIN is the step that
// needed the replacement.
Status KillWorker(RunningJob& job, int index, RecoveryTimes* t) {
  t->victim = "worker-" + std::to_string(index);
  const size_t servers = job.probes.size();
  std::vector<uint64_t> joins(servers), before(servers);
  for (size_t m = 0; m < servers; ++m) {
    std::optional<ServerStats> s = job.probes[m].Ask(kProbeTimeout);
    if (!s.has_value())
      return Unavailable("ps-" + std::to_string(m) + " did not answer STATS before the kill");
    joins[m] = s->joins();
    before[m] = s->updates_applied();
  }
  RT_ASSIGN_OR_RETURN(const int pid, Victim(job, "worker", index));
  const Clock::time_point killed = Clock::now();
  if (kill(pid, SIGKILL) != 0) return Internal("kill " + t->victim + " failed");
  std::vector<double> joined(servers, -1), applied(servers, -1);
  const std::string what = t->victim + "'s replacement to join and its next step to be applied";
  while (t->applied < 0) {
    RT_RETURN_IF_ERROR(CheckRunning(job, what));
    if (Clock::now() > killed + kRecoveryTimeout) return Timeout(*t);
    if (t->started < 0) {
      const int now = testing::FindJobProcess(job.spec, "worker", index);
      if (now > 0 && now != pid) t->started = Since(killed);
    }
    for (size_t m = 0; m < servers; ++m) {
      if (applied[m] >= 0) continue;
      std::optional<ServerStats> s = job.probes[m].Ask(kProbeTimeout);
      if (!s.has_value()) continue;
      const double at = Since(killed);
      if (joined[m] < 0) {
        if (s->joins() > joins[m]) {
          joined[m] = at;
        } else {
          before[m] = s->updates_applied();  // the last count before the replacement joined
        }
      }
      if (joined[m] >= 0 && s->updates_applied() > before[m]) applied[m] = at;
    }
    if (std::all_of(joined.begin(), joined.end(), [](double x) { return x >= 0; })) {
      t->ready = *std::max_element(joined.begin(), joined.end());
    }
    if (std::all_of(applied.begin(), applied.end(), [](double x) { return x >= 0; })) {
      t->applied = *std::max_element(applied.begin(), applied.end());
    }
    std::this_thread::sleep_for(kProbeInterval);
  }
  return Status::Ok();
}

Status KillServer(RunningJob& job, int index, RecoveryTimes* t) {
  t->victim = "ps-" + std::to_string(index);
  ServerStatsProbe& probe = job.probes[static_cast<size_t>(index)];
  RT_ASSIGN_OR_RETURN(const int pid, Victim(job, "ps", index));
  const Clock::time_point killed = Clock::now();
  if (kill(pid, SIGKILL) != 0) return Internal("kill " + t->victim + " failed");
  bool old_gone = false;  // from then on, only the replacement can answer on the endpoint
  const std::string what = t->victim + "'s replacement to apply its next step";
  while (t->applied < 0) {
    RT_RETURN_IF_ERROR(CheckRunning(job, what));
    if (Clock::now() > killed + kRecoveryTimeout) return Timeout(*t);
    if (t->started < 0) {
      const int now = testing::FindJobProcess(job.spec, "ps", index);
      if (now > 0 && now != pid) t->started = Since(killed);
    }
    if (!old_gone && testing::ProcessEnded(pid)) {
      old_gone = true;
      probe.Disconnect();  // connect afresh, to the replacement when it binds
    }
    if (old_gone) {
      if (std::optional<ServerStats> s = probe.Ask(kProbeTimeout)) {
        const double at = Since(killed);
        if (t->ready < 0) t->ready = at;
        if (s->updates_applied() > 0) t->applied = at;
      }
    }
    std::this_thread::sleep_for(kProbeInterval);
  }
  return Status::Ok();
}

}  // namespace ringtrain::bench
