#include "ringtrain/launch/local_launcher.h"

#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/app/checkpointing.h"
#include "ringtrain/app/header_check.h"
#include "ringtrain/app/job_plan.h"
#include "ringtrain/app/object_checkpoints.h"
#include "ringtrain/app/output.h"
#include "ringtrain/auth/curve.h"
#include "ringtrain/auth/zap_handler.h"
#include "ringtrain/common/printable.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/launch/child_process.h"
#include "ringtrain/launch/event_check.h"
#include "ringtrain/launch/key_directory.h"
#include "ringtrain/launch/loopback_ports.h"
#include "ringtrain/launch/progress.h"
#include "ringtrain/launch/run_directory.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/takeover.h"

namespace ringtrain::launch {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kStopGrace = std::chrono::seconds(5);
// How long workers may still run once every server has finished (worker 0 writing the model).
constexpr auto kFinishGrace = std::chrono::seconds(60);
// How long training may go without a step before the run says so, naming silent servers.
constexpr auto kStallAfter = std::chrono::seconds(30);
// A server reports its counters every second: one silent this long has stopped.
constexpr auto kServerSilentAfter = std::chrono::seconds(5);
// How long a lost server's successor may take to answer the takeover.
constexpr auto kTakeoverTimeout = std::chrono::seconds(2);

StatusOr<std::string> MakeLogDir(const LaunchOptions& options, const std::string& job) {
  if (!options.log_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.log_dir, ec);
    if (ec)
      return Unavailable("cannot create log directory " + options.log_dir + ": " + ec.message());
    return options.log_dir;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ringtrain-" + job + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Unavailable("cannot create a log directory from " + pattern);
  }
  return pattern;
}

// Whether `e` (valid for the job: CheckEvent) is about the process whose key sent it.
bool SentByItsProcess(const proto::Event& e, const std::optional<auth::Identity>& sender) {
  if (!sender.has_value()) return false;
  const int index = static_cast<int>(e.index());
  return *sender ==
         (e.role() == "ps" ? auth::Identity::Server(index) : auth::Identity::Worker(index));
}

// The CPUs this process may run on, in order (empty if the kernel does not say).
std::vector<int> UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

// Everything one run owns; stops all children when it goes away.
class Run {
 public:
  Run(const job::TrainingJob& job, const LaunchOptions& options)
      : job_(job),
        options_(options),
        out_(*options.out),
        start_(Clock::now()),
        last_render_(start_),
        tracker_(job.spec.workers.replicas, job.spec.parameter_servers.replicas,
                 job.spec.training.epochs, start_) {
    tracker_.set_global_batch(job::GlobalBatchSize(job.spec));
    tracker_.set_workers_per_example(job::WorkersPerExample(job.spec));
    if (options.pin_workers) cpus_ = UsableCpus();
  }
  ~Run() { StopAll(); }

  StatusOr<RunSummary> Execute();

 private:
  Status Start();
  // `bind` is where a server binds ("" = a free loopback port); `incarnation` > 0 names the
  // log of a replacement (worker-1.1.log).
  Status SpawnRole(job::Role role, int index, const std::vector<std::string>& ps_endpoints,
                   const std::string& bind = "", int incarnation = 0);
  // A process that failed while the job runs: replaced alone if runPolicy allows (see the
  // header), else the run's failure.
  Status Recover(job::Role role, int index, const ExitInfo& exit);
  Status WaitForServers(std::vector<std::string>* endpoints);
  Status Supervise();
  // Receives queued events (waiting up to `wait` for the first). Returns false if none.
  bool DrainEvents(std::chrono::milliseconds wait);
  void HandleEvent(const proto::Event& e);
  // True once every server exited successfully after hearing every worker's WORKER_DONE.
  bool TrainingFinished();
  Status CheckChildren(bool* all_workers_done);
  Status Failure(ChildProcess& child, const ExitInfo& exit);
  void StopAll();
  void Render(bool force);
  void PrintLine(const std::string& line);
  // Says (once) when no training step has been made for kStallAfter, naming the servers that
  // have sent nothing for kServerSilentAfter, and again when training goes on.
  void CheckStall();
  int interrupted() const {
    return options_.interrupted != nullptr ? options_.interrupted->load() : 0;
  }

  const job::TrainingJob& job_;
  const LaunchOptions& options_;
  std::vector<int> cpus_;  // the workers' CPUs, in turn (pin_workers); empty: unpinned
  std::ostream& out_;
  SteadyTime start_;
  SteadyTime last_render_;
  ProgressTracker tracker_;
  std::string log_dir_;
  zmq::context_t context_{1};
  // spec.security.authentication: curve: the job's keys (the processes' in keys_dir_, the
  // supervisor's here) and the ZAP handler of the control socket; declared before the socket,
  // so they go after it.
  std::optional<KeyDirectory> keys_dir_;
  // Transport::kIpc: the run's private socket directory (PodContract::run_dir).
  std::optional<RunDirectory> run_dir_;
  std::unique_ptr<auth::Credentials> credentials_;
  std::unique_ptr<auth::ZapHandler> zap_;
  std::optional<zmq::socket_t> control_;
  std::string control_endpoint_;
  std::vector<std::unique_ptr<ChildProcess>> servers_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
  std::vector<std::string> failure_messages_;  // from FAILED events
  std::vector<std::string> ready_endpoints_;
  std::vector<int> ps_workers_done_;  // from each server's FINISHED event
  EventBounds bounds_;                // what a control event may say (event_check.h)
  uint64_t events_dropped_ = 0;       // control messages that were not a valid event
  uint64_t events_forged_ = 0;        // of those: valid events of another process than their key's
  bool worker0_lost_at_end_ = false;  // worker 0 died after its WORKER_DONE (no model written)
  std::optional<SteadyTime> finished_at_;  // when TrainingFinished() was first seen
  std::vector<bool> not_replaced_;         // per worker: failed as training finished
  int shards_restored_ = 0;                // READY events of servers that restored a checkpoint
  std::vector<std::string> recoveries_;    // "worker-1 (killed by signal 9)", in order
  std::vector<bool> server_replaced_;      // server i is a replacement not yet READY
  // Per server: when its replacement starts (LaunchOptions::replace_delay), while it waits.
  std::vector<std::optional<SteadyTime>> replace_at_;
  std::vector<int> incarnations_[2];  // per role (0 servers, 1 workers) and index
  // Per worker: samples replayed by its current process, and by the processes it replaced.
  std::vector<uint64_t> replayed_now_;
  std::vector<uint64_t> skipped_;  // by worker: the last count it reported
  std::vector<uint64_t> replayed_before_;
  app::CheckpointOptions checkpoints_;
  int64_t resumed_from_step_ = -1;  // the smallest start_step > 0 workers reported
  bool line_dirty_ = false;
  uint64_t stall_samples_ = 0;  // samples trained when last looked at
  SteadyTime stall_since_{};    // since when they have not grown
  bool stall_reported_ = false;
  std::vector<SteadyTime> heard_from_ps_;  // per server: its last event
  // Per server: the workers it waited for at its last report (Event.waiting_for).
  std::vector<std::vector<uint32_t>> ps_waiting_for_;
};

