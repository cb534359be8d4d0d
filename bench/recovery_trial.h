// One recovery trial of bench/recovery_bench.cc: kill one process of a running `ringtrain run`
// with SIGKILL and time its replacement, from /proc and from the servers' own counters
// (bench/server_stats_probe.h). What each time means is defined in recovery_bench.cc's header.
//
// Every wait here is bounded (the timeouts below) and fails with a status that says what it
// waited for; each also fails at once when `ringtrain run` has ended or the bench was
// interrupted (RunningJob::interrupted).
//
// Thread-safety: one thread owns a RunningJob (its probes' sockets).
#ifndef RINGTRAIN_BENCH_RECOVERY_TRIAL_H_
#define RINGTRAIN_BENCH_RECOVERY_TRIAL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/launch/child_process.h"
#include "server_stats_probe.h"

namespace ringtrain::bench {

// A running `ringtrain run` of one job.
struct RunningJob {
  std::string spec;                           // the job file (the processes' RINGTRAIN_SPEC_PATH)
  std::unique_ptr<launch::ChildProcess> run;  // destroyed: SIGKILL and reaped; children follow
  int num_ps = 0;
  int num_workers = 0;
  std::vector<ServerStatsProbe> probes;           // by server index (ConnectProbes)
  const std::atomic<int>* interrupted = nullptr;  // non-zero: stop waiting (a signal number)
};

// One kill: seconds after it (t = 0 just before kill(2)); -1 = not seen.
struct RecoveryTimes {
  std::string victim;   // "worker-0", "ps-1"
  double started = -1;  // the replacement process exists
  double ready = -1;    // server: it answers STATS; worker: every server answered its JOIN
  double applied = -1;  // the next step that needed the replacement was applied
};

// OK while `ringtrain run` runs and the bench was not interrupted; `what` says what was awaited.
Status CheckRunning(RunningJob& job, const std::string& what);

// Waits (at most 120 s) until worker 0 runs and connects a probe to each server, at the
// endpoints the launcher gave the workers (RINGTRAIN_PS_ENDPOINTS).
// REQUIRES: `context` outlives job.probes.
Status ConnectProbes(RunningJob& job, zmq::context_t& context);

// Waits (at most 300 s) until every server has applied `rounds` more rounds than when called;
// `why` goes into the error.
Status WaitForRounds(RunningJob& job, uint64_t rounds, const std::string& why);

// SIGKILLs worker `index` and waits (at most 60 s) until the next step that needed its
// replacement was applied on every server. REQUIRES: sync mode; ConnectProbes done.
Status KillWorker(RunningJob& job, int index, RecoveryTimes* times);

// SIGKILLs server `index` and waits (at most 60 s) until its replacement applied an update.
// REQUIRES: ConnectProbes done.
Status KillServer(RunningJob& job, int index, RecoveryTimes* times);

}  // namespace ringtrain::bench

#endif  // RINGTRAIN_BENCH_RECOVERY_TRIAL_H_
