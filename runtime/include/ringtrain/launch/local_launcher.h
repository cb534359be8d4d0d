// RunLocal: `ringtrain run job.yaml` — plays the operator's part on one machine.
//
// It starts every parameter server and worker of the job as a local process (the same
// binary, `ringtrain ps` / `ringtrain worker`), telling each what a pod is told through the
// one pod contract (ringtrain/job/pod_contract.h). Servers bind free loopback ports and report
// them over the control channel; workers start once every server is ready. Progress events
// drive a progress line and per-epoch evaluation lines on `out`. The control channel is a
// loopback socket any local process can send to: each message is checked against the job
// (launch/event_check.h) and dropped and counted unless it is a valid event.
//
// Checkpoints (spec.checkpoint): a job started again continues from them — each server
// restores its shard, each worker continues from the servers' clock for it — and the run
// prints each restored shard and, in the summary, where it resumed, the pushes lost and the
// last checkpoint (servers report each one written with a CHECKPOINT event; none is printed
// as it happens); with `fresh` they are removed first. A job whose checkpoints are final fails
// with a message saying it has finished.
//
// Failure handling: spec.runPolicy applies per process, as the operator applies it per pod. A
// worker that fails is replaced alone — the others keep training; the replacement JOINs the
// servers and continues from their clock for it. A server that fails is replaced alone when
// the job has spec.checkpoint: the replacement binds the same endpoint, restores its shard
// from its newest checkpoint, and the workers rejoin it (worker/ps_client.h); the other servers
// keep their state. Each replacement counts against backoffLimit and is printed, and listed in
// the summary. restartPolicy Never, ExitCode with an exit code below 128, exit code 2 (invalid
// input), an exhausted backoffLimit, or a server without checkpoints fail the run: every other
// process is stopped and the error names the process, its exit, the tail of its log and why it
// was not recovered. On an interrupt (the flag
// set by the caller's signal handler) every process is stopped. Children carry
// PR_SET_PDEATHSIG, so none outlives the launcher.
//
// Thread-safety: call from one thread.
#ifndef RINGTRAIN_LAUNCH_LOCAL_LAUNCHER_H_
#define RINGTRAIN_LAUNCH_LOCAL_LAUNCHER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/launch/progress.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::launch {

// How a local run's processes reach each other.
enum class Transport {
  // ipc:// sockets in a private directory (launch/run_directory.h): only this user can connect,
  // so no keys are needed (spec.security.authentication: curve is met by the directory's
  // permissions) and nothing is encrypted. The default: faster than loopback TCP.
  kIpc,
  // Loopback TCP, as in a cluster: with authentication: curve, CURVE with a key pair per
  // process made for the run (launch/key_directory.h); any local user could connect otherwise.
  kTcp,
};

struct LaunchOptions {
  std::string spec_path;  // absolute path of the job file given to every process
  std::string binary;     // the ringtrain executable to start for each role
  std::string log_dir;    // where per-process logs go; empty = a new directory under $TMPDIR
  // Absolute directory worker 0 writes the model to (its RINGTRAIN_OUTPUT_DIR); empty = where
  // spec.output says, if anywhere.
  std::string output_dir;
  bool interactive = false;  // redraw one progress line (a terminal) instead of printing lines
  std::chrono::milliseconds startup_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds line_interval{std::chrono::seconds(10)};  // non-interactive
  std::ostream* out = nullptr;                                        // REQUIRES: non-null
  const std::atomic<int>* interrupted = nullptr;  // non-zero: stop (the signal number)
  // Remove the job's checkpoints before starting, so it trains from step 0 (otherwise a job
  // with checkpoints continues from them, and one whose checkpoints are final says it has
  // finished).
  bool fresh = false;
  // How long to wait before replacing a failed server. With replication its successor serves
  // its shard meanwhile (failover), as it does in a cluster while a pod is rescheduled; 0
  // replaces it at once. Once every worker has finished the replacement starts at once, to
  // take its shard back.
  std::chrono::milliseconds replace_delay{0};
  Transport transport = Transport::kIpc;
  // Pin each worker process to one of the CPUs the launcher may use (worker i to the
  // (i mod n)-th), when it may use more than one; servers run on all of them. Unpinned, the
  // kernel now and then runs two workers of a sync job on one core while another idles (the
  // `make run` example's training loop took 15% longer). `ringtrain run --no-pin`: off.
  bool pin_workers = true;
  // How checkpoints in an object store are reached (for --fresh and the finished-job check),
  // and where they are staged (app::UseObjectStorage).
  storage::StorageOptions storage;
  std::string staging_root;
};