Status Run::Start() {
  // The job's plan (the one its processes make) bounds the steps a worker can report; a
  // training set whose header cannot be read fails here, as invalid input, before any process
  // starts.
  RT_ASSIGN_OR_RETURN(app::DatasetShape shape, app::ReadDatasetShape(job_.spec));
  RT_ASSIGN_OR_RETURN(app::JobPlan plan, app::MakeJobPlan(job_, shape));
  // Partitions too many for one message are said here, before anything starts.
  RT_RETURN_IF_ERROR(app::CheckHeadersFit(plan, options_.transport == Transport::kIpc));
  bounds_.num_ps = plan.num_ps;
  bounds_.num_workers = plan.num_workers;
  bounds_.epochs = plan.epochs;
  // Text formats: each worker counts its own rows once it has read them; the launcher does
  // not read the data, so a worker's steps are bounded by what a job of this spec could have.
  bounds_.total_steps = shape.per_worker_rows ? INT64_MAX / 2 : plan.total_steps;
  RT_ASSIGN_OR_RETURN(log_dir_, MakeLogDir(options_, job_.metadata.name));
  checkpoints_ = app::CheckpointOptionsFor(job_);
  app::UseObjectStorage(&checkpoints_, job_, options_.storage, options_.staging_root);
  if (options_.fresh && checkpoints_.enabled()) {
    RT_RETURN_IF_ERROR(app::RemoveJobCheckpoints(checkpoints_, job_.metadata.name));
    out_ << "ringtrain: --fresh: removed the checkpoints in "
         << app::JobCheckpointDirectory(checkpoints_, job_.metadata.name) << "\n";
  } else if (checkpoints_.enabled()) {
    // Said before anything starts, instead of training nothing or starting over.
    RT_ASSIGN_OR_RETURN(std::optional<app::FinishedJob> finished,
                        app::FindFinishedJob(checkpoints_, plan));
    if (finished.has_value()) return app::FinishedJobError(*finished, job_.metadata.name);
  }
  server_replaced_.assign(static_cast<size_t>(plan.num_ps), false);
  replace_at_.assign(static_cast<size_t>(plan.num_ps), std::nullopt);
  incarnations_[0].assign(static_cast<size_t>(plan.num_ps), 0);
  incarnations_[1].assign(static_cast<size_t>(plan.num_workers), 0);
  replayed_now_.assign(static_cast<size_t>(plan.num_workers), 0);
  skipped_.assign(static_cast<size_t>(plan.num_workers), 0);
  not_replaced_.assign(static_cast<size_t>(plan.num_workers), false);
  replayed_before_.assign(static_cast<size_t>(plan.num_workers), 0);
  const char* tmp_env = std::getenv("TMPDIR");
  const std::string tmp = tmp_env != nullptr && *tmp_env != '\0' ? tmp_env : "/tmp";
  if (options_.transport == Transport::kIpc) {
    // Sockets in a directory only this user can enter: they need no keys, and are faster
    // than loopback TCP (bench/transport_bench).
    RT_ASSIGN_OR_RETURN(RunDirectory dir, RunDirectory::Create(tmp));
    run_dir_.emplace(std::move(dir));
  } else if (job_.spec.security.authentication == job::Authentication::kCurve) {
    // Fresh keys for every run: nothing outlives it, nothing to distribute but files.
    RT_ASSIGN_OR_RETURN(auth::JobKeys keys, auth::NewJobKeys(plan.num_ps, plan.num_workers));
    RT_ASSIGN_OR_RETURN(KeyDirectory dir, KeyDirectory::Create(keys, tmp));
    keys_dir_.emplace(std::move(dir));
    credentials_ = std::make_unique<auth::Credentials>();
    credentials_->self = auth::Identity::Supervisor();
    credentials_->pair = keys.pairs.at(auth::Identity::Supervisor());
    credentials_->keys = keys.public_keys;
    RT_ASSIGN_OR_RETURN(
        // Refusals are counted and summed up at the end: the handler's thread must not write
        // the progress line the run's thread draws.
        zap_, auth::ZapHandler::Start(context_, credentials_->keys, nullptr));
  }
  try {
    control_.emplace(context_, zmq::socket_type::pull);
    control_->set(zmq::sockopt::linger, 0);
    // Events are small; a peer that sends more than this is disconnected, its message unread.
    control_->set(zmq::sockopt::maxmsgsize, int64_t{1} << 20);
    if (credentials_ != nullptr) RT_RETURN_IF_ERROR(auth::ApplyServer(*control_, *credentials_));
    control_->bind(run_dir_ ? run_dir_->Endpoint("control") : "tcp://127.0.0.1:0");
    control_endpoint_ = control_->get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Unavailable(std::string("cannot bind the launcher's control socket: ") + e.what());
  }
  ready_endpoints_.assign(static_cast<size_t>(job_.spec.parameter_servers.replicas), "");
  heard_from_ps_.assign(static_cast<size_t>(job_.spec.parameter_servers.replicas), Clock::now());
  ps_waiting_for_.assign(heard_from_ps_.size(), {});
  ps_workers_done_.assign(static_cast<size_t>(job_.spec.parameter_servers.replicas), 0);
  return Status::Ok();
}

