// What the reconcile planner sees of one TrainingJob and the objects it owns, and the status it
// computes. Plain values built from API objects by the adapters (object_view.h); the planner
// never touches JSON of the API server or the clock.
#ifndef RINGTRAIN_OPERATOR_JOB_STATE_H_
#define RINGTRAIN_OPERATOR_JOB_STATE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ringtrain/job/pod_contract.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::op {

using Time = std::chrono::system_clock::time_point;

// Condition types, as metav1.Condition.type.
inline constexpr char kCreated[] = "Created";
inline constexpr char kRunning[] = "Running";
inline constexpr char kRestarting[] = "Restarting";
inline constexpr char kSucceeded[] = "Succeeded";
inline constexpr char kFailed[] = "Failed";
inline constexpr char kSuspended[] = "Suspended";
// A running job whose progress has not moved for ResourceOptions::stall_after.
inline constexpr char kStalled[] = "Stalled";

struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;  // CamelCase
  std::string message;
  Time last_transition{};
  int64_t observed_generation = 0;

  bool operator==(const Condition&) const = default;
};

struct ReplicaCounts {
  int active = 0;  // pods that exist and have not finished
  int ready = 0;   // running and ready
  int succeeded = 0;
  int failed = 0;
  int restarts = 0;  // failures of this role retried, over the job's life

  bool operator==(const ReplicaCounts&) const = default;
};

struct Progress {
  int64_t step = 0;
  int64_t total_steps = 0;
  int epoch = 0;
  double loss = 0;
  std::optional<double> accuracy;  // test accuracy of the last evaluation, if any
  std::optional<double> auc;       // test AUC of the last evaluation (sparse models), if any
  double samples_per_second = 0;
  int64_t global_batch_size = 0;
  int64_t records_skipped = 0;  // bad records skipped in an epoch (see the status schema)
  std::optional<Time> update_time;

  bool operator==(const Progress&) const = default;
  // Equal but for update_time: the same point of training.
  bool SamePoint(const Progress& o) const {
    return step == o.step && total_steps == o.total_steps && epoch == o.epoch && loss == o.loss &&
           accuracy == o.accuracy && auc == o.auc && samples_per_second == o.samples_per_second &&
           global_batch_size == o.global_batch_size && records_skipped == o.records_skipped;
  }
};

// The last checkpoint one parameter server reported over its status socket (its newest: the
// one a replacement of it would restore).
struct ServerCheckpoint {
  int64_t step = 0;      // the shard's step it holds
  Time time{};           // when it was written
  std::string location;  // its directory
  bool final = false;    // written when training finished

  bool operator==(const ServerCheckpoint&) const = default;
};

// What one parameter server answers over its status socket.
struct ServerReport {
  std::optional<ServerCheckpoint> checkpoint;  // its newest, if it has one
  // The worker indexes its requests wait for (sync: the open round's missing pushes), as of
  // its last report (a second old at most); unchecked against the job.
  std::vector<int> waiting_for;
};

// status.checkpoint: the checkpoint the whole job can continue from (checkpoint_status.h).
struct CheckpointStatus {
  int64_t step = 0;      // every server has a checkpoint of at least this step
  Time time{};           // when the newest of the servers' checkpoints was written
  std::string location;  // where the job's checkpoints are: <spec.checkpoint.path>/<job>

  bool operator==(const CheckpointStatus&) const = default;
};

struct JobStatus {
  std::string phase;  // Pending | Created | Running | Restarting | Succeeded | Failed | Suspended
  std::vector<Condition> conditions;
  ReplicaCounts parameter_servers;
  ReplicaCounts workers;
  std::optional<Time> start_time;
  std::optional<Time> completion_time;
  int64_t observed_generation = 0;
  int restart_count = 0;  // failures retried (pods replaced, job restarts): vs backoffLimit
  // UIDs of the pods the operator acted on while the job runs: failures it counted, pods it
  // deleted to recover (one alone, or all for a restart), deletions by others it reported. A
  // pod still seen with one of these UIDs (a stale cache, or an operator that crashed between
  // writing this status and deleting the pods) is not acted on again, but deleted if it is
  // not going yet. UIDs of pods gone are dropped when the list next changes.
  std::vector<std::string> handled_failures;
  std::optional<Progress> progress;
  std::optional<CheckpointStatus> checkpoint;

  bool operator==(const JobStatus&) const = default;

  const Condition* Find(const std::string& type) const;
  bool IsTrue(const std::string& type) const;
  bool Finished() const { return IsTrue(kSucceeded) || IsTrue(kFailed); }
};

// Sets condition `type` to status/reason/message; the transition time changes only when the
// status does. A condition never seen is not added as "False". Returns true when the status
// or reason changed (a transition worth an Event); a changed message alone returns false.
bool SetCondition(JobStatus& status, const std::string& type, const std::string& value,
                  const std::string& reason, const std::string& message, Time now,
                  int64_t generation);

// A TrainingJob as the planner sees it.
struct JobView {
  std::string name;
  std::string ns;
  std::string uid;
  std::string resource_version;  // of the object observed; status writes are conditional on it
  int64_t generation = 0;
  bool deleting = false;
  std::optional<Time> creation_time;
  // The parsed spec, or why it could not be parsed (then `spec` is unset).
  std::optional<job::TrainingJob> job;
  std::string spec_error;
  // Hash of the spec the job's pods were created from (label on pods); differs from
  // spec_hash after an edit.
  std::string spec_hash;
  JobStatus status;
};

// A pod owned by the job.
struct PodView {
  std::string name;
  std::string uid;
  job::Role role = job::Role::kWorker;
  int index = 0;
  std::string phase;  // Pending | Running | Succeeded | Failed | Unknown
  bool ready = false;
  bool deleting = false;
  std::optional<int> exit_code;  // of the first terminated container
  std::string spec_hash;         // label: spec hash the pod was made for
  std::string ip;                // status.podIP
  // The terminated container's message (terminationMessagePath): worker 0 leaves its final
  // progress there as JSON, any process the error that ended it.
  std::string termination_message;
};

struct OwnedObjects {
  bool config_map = false;
  std::string config_map_hash;  // spec hash recorded on the ConfigMap
  std::string config_map_uid;
  bool ps_service = false;
  bool worker_service = false;
  std::vector<PodView> pods;
  // Training progress last pulled from worker 0's status socket, if any.
  std::optional<Progress> progress;
  // The last checkpoint each parameter server reported over its status socket, by server index
  // (servers that have not answered, or have none yet, are absent).
  std::map<int, ServerCheckpoint> server_checkpoints;
  // The workers each parameter server last said it waits for, by server index (servers that
  // have not answered are absent). What names a stopped worker when the job stalls.
  std::map<int, std::vector<int>> servers_waiting_for;
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_JOB_STATE_H_