struct RunSummary {
  double wall_seconds = 0;
  double train_seconds = 0;  // the slowest worker's training loop (ProgressTracker)
  int epochs = 0;
  double final_accuracy = -1;  // -1: no test set
  double final_test_loss = 0;
  double final_auc = -1;  // a click-through model's test AUC (final_test_loss its log-loss)
  double samples_per_second = 0;
  uint64_t samples = 0;
  int64_t global_batch = 0;
  uint64_t bytes_pushed = 0;        // gradient payload bytes, as encoded on the wire
  uint64_t bytes_pushed_dense = 0;  // what those gradients take as float32
  // async and ssp: staleness of the applied pushes (updates between a gradient's parameters
  // and its arrival) and the largest lead of a worker over the slowest that servers allowed.
  bool asynchronous = false;
  double staleness_mean = 0;
  uint64_t staleness_max = 0;
  uint64_t max_clock_lead = 0;
  uint64_t bytes_pulled = 0;
  uint64_t bytes_pulled_shared = 0;   // the part read from the servers' shared memory
  uint64_t bytes_pushed_shared = 0;   // the part of bytes_pushed read from the workers' memory
  uint64_t bytes_pushed_chunked = 0;  // the part of bytes_pushed sent in chunks
  uint64_t messages_dropped = 0;
  uint64_t messages_received = 0;  // at the servers
  uint64_t messages_direct = 0;    // the part that came over direct links (ps/direct_peers.h)
  // Messages on the launcher's control socket that were not a valid event of this job
  // (launch/event_check.h): dropped, never used.
  uint64_t control_events_dropped = 0;
  // Of those, events of the job sent with another process's key (authentication: curve).
  uint64_t control_events_forged = 0;
  // Connections to the control socket refused at the handshake (CURVE keys not of this job).
  uint64_t control_connections_refused = 0;
  // spec.security.authentication: curve (the processes spoke CURVE with the run's keys).
  bool authenticated = false;
  // Transport::kIpc: the processes spoke over ipc:// sockets in the run's private directory.
  bool private_ipc = false;
  uint64_t messages_unauthorized = 0;  // at servers (ServerStats.messages_unauthorized)
  std::string log_dir;
  // The peak resident memory of each server's and worker's last process (-1: unknown), as
  // sampled while they ran (ChildProcess::SamplePeakMemory).
  std::vector<int64_t> peak_rss_servers;
  std::vector<int64_t> peak_rss_workers;
  // Continuing from checkpoints: the shards restored (of all servers) and the step the workers
  // continued from (the smallest; -1 when the job started from scratch). Pushes the restored
  // shards missed because their checkpoints were older than the workers' progress.
  int shards_restored = 0;
  int num_ps = 0;
  int64_t resumed_from_step = -1;
  uint64_t pushes_lost = 0;
  std::vector<uint64_t> pushes_lost_per_server;  // by server index
  // sync, by server index: silent workers the rounds stopped waiting for, those taken back, and
  // the steps they missed meanwhile (ps/server_core.h, Silent workers).
  std::vector<uint64_t> workers_excluded_per_server;
  std::vector<uint64_t> workers_returned_per_server;
  std::vector<uint64_t> steps_missed_per_server;
  // Failover, by server index: times it served its predecessor's shard (takeovers), and the
  // requests it served for it (ps/replica_shard.h, Taking over).
  std::vector<uint64_t> takeovers_per_server;
  std::vector<uint64_t> detours_served_per_server;
  // Samples of the steps workers replayed (steps some server already had, after a worker was
  // replaced or the job resumed), summed over every process that ran.
  uint64_t samples_replayed = 0;
  // Dynamic sharding: the data queue's counters (ps/data_queue.h), summed over the servers (one
  // keeps the queue); all 0 otherwise.
  uint64_t tasks_handed_out = 0;
  uint64_t tasks_finished = 0;
  uint64_t tasks_requeued = 0;
  uint64_t tasks_finished_again = 0;
  // Feature-wise sharding: rounds of partial margins summed, and steps sent again after they
  // were summed (a worker that rejoined), over the servers (one sums them); 0 otherwise.
  uint64_t margin_rounds = 0;
  uint64_t margins_repeated = 0;
  // Sparse models: rows the servers' sparse tables hold, the bytes they take and the raw bytes
  // of their keys, values and optimizer state, over the servers; 0 otherwise.
  uint64_t sparse_rows = 0;
  uint64_t sparse_table_bytes = 0;
  uint64_t sparse_raw_bytes = 0;
  // Their hygiene: updates dropped before their key was admitted, rows expired.
  uint64_t sparse_not_admitted = 0;
  uint64_t sparse_rows_expired = 0;
  // Bad records each worker passes over in an epoch (onBadRecord: skip), by worker index.
  std::vector<uint64_t> records_skipped;
  // Processes that failed and were replaced alone, in order: "worker-1 (killed by signal 9)".
  std::vector<std::string> recoveries;
  // The model worker 0 wrote; empty: none was written (no output directory, or worker 0 died
  // after training finished, before writing it: `ringtrain run` then exports it from the final
  // checkpoints).
  std::string model_path;
  std::string checkpoint_dir;  // <spec.checkpoint.path>/<job>, absolute; empty: no checkpoints
  // The checkpoint a run started again would continue from (launch/progress.h; the servers'
  // CHECKPOINT events), if every server has one.
  std::optional<JobCheckpoint> last_checkpoint;
};

// Runs the job to completion. Errors: the training set's header cannot be read (the code of
// app::ReadDatasetShape, before any process starts); Unavailable/DeadlineExceeded when
// processes cannot be started or do not become ready; a failed process named, with
// InvalidArgument if it exited 2 (its input was invalid), else Internal; Cancelled on
// interrupt.
StatusOr<RunSummary> RunLocal(const job::TrainingJob& job, const LaunchOptions& options);

// Prints the summary block shown at the end of `ringtrain run`, including where the model and
// the checkpoints are.
void PrintSummary(const RunSummary& summary, std::ostream& out);

}  // namespace ringtrain::launch

#endif  // RINGTRAIN_LAUNCH_LOCAL_LAUNCHER_H_