Status Run::SpawnRole(job::Role role, int index, const std::vector<std::string>& ps_endpoints,
                      const std::string& bind, int incarnation) {
  // Servers start first, on free loopback ports they report; workers get those endpoints. A
  // replaced server binds its predecessor's endpoint, where the workers reconnect.
  job::Placement placement;
  placement.ps_endpoints = ps_endpoints;
  placement.ps_bind = !bind.empty() ? bind
                      : run_dir_    ? run_dir_->Endpoint(job::ProcessName(role, index))
                                    : "tcp://127.0.0.1:0";
  if (run_dir_) placement.run_dir = run_dir_->path();
  placement.spec_path = options_.spec_path;
  placement.control_endpoint = control_endpoint_;
  placement.output_dir = options_.output_dir;
  if (keys_dir_.has_value()) {
    placement.public_keys_path = keys_dir_->public_keys_path();
    placement.secret_key_dir = keys_dir_->path();
  }
  const job::PodContract c = job::ContractFor(job_, role, index, placement);
  const std::string name = job::ProcessName(role, index);
  std::vector<std::string> argv = {options_.binary};
  for (std::string& arg : job::ProcessArgs(role)) argv.push_back(std::move(arg));
  const std::string log =
      log_dir_ + "/" + name + (incarnation > 0 ? "." + std::to_string(incarnation) : "") + ".log";
  const int cpu = role == job::Role::kWorker && cpus_.size() > 1
                      ? cpus_[static_cast<size_t>(index) % cpus_.size()]
                      : -1;
  RT_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> child,
                      ChildProcess::Spawn(name, argv, job::ToEnv(c), log, cpu));
  auto& group = role == job::Role::kParameterServer ? servers_ : workers_;
  if (static_cast<size_t>(index) < group.size()) {
    group[static_cast<size_t>(index)] = std::move(child);
  } else {
    group.push_back(std::move(child));
  }
  return Status::Ok();
}

Status Run::Recover(job::Role role, int index, const ExitInfo& exit) {
  const bool server = role == job::Role::kParameterServer;
  ChildProcess& child = *(server ? servers_ : workers_)[static_cast<size_t>(index)];
  const job::RunPolicy& policy = job_.spec.run_policy;
  bool retryable = false;
  switch (policy.restart_policy) {
    case job::RestartPolicy::kNever:
      break;
    case job::RestartPolicy::kOnFailure:
      retryable = true;
      break;
    case job::RestartPolicy::kExitCode:
      // Killed by a signal (128+N): worth another try; 1..127: the program gave up.
      retryable = exit.signaled || exit.exit_code >= 128;
      break;
  }
  const int used = static_cast<int>(recoveries_.size());
  const bool replicated = job_.spec.parameter_servers.replication > 0;
  if (!retryable || used >= policy.backoff_limit ||
      (server && !checkpoints_.enabled() && !replicated) || exit.exit_code == 2) {
    Status failure = Failure(child, exit);
    std::string why;
    if (exit.exit_code == 2 && !exit.signaled) {
      return failure;  // invalid input: another try would fail the same way
    } else if (!retryable) {
      why = "restartPolicy " + std::string(job::Name(policy.restart_policy)) + " does not retry it";
    } else if (used >= policy.backoff_limit) {
      why = "after " + std::to_string(used) + " recoveries (backoffLimit " +
            std::to_string(policy.backoff_limit) + ")";
    } else {
      why =
          "a server is replaced only with spec.checkpoint or parameterServers.replication: "
          "without either its shard cannot be restored";
    }
    return Status(failure.code(), failure.message() + "\n  not recovered: " + why);
  }
  if (!server) {
    for (size_t i = 0; i < servers_.size(); ++i) {
      std::optional<ExitInfo> done = servers_[i]->Poll();
      if (done && done->success()) {
        // Training is finishing: every worker had sent WORKER_DONE (a replacement would wait
        // for servers that are gone).
        PrintLine("ringtrain: " + child.name() + " failed (" + exit.ToString() + ") after ps-" +
                  std::to_string(i) + " finished: not replaced");
        if (index == 0) worker0_lost_at_end_ = true;
        not_replaced_[static_cast<size_t>(index)] = true;
        return Status::Ok();
      }
    }
  }
  const std::string what = child.name() + " (" +
                           (exit.signaled ? "signal " + std::to_string(exit.signal)
                                          : "exit code " + std::to_string(exit.exit_code)) +
                           ")";
  recoveries_.push_back(what);
  const size_t slot = static_cast<size_t>(index);
  const int incarnation = ++incarnations_[server ? 0 : 1][slot];
  const std::string restart =
      "restart " + std::to_string(used + 1) + " of at most " + std::to_string(policy.backoff_limit);
  if (server) {
    const std::string source =
        replicated
            ? "the copy on ps-" + std::to_string((index + 1) % static_cast<int>(servers_.size()))
            : std::string("its newest checkpoint");
    const int num_ps = static_cast<int>(servers_.size());
    bool taken_over = false;
    if (replicated && num_ps > 1) {
      // Before the replacement starts, so that its fetch of the copy ends the takeover.
      const int successor = (index + 1) % num_ps;
      Status s = ps::AskToTakeOver(context_, ready_endpoints_[static_cast<size_t>(successor)],
                                   job_.metadata.name, index, kTakeoverTimeout, successor,
                                   credentials_.get());
      taken_over = s.ok();
      if (!taken_over)
        PrintLine("ringtrain: no takeover of " + child.name() + "'s shard: " + s.message());
    }
    PrintLine("ringtrain: " + child.name() + " failed (" + exit.ToString() +
              "); replacing it alone (" + restart + "): it restores its shard from " + source +
              (taken_over ? ", which serves it to the workers until then"
                          : ", the workers wait and rejoin"));
    server_replaced_[slot] = true;
    if (options_.replace_delay.count() > 0) {
      replace_at_[slot] = Clock::now() + options_.replace_delay;
      return Status::Ok();
    }
    return SpawnRole(job::Role::kParameterServer, index, ready_endpoints_, ready_endpoints_[slot],
                     incarnation);
  }
  PrintLine("ringtrain: " + child.name() + " failed (" + exit.ToString() +
            "); replacing it alone (" + restart + "): it continues from the servers' clock for it");
  replayed_before_[slot] += replayed_now_[slot];
  replayed_now_[slot] = 0;
  return SpawnRole(job::Role::kWorker, index, ready_endpoints_, "", incarnation);
}

