// Test support: run the ringtrain binary and inspect what it left behind.
#ifndef RINGTRAIN_TESTS_SUPPORT_PROCESS_HELPERS_H_
#define RINGTRAIN_TESTS_SUPPORT_PROCESS_HELPERS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ringtrain/launch/child_process.h"

namespace ringtrain::testing {

struct CommandResult {
  int exit_code = -1;  // -1: did not finish in time (it was killed)
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv (argv[0] an absolute path) with extra environment variables and waits at most
// `timeout`.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::seconds timeout = std::chrono::seconds(300),
                         const std::map<std::string, std::string>& env = {});

// True once `shard_dir` (a server's checkpoint directory, <root>/<job>/ps-<i>) holds a complete
// checkpoint: one renamed to ckpt-... with its MANIFEST (written last, ckpt/store.h).
bool HasCompleteCheckpoint(const std::string& shard_dir);

// The step of the newest complete checkpoint in `shard_dir` (named ckpt-<sequence>-step-<step>,
// ckpt/store.h): the shard's smallest worker clock when it was taken, a measure of the job's
// progress; -1 when there is none.
int64_t LatestCheckpointStep(const std::string& shard_dir);

// A fresh temporary directory (removed by the caller if wanted).
std::string MakeTempDir(const std::string& prefix);

// Writes `text` to `path`; returns false on failure.
bool WriteFile(const std::string& path, const std::string& text);
// The whole file at `path` ("" if it cannot be read).
std::string ReadFile(const std::string& path);

// The final test accuracy in the summary `ringtrain run` prints ("test accuracy        0.8912"),
// or -1 when `output` has none.
double SummaryAccuracy(const std::string& output);
// The final test loss beside it ("(test loss 0.4512)"), or -1 when `output` has none.
double SummaryTestLoss(const std::string& output);
// A click-through model's final test AUC and log-loss in the summary ("test AUC  0.8226 (test
// log-loss 0.5155)"), or -1 when `output` has none.
double SummaryAuc(const std::string& output);
double SummaryLogLoss(const std::string& output);

// Pids of live processes whose environment contains `needle` (e.g. "RINGTRAIN_SPEC_PATH=/x").
std::vector<int> ProcessesWithEnv(const std::string& needle);

// The value of environment variable `name` in process `pid`, or std::nullopt when the process
// is gone or has no such variable.
std::optional<std::string> ProcessEnv(int pid, const std::string& name);

// The live process of `role` ("ps" or "worker") and `index` among those started for the job file
// `spec` (their RINGTRAIN_SPEC_PATH, RINGTRAIN_ROLE and RINGTRAIN_INDEX), or -1.
int FindJobProcess(const std::string& spec, const std::string& role, int index);

// True when process `pid` has ended: it is gone, or a zombie not reaped yet.
bool ProcessEnded(int pid);

// Waits (polling) until at least `count` processes have `needle` in their environment, or
// `timeout` has passed; returns ProcessesWithEnv(needle) as last seen.
std::vector<int> WaitForProcessesWithEnv(const std::string& needle, size_t count,
                                         std::chrono::seconds timeout);

// Waits (polling) until the file at `path` (a log) holds `text`, at most `timeout`; false if it
// never did.
bool WaitForText(const std::string& path, const std::string& text,
                 std::chrono::seconds timeout = std::chrono::seconds(60));

// Waits (polling) until `process` exits or `timeout` has passed; returns its exit, or
// std::nullopt if it still runs.
std::optional<launch::ExitInfo> WaitForExit(launch::ChildProcess& process,
                                            std::chrono::seconds timeout);

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_PROCESS_HELPERS_H_