bool Run::DrainEvents(std::chrono::milliseconds wait) {
  bool any = false;
  zmq::pollitem_t item{control_->handle(), 0, ZMQ_POLLIN, 0};
  try {
    if (zmq::poll(&item, 1, wait) <= 0) return false;
    while (true) {
      zmq::message_t msg;
      if (!control_->recv(msg, zmq::recv_flags::dontwait)) break;
      // Anyone on this machine can send to the control socket: what is not an event of this
      // job is dropped and counted, never used, and never fails the run.
      // With authentication only the job's keys get here, and an event must be about the
      // process whose key sent it.
      proto::Event e;
      if (!e.ParseFromArray(msg.data(), static_cast<int>(msg.size())) ||
          !CheckEvent(e, bounds_).ok()) {
        ++events_dropped_;
      } else if (credentials_ != nullptr && !SentByItsProcess(e, auth::SenderOf(msg))) {
        ++events_dropped_;
        ++events_forged_;
      } else {
        HandleEvent(e);
      }
      any = true;
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) PrintLine(std::string("control channel error: ") + e.what());
  }
  return any;
}

void Run::CheckStall() {
  const auto now = Clock::now();
  const uint64_t samples = tracker_.total_samples();
  if (samples != stall_samples_ || samples == 0) {
    // Moving, or not started yet (workers load their data first).
    if (samples != stall_samples_ && stall_reported_) {
      PrintLine("ringtrain: training goes on again");
      stall_reported_ = false;
    }
    stall_samples_ = samples;
    stall_since_ = now;
    return;
  }
  if (stall_reported_ || now - stall_since_ < kStallAfter) return;
  stall_reported_ = true;
  std::string silent;
  for (size_t i = 0; i < servers_.size(); ++i) {
    const auto quiet = now - heard_from_ps_[i];
    if (quiet < kServerSilentAfter || servers_[i]->Poll().has_value()) continue;
    silent +=
        std::string(silent.empty() ? "" : ", ") + "ps-" + std::to_string(i) + " (nothing for " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(quiet).count()) + " s)";
  }
  if (!silent.empty()) {
    PrintLine("ringtrain: no training step for " + std::to_string(kStallAfter.count()) +
              " s; silent: " + silent + " (stopped, or its host is unreachable)");
    return;
  }
  // Every server reports: they say which workers they wait for.
  std::set<uint32_t> waited;
  for (const std::vector<uint32_t>& workers : ps_waiting_for_) {
    waited.insert(workers.begin(), workers.end());
  }
  std::string workers;
  for (const uint32_t w : waited) {
    workers += std::string(workers.empty() ? "" : ", ") + "worker-" + std::to_string(w);
  }
  PrintLine("ringtrain: no training step for " + std::to_string(kStallAfter.count()) +
            " s; every server still reports; " +
            (workers.empty() ? std::string("they wait for no worker (a worker is stopped or slow)")
                             : "the servers wait for " + workers + " (stopped, or slow)") +
            (job_.spec.training.worker_timeout_seconds > 0
                 ? "; in sync the rounds go on without a silent worker after "
                   "spec.training.workerTimeoutSeconds"
                 : ""));
}

void Run::HandleEvent(const proto::Event& e) {
  if (e.role() == "ps" && e.index() < heard_from_ps_.size()) {
    heard_from_ps_[e.index()] = Clock::now();
    if (e.type() == proto::PROGRESS) {
      ps_waiting_for_[e.index()].assign(e.waiting_for().begin(), e.waiting_for().end());
    }
  }
  if (e.type() == proto::READY && e.role() == "ps" && e.index() < ready_endpoints_.size()) {
    ready_endpoints_[e.index()] = e.endpoint();
    if (server_replaced_[e.index()]) {
      server_replaced_[e.index()] = false;
      PrintLine("ringtrain: ps-" + std::to_string(e.index()) + " is back on " + e.endpoint() +
                (e.restored_from().empty()
                     ? std::string(" without a checkpoint")
                     : ", its shard restored at step " + std::to_string(e.restored_step()) + " (" +
                           e.restored_from() + ")"));
    } else if (!e.restored_from().empty()) {
      ++shards_restored_;
      PrintLine("ringtrain: ps-" + std::to_string(e.index()) +
                " continues from its checkpoint at step " + std::to_string(e.restored_step()) +
                " (" + e.restored_from() + ")");
    }
  }
  if (e.role() == "worker" && e.index() < replayed_now_.size()) {
    replayed_now_[e.index()] = std::max(replayed_now_[e.index()], e.samples_replayed());
    skipped_[e.index()] = std::max(skipped_[e.index()], e.records_skipped());
  }
  if (e.role() == "worker" && e.start_step() > 0 && recoveries_.empty() &&
      (resumed_from_step_ < 0 || e.start_step() < resumed_from_step_)) {
    resumed_from_step_ = e.start_step();
  }
  if (e.type() == proto::FINISHED && e.role() == "ps" && e.index() < ps_workers_done_.size()) {
    ps_workers_done_[e.index()] = static_cast<int>(e.server_stats().workers_done());
  }
  if (e.type() == proto::FAILED) {
    failure_messages_.push_back(e.role() + "-" + std::to_string(e.index()) + ": " + e.message());
  }
  if (std::optional<std::string> line = tracker_.OnEvent(e, Clock::now())) PrintLine(*line);
}

void Run::PrintLine(const std::string& line) {
  if (options_.interactive && line_dirty_) out_ << "\r\033[K";
  out_ << Printable(line) << "\n" << std::flush;  // lines quote processes' messages
  line_dirty_ = false;
}

void Run::Render(bool force) {
  const auto now = Clock::now();
  const auto interval =
      options_.interactive ? std::chrono::milliseconds(200) : options_.line_interval;
  if (!force && now - last_render_ < interval) return;
  last_render_ = now;
  if (options_.interactive) {
    out_ << "\r\033[K" << tracker_.StatusLine(now) << std::flush;
    line_dirty_ = true;
  } else {
    out_ << tracker_.StatusLine(now) << "\n" << std::flush;
  }
}

Status Run::Failure(ChildProcess& child, const ExitInfo& exit) {
  DrainEvents(std::chrono::milliseconds(0));
  std::string msg = child.name() + " failed (" + exit.ToString() + ")";
  for (const auto& m : failure_messages_) {
    if (m.rfind(child.name() + ":", 0) == 0) msg += ": " + m.substr(child.name().size() + 2);
  }
  msg += "\n  last lines of " + child.log_path() + ":\n" + child.LogTail(15);
  StopAll();
  // Exit code 2 is a process's verdict that its input (spec, data files) is invalid: so is the
  // run's.
  if (!exit.signaled && exit.exit_code == 2) return InvalidArgument(msg);
  return Internal(msg);
}

Status Run::WaitForServers(std::vector<std::string>* endpoints) {
  const auto deadline = Clock::now() + options_.startup_timeout;
  while (true) {
    DrainEvents(kPollInterval);
    bool all = true;
    for (const auto& e : ready_endpoints_) all = all && !e.empty();
    if (all) break;
    if (int sig = interrupted()) return Cancelled("interrupted by signal " + std::to_string(sig));
    for (auto& s : servers_) {
      if (auto exit = s->Poll()) return Failure(*s, *exit);
    }
    if (Clock::now() > deadline) {
      return DeadlineExceeded("parameter servers did not report ready within " +
                              std::to_string(options_.startup_timeout.count()) + " ms (logs in " +
                              log_dir_ + ")");
    }
  }
  *endpoints = ready_endpoints_;
  return Status::Ok();
}

bool Run::TrainingFinished() {
  for (size_t i = 0; i < servers_.size(); ++i) {
    std::optional<ExitInfo> exit = servers_[i]->Poll();
    if (!exit || !exit->success() || ps_workers_done_[i] < job_.spec.workers.replicas) {
      return false;
    }
  }
  return true;
}

Status Run::CheckChildren(bool* all_workers_done) {
  *all_workers_done = true;
  if (TrainingFinished()) {
    // Every server has heard every worker's WORKER_DONE and exited: training is complete. A
    // worker that fails now needs no replacement. One still running is finishing (worker 0
    // writes the model), or is a replacement of a worker that died after its WORKER_DONE and
    // waits for servers that are gone: it gets kFinishGrace.
    if (!finished_at_) finished_at_ = Clock::now();
    const bool grace_over = Clock::now() - *finished_at_ > kFinishGrace;
    for (size_t i = 0; i < workers_.size(); ++i) {
      std::optional<ExitInfo> exit = workers_[i]->Poll();
      if (exit && (exit->success() || not_replaced_[i])) continue;
      if (!exit && !grace_over) {
        *all_workers_done = false;
        continue;
      }
      PrintLine("ringtrain: worker-" + std::to_string(i) +
                (exit ? " failed (" + exit->ToString() + ")" : " did not end") +
                " after every server finished: training is complete without it");
      if (!exit) workers_[i]->Terminate(kStopGrace);
      if (i == 0) worker0_lost_at_end_ = true;
      not_replaced_[i] = true;
    }
    return Status::Ok();
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    std::optional<ExitInfo> exit = workers_[i]->Poll();
    if (!exit) {
      *all_workers_done = false;
    } else if (!exit->success() && !not_replaced_[i]) {
      RT_RETURN_IF_ERROR(Recover(job::Role::kWorker, static_cast<int>(i), *exit));
      *all_workers_done = false;
    }
  }
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (replace_at_[i].has_value()) {
      // A failed server waiting for its replacement (replace_delay); once every worker has
      // finished it starts at once, to take its shard back and finish.
      if (Clock::now() < *replace_at_[i] && !*all_workers_done) continue;
      replace_at_[i].reset();
      RT_RETURN_IF_ERROR(SpawnRole(job::Role::kParameterServer, static_cast<int>(i),
                                   ready_endpoints_, ready_endpoints_[i], incarnations_[0][i]));
      continue;
    }
    std::optional<ExitInfo> exit = servers_[i]->Poll();
    if (!exit) continue;
    if (!exit->success()) {
      RT_RETURN_IF_ERROR(Recover(job::Role::kParameterServer, static_cast<int>(i), *exit));
      continue;
    }
    // A server ends by itself only once every worker has told it so (its FINISHED event says
    // how many did); a clean exit before that (say, a stray SIGTERM) leaves workers waiting.
    if (!*all_workers_done) {
      // Its FINISHED event may still be in flight from the exited process: give it a second.
      const auto until = Clock::now() + std::chrono::seconds(1);
      while (ps_workers_done_[i] < job_.spec.workers.replicas && Clock::now() < until) {
        DrainEvents(std::chrono::milliseconds(50));
      }
      if (ps_workers_done_[i] < job_.spec.workers.replicas) {
        return Failure(*servers_[i], *exit);
      }
    }
  }
  return Status::Ok();
}

Status Run::Supervise() {
  while (true) {
    DrainEvents(kPollInterval);
    for (auto* group : {&workers_, &servers_}) {
      for (auto& c : *group) c->SamplePeakMemory();
    }
    Render(false);
    CheckStall();
    if (int sig = interrupted()) {
      StopAll();
      return Cancelled("interrupted by signal " + std::to_string(sig));
    }
    bool done = false;
    RT_RETURN_IF_ERROR(CheckChildren(&done));
    if (done) break;
  }
  // Servers exit by themselves once every worker has said it is done.
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    bool all = true;
    for (auto& s : servers_) {
      std::optional<ExitInfo> exit = s->Poll();
      if (exit && !exit->success()) return Failure(*s, *exit);
      all = all && exit.has_value();
    }
    if (all) break;
    DrainEvents(kPollInterval);
  }
  while (DrainEvents(std::chrono::milliseconds(50))) {
  }
  StopAll();
  return Status::Ok();
}

void Run::StopAll() {
  for (auto* group : {&workers_, &servers_}) {
    for (auto& c : *group) c->Signal(SIGTERM);
  }
  for (auto* group : {&workers_, &servers_}) {
    for (auto& c : *group) c->Terminate(kStopGrace);
  }
}

// "sync, momentum, batch 64 per worker, compression none" and the like.
std::string DescribeTraining(const job::TrainingSpec& t) {
  std::string s = job::Name(t.sync_mode);
  if (t.sync_mode == job::SyncMode::kSsp) s += " (staleness " + std::to_string(t.staleness) + ")";
  if (t.staleness_aware_lr) s += ", staleness-aware rates";
  s += std::string(", ") + job::Name(t.optimizer.type) + ", batch " + std::to_string(t.batch_size) +
       " per worker, compression " + job::Name(t.compression.type);
  if (t.compression.type == job::CompressionType::kTopK) {
    char ratio[32];
    std::snprintf(ratio, sizeof(ratio), "%g", t.compression.ratio);
    s += std::string(" ") + ratio;
  }
  if (t.compression.error_feedback) s += " with error feedback";
  return s;
}

StatusOr<RunSummary> Run::Execute() {
  RT_RETURN_IF_ERROR(Start());
  const int num_ps = job_.spec.parameter_servers.replicas;
  const int num_workers = job_.spec.workers.replicas;
  out_ << "ringtrain: job " << job_.metadata.name << ": " << num_ps << " parameter server"
       << (num_ps == 1 ? "" : "s") << ", " << num_workers << " worker"
       << (num_workers == 1 ? "" : "s") << ", logs in " << log_dir_ << "\n"
       << "ringtrain: training " << DescribeTraining(job_.spec.training) << "\n";
  if (cpus_.size() > 1) {
    out_ << "ringtrain: workers pinned to CPUs";
    for (int i = 0; i < std::min<int>(num_workers, static_cast<int>(cpus_.size())); ++i) {
      out_ << (i == 0 ? " " : ", ") << cpus_[static_cast<size_t>(i)];
    }
    out_ << (num_workers > static_cast<int>(cpus_.size()) ? " in turn" : "")
         << " (--no-pin: off)\n";
  }
  out_ << std::flush;
  if (job_.spec.parameter_servers.replication > 0) {
    // Each server connects to its successor as it starts: every endpoint is known up front.
    std::vector<std::string> planned;
    if (run_dir_) {
      for (int i = 0; i < num_ps; ++i) {
        planned.push_back(run_dir_->Endpoint(job::ProcessName(job::Role::kParameterServer, i)));
      }
    } else {
      RT_ASSIGN_OR_RETURN(planned, FreeLoopbackEndpoints(num_ps));
    }
    for (int i = 0; i < num_ps; ++i) {
      RT_RETURN_IF_ERROR(
          SpawnRole(job::Role::kParameterServer, i, planned, planned[static_cast<size_t>(i)]));
    }
  } else {
    for (int i = 0; i < num_ps; ++i) {
      RT_RETURN_IF_ERROR(SpawnRole(job::Role::kParameterServer, i, {}));
    }
  }
  std::vector<std::string> endpoints;
  RT_RETURN_IF_ERROR(WaitForServers(&endpoints));
  for (int i = 0; i < num_workers; ++i) {
    RT_RETURN_IF_ERROR(SpawnRole(job::Role::kWorker, i, endpoints));
  }
  RT_RETURN_IF_ERROR(Supervise());
  if (options_.interactive && line_dirty_) {
    out_ << "\r\033[K" << tracker_.StatusLine(Clock::now()) << "\n";
    line_dirty_ = false;
  }

  const auto now = Clock::now();
  RunSummary s;
  s.wall_seconds = std::chrono::duration<double>(now - start_).count();
  s.epochs = job_.spec.training.epochs;
  if (!tracker_.evals().empty()) {
    s.final_test_loss = tracker_.evals().back().loss;
    s.final_auc = tracker_.evals().back().auc;
    if (s.final_auc < 0) s.final_accuracy = tracker_.evals().back().accuracy;
  }
  s.samples = tracker_.total_samples();
  s.samples_per_second = tracker_.MeanSamplesPerSecond(now);
  s.train_seconds = tracker_.train_seconds();
  s.global_batch = tracker_.global_batch();
  s.bytes_pushed = tracker_.bytes_pushed();
  s.bytes_pushed_dense = tracker_.bytes_pushed_dense();
  const proto::ServerStats servers = tracker_.server_totals();
  s.asynchronous = job_.spec.training.sync_mode != job::SyncMode::kSync;
  if (servers.staleness_count() > 0) {
    s.staleness_mean = static_cast<double>(servers.staleness_sum()) /
                       static_cast<double>(servers.staleness_count());
  }
  s.staleness_max = servers.staleness_max();
  s.max_clock_lead = servers.max_clock_lead();
  s.bytes_pulled = tracker_.bytes_pulled();
  s.bytes_pulled_shared = tracker_.bytes_pulled_shared();
  s.bytes_pushed_shared = tracker_.bytes_pushed_shared();
  s.bytes_pushed_chunked = tracker_.bytes_pushed_chunked();
  s.messages_dropped = tracker_.messages_dropped();
  s.messages_received = servers.messages_received();
  s.messages_direct = servers.messages_direct();
  s.control_events_dropped = events_dropped_;
  s.control_events_forged = events_forged_;
  s.control_connections_refused = zap_ != nullptr ? zap_->refused() : 0;
  s.messages_unauthorized = tracker_.server_totals().messages_unauthorized();
  s.authenticated = credentials_ != nullptr;
  s.private_ipc = run_dir_.has_value();
  s.shards_restored = shards_restored_;
  s.num_ps = num_ps;
  s.resumed_from_step = resumed_from_step_;
  s.pushes_lost = servers.pushes_lost();
  s.recoveries = recoveries_;
  for (const proto::ServerStats& ps : tracker_.server_stats()) {
    s.pushes_lost_per_server.push_back(ps.pushes_lost());
    s.tasks_handed_out += ps.tasks_handed_out();
    s.tasks_finished += ps.tasks_finished();
    s.tasks_requeued += ps.tasks_requeued();
    s.tasks_finished_again += ps.tasks_finished_again();
    s.margin_rounds += ps.margin_rounds();
    s.margins_repeated += ps.margins_repeated();
    s.sparse_rows += ps.sparse_rows();
    s.sparse_table_bytes += ps.sparse_table_bytes();
    s.sparse_raw_bytes += ps.sparse_raw_bytes();
    s.sparse_not_admitted += ps.sparse_updates_not_admitted();
    s.sparse_rows_expired += ps.sparse_rows_expired();
    s.workers_excluded_per_server.push_back(ps.workers_excluded());
    s.workers_returned_per_server.push_back(ps.workers_returned());
    s.steps_missed_per_server.push_back(ps.steps_missed());
    s.takeovers_per_server.push_back(ps.takeovers());
    s.detours_served_per_server.push_back(ps.detours_served());
  }
  for (size_t i = 0; i < replayed_now_.size(); ++i) {
    s.samples_replayed += replayed_now_[i] + replayed_before_[i];
  }
  s.records_skipped = skipped_;
  s.log_dir = log_dir_;
  for (auto* group : {&servers_, &workers_}) {
    std::vector<int64_t>& peaks = group == &servers_ ? s.peak_rss_servers : s.peak_rss_workers;
    for (auto& c : *group) peaks.push_back(c->peak_rss_bytes());
  }
  const std::string output_dir =
      options_.output_dir.empty() ? app::OutputDirectoryOf(job_) : options_.output_dir;
  // Worker 0 does not write a sparse model (app/sparse_worker.h): `ringtrain run` exports it
  // from the final checkpoints.
  if (!output_dir.empty() && !worker0_lost_at_end_ && !job::IsSparseModel(job_.spec.model.type)) {
    s.model_path = app::IsObjectLocation(output_dir)
                       ? app::ModelPathIn(output_dir)
                       : std::filesystem::absolute(app::ModelPathIn(output_dir)).string();
  }
  const app::CheckpointOptions checkpoints = app::CheckpointOptionsFor(job_);
  if (checkpoints.enabled()) {
    const std::string dir = app::JobCheckpointDirectory(checkpoints, job_.metadata.name);
    s.checkpoint_dir = app::IsObjectLocation(dir) ? dir : std::filesystem::absolute(dir).string();
    s.last_checkpoint = tracker_.last_checkpoint();
  }
  return s;
}

}  // namespace

StatusOr<RunSummary> RunLocal(const job::TrainingJob& job, const LaunchOptions& options) {
  if (options.out == nullptr) return InvalidArgument("RunLocal: no output stream");
  // An inherited SIG_IGN for SIGCHLD would reap the children behind waitpid's back.
  signal(SIGCHLD, SIG_DFL);
  Run run(job, options);
  return run.Execute();
}

void PrintSummary(const RunSummary& s, std::ostream& out) {
  char buf[128];
  out << "\nsummary\n";
  std::snprintf(buf, sizeof(buf), "  wall time            %s (%.1f s)\n",
                FormatDuration(s.wall_seconds).c_str(), s.wall_seconds);
  out << buf;
  if (s.final_accuracy >= 0) {
    std::snprintf(buf, sizeof(buf), "  test accuracy        %.4f (test loss %.4f)\n",
                  s.final_accuracy, s.final_test_loss);
    out << buf;
  }
  if (s.final_auc >= 0) {
    std::snprintf(buf, sizeof(buf), "  test AUC             %.4f (test log-loss %.4f)\n",
                  s.final_auc, s.final_test_loss);
    out << buf;
  }
  std::snprintf(buf, sizeof(buf), "  samples              %llu over %d epochs, global batch %lld\n",
                static_cast<unsigned long long>(s.samples), s.epochs,
                static_cast<long long>(s.global_batch));
  out << buf;
  std::snprintf(buf, sizeof(buf), "  throughput           %s samples/s\n",
                FormatCount(s.samples_per_second).c_str());
  out << buf;
  if (s.train_seconds > 0) {
    std::snprintf(buf, sizeof(buf),
                  "  training loop        %.2f s (the slowest worker's steps; no start-up, "
                  "loading or evaluation)\n",
                  s.train_seconds);
    out << buf;
  }
  out << "  gradient bytes sent  " << FormatBytes(s.bytes_pushed);
  if (s.bytes_pushed > 0 && s.bytes_pushed_dense != s.bytes_pushed) {
    std::snprintf(buf, sizeof(buf), " (%.1fx fewer than dense float32, %s)",
                  static_cast<double>(s.bytes_pushed_dense) / static_cast<double>(s.bytes_pushed),
                  FormatBytes(s.bytes_pushed_dense).c_str());
    out << buf;
  }
  if (s.bytes_pushed_shared > 0) {
    out << " (" << FormatBytes(s.bytes_pushed_shared) << " read from the workers' shared memory)";
  }
  if (s.bytes_pushed_chunked > 0) {
    out << " (" << FormatBytes(s.bytes_pushed_chunked)
        << " in chunks, each answered by its parameters)";
  }
  out << "\n";
  out << "  parameter bytes got  " << FormatBytes(s.bytes_pulled);
  if (s.bytes_pulled_shared > 0) {
    out << " (" << FormatBytes(s.bytes_pulled_shared) << " from the servers' shared memory)";
  }
  out << "\n";
  if (s.messages_direct > 0) {
    char line[256];
    std::snprintf(
        line, sizeof(line),
        "  direct links         %llu of the %llu messages the servers received (%.1f%%) came over "
        "Unix sockets from the workers' own threads (no ZeroMQ I/O thread)\n",
        static_cast<unsigned long long>(s.messages_direct),
        static_cast<unsigned long long>(s.messages_received),
        100.0 * static_cast<double>(s.messages_direct) /
            static_cast<double>(std::max<uint64_t>(s.messages_received, 1)));
    out << line;
  }
  if (s.asynchronous) {
    std::snprintf(buf, sizeof(buf),
                  "  staleness            mean %.2f, max %llu updates; largest clock lead %llu\n",
                  s.staleness_mean, static_cast<unsigned long long>(s.staleness_max),
                  static_cast<unsigned long long>(s.max_clock_lead));
    out << buf;
  }
  if (s.shards_restored > 0 || s.resumed_from_step >= 0) {
    out << "  resumed              ";
    if (s.resumed_from_step >= 0) {
      out << "from step " << s.resumed_from_step << ", ";
    } else {
      out << "with nothing left to train, ";
    }
    out << s.shards_restored << " of " << s.num_ps << " shards from checkpoints\n";
  }
  if (!s.recoveries.empty()) {
    out << "  recoveries           " << s.recoveries.size() << ":";
    for (size_t i = 0; i < s.recoveries.size(); ++i) {
      out << (i == 0 ? " " : ", ") << s.recoveries[i];
    }
    out << "\n";
  }
  if (s.tasks_handed_out > 0) {
    out << "  data queue           " << s.tasks_finished << " tasks finished (each task of each "
        << "epoch once), " << s.tasks_handed_out << " handed out, " << s.tasks_requeued
        << " given back (their worker joined again or went silent), " << s.tasks_finished_again
        << " finished again (read twice)\n";
  }
  if (s.margin_rounds > 0) {
    out << "  feature blocks       " << s.margin_rounds
        << " rounds of partial margins summed (one a step), " << s.margins_repeated
        << " steps sent again after their sum (a worker that joined again)\n";
  }
  if (s.sparse_rows > 0) {
    std::snprintf(buf, sizeof(buf),
                  "  sparse table         %llu keys in %s on the servers, %.2f bytes per raw "
                  "byte (key, value, optimizer state)\n",
                  static_cast<unsigned long long>(s.sparse_rows),
                  FormatBytes(s.sparse_table_bytes).c_str(),
                  static_cast<double>(s.sparse_table_bytes) /
                      static_cast<double>(std::max<uint64_t>(s.sparse_raw_bytes, 1)));
    out << buf;
  }
  if (s.sparse_not_admitted > 0 || s.sparse_rows_expired > 0) {
    out << "  sparse keys          " << s.sparse_not_admitted
        << " updates dropped before their key was admitted (model.admitAfter), "
        << s.sparse_rows_expired << " rows expired (model.expireAfterSteps)\n";
  }
  if (!s.peak_rss_servers.empty() || !s.peak_rss_workers.empty()) {
    out << "  peak memory          ";
    const char* separator = "";
    for (const auto* group : {&s.peak_rss_servers, &s.peak_rss_workers}) {
      const char* role = group == &s.peak_rss_servers ? "ps-" : "worker-";
      for (size_t i = 0; i < group->size(); ++i) {
        const int64_t b = (*group)[i];
        out << separator << role << i << " "
            << (b < 0 ? std::string("?") : FormatBytes(static_cast<uint64_t>(b)));
        separator = ", ";
      }
    }
    out << " (resident, each role's last process, sampled every "
        << std::chrono::duration_cast<std::chrono::milliseconds>(kPollInterval).count() << " ms)\n";
  }
  uint64_t skipped = 0;
  for (const uint64_t k : s.records_skipped) skipped += k;
  if (skipped > 0) {
    out << "  records skipped      " << skipped << " in each epoch (onBadRecord: skip;";
    for (size_t i = 0; i < s.records_skipped.size(); ++i) {
      out << (i == 0 ? " " : ", ") << "worker-" << i << " " << s.records_skipped[i];
    }
    out << "; the first of each in its log)\n";
  }
  if (!s.recoveries.empty() || s.resumed_from_step >= 0) {
    out << "  replayed samples     " << s.samples_replayed
        << " (steps a server already had, recomputed and not applied twice)\n";
    out << "  pushes lost          " << s.pushes_lost << " (";
    for (size_t i = 0; i < s.pushes_lost_per_server.size(); ++i) {
      out << (i == 0 ? "" : ", ") << "ps-" << i << " " << s.pushes_lost_per_server[i];
    }
    out << "; updates a restored shard missed)\n";
  }
  const auto& excluded = s.workers_excluded_per_server;
  if (std::any_of(excluded.begin(), excluded.end(), [](uint64_t n) { return n > 0; })) {
    out << "  silent workers       ";
    for (size_t i = 0; i < excluded.size(); ++i) {
      out << (i == 0 ? "" : "; ") << "ps-" << i << " " << excluded[i] << " excluded, "
          << s.workers_returned_per_server[i] << " back, " << s.steps_missed_per_server[i]
          << " steps missed";
    }
    out << " (sync rounds that went on without them)\n";
  }
  const auto& takeovers = s.takeovers_per_server;
  if (std::any_of(takeovers.begin(), takeovers.end(), [](uint64_t n) { return n > 0; })) {
    out << "  takeovers            ";
    bool first = true;
    for (size_t i = 0; i < takeovers.size(); ++i) {
      if (takeovers[i] == 0) continue;
      out << (first ? "" : "; ") << "ps-" << i << " served ps-"
          << (i + takeovers.size() - 1) % takeovers.size() << "'s shard " << takeovers[i]
          << (takeovers[i] == 1 ? " time, " : " times, ") << s.detours_served_per_server[i]
          << " requests";
      first = false;
    }
    out << " (while it was replaced)\n";
  }
  out << "  dropped messages     " << s.messages_dropped << " (malformed or invalid, at servers)\n";
  if (s.control_events_dropped > 0) {
    out << "  dropped events       " << s.control_events_dropped
        << " (malformed or invalid, at this launcher's control socket";
    if (s.control_events_forged > 0) {
      out << "; " << s.control_events_forged << " about another process than their sender's key";
    }
    out << ")\n";
  }
  if (s.control_connections_refused > 0) {
    out << "  refused connections  " << s.control_connections_refused
        << " (keys not of this job, at this launcher's control socket)\n";
  }
  if (s.authenticated) {
    out << "  authentication       CURVE over loopback TCP, a key pair per process made for this "
           "run; "
        << s.messages_unauthorized << " messages refused at servers (sent with a key not allowed "
        << "to send them)\n";
  } else if (s.private_ipc) {
    out << "  authentication       ipc:// sockets in a directory only this user can enter "
           "(--transport ipc), no encryption needed\n";
  } else {
    out << "  authentication       none (spec.security.authentication: none): plaintext\n";
  }
  if (!s.model_path.empty()) out << "  model                " << s.model_path << " (ONNX)\n";
  if (!s.checkpoint_dir.empty()) {
    out << "  checkpoints          " << s.checkpoint_dir << " (ps-<index>/ per server)";
    if (s.last_checkpoint.has_value()) {
      out << "; last at step " << s.last_checkpoint->step
          << (s.last_checkpoint->final ? ", final" : "");
    }
    out << "\n";
  }
  out << "  logs                 " << s.log_dir << "\n";
}

}  // namespace ringtrain::launch
