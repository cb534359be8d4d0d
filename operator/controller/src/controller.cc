#include "ringtrain/operator/controller.h"

#include <set>
#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/operator/api_convert.h"
#include "ringtrain/operator/executor.h"
#include "ringtrain/operator/names.h"
#include "ringtrain/operator/planner.h"

namespace ringtrain::op {

namespace {

using std::chrono::milliseconds;

// The key of the TrainingJob that controls `object`, or "" if none does.
std::string OwnerJobKey(const nlohmann::json& object) {
  const auto& meta = object.value("metadata", nlohmann::json::object());
  for (const auto& ref : meta.value("ownerReferences", nlohmann::json::array())) {
    if (ref.is_object() && ref.value("controller", false) && ref.value("kind", "") == job::kKind &&
        ref.value("apiVersion", "") == job::kApiVersion) {
      return meta.value("namespace", "") + "/" + ref.value("name", "");
    }
  }
  return "";
}

std::string Label(const nlohmann::json& object, const char* key) {
  const auto& labels =
      object.value("metadata", nlohmann::json::object()).value("labels", nlohmann::json::object());
  auto it = labels.find(key);
  return it != labels.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string Name(const nlohmann::json& object) {
  return object.value("metadata", nlohmann::json::object()).value("name", "");
}

}  // namespace

Controller::Controller(kube::KubeClient& client, ControllerOptions options)
    : client_(client),
      options_(std::move(options)),
      queue_(options_.backoff),
      expectations_(options_.expectation_timeout) {
  RT_CHECK(options_.workers >= 1);
  InformerOptions jobs;
  jobs.resource = kube::TrainingJobs();
  jobs.ns = options_.ns;
  jobs.watch_timeout = options_.watch_timeout;
  jobs_ = std::make_unique<Informer>(client_, jobs,
                                     [this](const std::string&, const ObjectPtr& o) { OnJob(o); });
  auto owned = [this](const kube::Resource& r) {
    InformerOptions o;
    o.resource = r;
    o.ns = options_.ns;
    o.label_selector = std::string(kLabelManagedBy) + "=" + kManagedBy;
    o.watch_timeout = options_.watch_timeout;
    o.index = [](const nlohmann::json& object) {
      const std::string uid = ControllerUid(object);
      return uid.empty() ? std::vector<std::string>{} : std::vector<std::string>{uid};
    };
    return std::make_unique<Informer>(
        client_, o, [this](const std::string&, const ObjectPtr& obj) { OnOwned(obj); });
  };
  pods_ = owned(kube::Pods());
  services_ = owned(kube::Services());
  config_maps_ = owned(kube::ConfigMaps());
  if (options_.progress_source != nullptr) {
    ProgressPollerOptions poll;
    poll.source = options_.progress_source;
    poll.interval = options_.progress_interval;
    poll.timeout = options_.progress_timeout;
    poll.clock = options_.clock;
    poller_ = std::make_unique<ProgressPoller>(
        poll, [this] { return ProgressTargets(); },
        [this](const std::string& key) { queue_.Add(key); });
  }
}

Controller::~Controller() { Stop(); }

void Controller::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void Controller::OnJob(const ObjectPtr& object) {
  const std::string key = ObjectKey(*object);
  if (!key.empty()) queue_.Add(key);
}

void Controller::OnOwned(const ObjectPtr& object) {
  const std::string key = OwnerJobKey(*object);
  if (!key.empty()) queue_.Add(key);
}

Status Controller::Start(milliseconds sync_timeout) {
  for (Informer* informer : {jobs_.get(), pods_.get(), services_.get(), config_maps_.get()}) {
    informer->Start();
  }
  const auto deadline = std::chrono::steady_clock::now() + sync_timeout;
  for (Informer* informer : {jobs_.get(), pods_.get(), services_.get(), config_maps_.get()}) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!informer->WaitForSync(std::max(left, milliseconds(0)))) {
      return DeadlineExceeded("the " + informer->resource().plural + " cache did not fill within " +
                              std::to_string(sync_timeout.count()) + " ms (listing failed)");
    }
  }
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Work(); });
  if (poller_ != nullptr) poller_->Start();
  return Status::Ok();
}

void Controller::Stop() {
  stop_ = true;
  if (poller_ != nullptr) poller_->Stop();
  queue_.ShutDown();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
  for (Informer* informer : {jobs_.get(), pods_.get(), services_.get(), config_maps_.get()}) {
    informer->Stop();
  }
}

void Controller::Work() {
  while (!stop_) {
    std::optional<std::string> key = queue_.Get(milliseconds(500));
    if (!key) continue;
    const Status s = Reconcile(*key);
    if (s.ok()) {
      queue_.Forget(*key);
    } else {
      // A conflict is the ordinary race with our own last write (the cache has not seen it
      // yet): retried quickly and not worth a line. Everything else is.
      if (s.code() == StatusCode::kAborted) {
        ++conflicts_;
      } else {
        Log("reconcile " + *key + ": " + s.ToString() + " (retrying, attempt " +
            std::to_string(queue_.Failures(*key) + 1) + ")");
      }
      ++errors_;
      queue_.AddRateLimited(*key);
    }
    queue_.Done(*key);
  }
}

ProgressRound Controller::ProgressTargets() const {
  ProgressRound round;
  for (const ObjectPtr& job : jobs_->List()) {
    const auto& status = job->value("status", nlohmann::json::object());
    if (!status.is_object() || status.value("phase", "") != kRunning) continue;
    const std::string key = ObjectKey(*job);
    round.running.insert(key);
    const std::string uid = (*job)["metadata"].value("uid", "");
    const auto& spec = job->value("spec", nlohmann::json::object());
    // authentication: curve unless the spec says none (the CRD's default).
    const nlohmann::json security =
        spec.is_object() ? spec.value("security", nlohmann::json::object()) : nlohmann::json();
    const bool curve = !(security.is_object() && security.value("authentication", "") ==
                                                     job::Name(job::Authentication::kNone));
    bool worker0_seen = false;
    for (const ObjectPtr& pod : pods_->ByIndex(uid)) {
      std::optional<PodView> p = PodViewFromObject(*pod);
      if (!p) continue;
      const bool server = p->role == job::Role::kParameterServer;
      // Servers answer their last checkpoint and the workers they wait for.
      if (!server && (p->index != 0 || worker0_seen)) continue;
      if (!server) worker0_seen = true;  // the first worker 0 pod only
      if (p->phase != "Running" || p->ip.empty()) continue;
      const std::string host = p->ip.find(':') == std::string::npos ? p->ip : "[" + p->ip + "]";
      const int port = server ? options_.resources.ps_status_port : options_.resources.status_port;
      PeerAuth auth;
      if (curve) {
        if (options_.resources.keys == nullptr) continue;
        StatusOr<PeerAuth> peer =
            options_.resources.keys->Peer(uid, job::ProcessName(p->role, p->index));
        if (!peer.ok()) continue;  // not askable; its status stays as it was
        auth = *peer;
      }
      round.targets.push_back({key, Name(*job), "tcp://" + host + ":" + std::to_string(port),
                               server ? p->index : -1, std::move(auth)});
    }
  }
  return round;
}

Status Controller::Reconcile(const std::string& key) {
  const auto started = std::chrono::steady_clock::now();
  ++reconciles_;
  struct Timer {
    std::atomic<uint64_t>& total;
    std::chrono::steady_clock::time_point start;
    ~Timer() {
      total += std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count();
    }
  } timer{reconcile_micros_, started};

  ObjectPtr object = jobs_->Get(key);
  if (object == nullptr) {
    expectations_.Forget(key);
    return Status::Ok();
  }
  const JobView view = JobViewFromObject(*object);
  const Expectations::Lookup lookup = [this](const std::string& job_uid, const ObjectRef& ref) {
    return Lookup(job_uid, ref);
  };
  switch (expectations_.Check(key, view.uid, view.resource_version, lookup)) {
    case Expectations::Verdict::kProceed:
      break;
    case Expectations::Verdict::kWait:
      ++waits_;
      // The informer events that meet it queue the key again; this is the fallback.
      queue_.AddAfter(key, milliseconds(1000));
      return Status::Ok();
    case Expectations::Verdict::kExpired:
      ++expired_;
      Log("job " + key + ": the caches did not show the last writes within " +
          std::to_string(options_.expectation_timeout.count()) + " s; reconciling anyway");
      break;
  }

  OwnedObjects owned;
  std::optional<job::TrainingJob> running_job;
  for (const ObjectPtr& cm : config_maps_->ByIndex(view.uid)) {
    if (Name(*cm) != ConfigMapName(view.name)) continue;
    owned.config_map = true;
    owned.config_map_hash = Label(*cm, kLabelSpecHash);
    owned.config_map_uid = (*cm)["metadata"].value("uid", "");
    running_job = JobFromConfigMap(*cm);
  }
  for (const ObjectPtr& svc : services_->ByIndex(view.uid)) {
    const std::string name = Name(*svc);
    if (name == ServiceName(view.name, job::Role::kParameterServer)) owned.ps_service = true;
    if (name == ServiceName(view.name, job::Role::kWorker)) owned.worker_service = true;
  }
  for (const ObjectPtr& pod : pods_->ByIndex(view.uid)) {
    if (std::optional<PodView> p = PodViewFromObject(*pod)) owned.pods.push_back(std::move(*p));
  }

  if (poller_ != nullptr) {
    owned.progress = poller_->Latest(key);
    owned.server_checkpoints = poller_->LatestCheckpoints(key);
    owned.servers_waiting_for = poller_->LatestWaitingFor(key);
  }

  const Time now = options_.clock();
  const Plan plan = PlanReconcile(view, running_job, owned, options_.resources, now);
  ExecuteResult result = Execute(client_, view, plan, now, options_.shard_control);
  if (result.takeovers > 0) {
    Log("job " + key + ": a lost server's successor serves its shard until the new pod is up");
  }
  created_ += result.created;
  deleted_ += result.deleted;
  // Expectations cover what was done even when a later action failed: the retry must not
  // plan from a cache older than these writes.
  if (result.status_written || !result.created_objects.empty() || !result.deleted_objects.empty()) {
    Expectation e;
    e.job_uid = view.uid;
    // A write the server found to change nothing leaves the version as it was: nothing to
    // wait for then.
    if (result.status_written && result.status_resource_version != view.resource_version) {
      e.job_resource_version = view.resource_version;
    }
    e.present = std::move(result.created_objects);
    e.absent = std::move(result.deleted_objects);
    expectations_.Expect(key, std::move(e));
  }
  if (!result.ok()) return result.status;
  if (result.status_written && plan.status.phase != view.status.phase) {
    Log("job " + key + ": " + (view.status.phase.empty() ? "new" : view.status.phase) + " -> " +
        plan.status.phase);
  }
  if (plan.requeue_after) {
    queue_.AddAfter(key, std::chrono::duration_cast<milliseconds>(*plan.requeue_after));
  }
  return Status::Ok();
}

const Informer* Controller::InformerFor(const std::string& plural) const {
  if (plural == kube::Pods().plural) return pods_.get();
  if (plural == kube::Services().plural) return services_.get();
  if (plural == kube::ConfigMaps().plural) return config_maps_.get();
  return nullptr;
}

Cached Controller::Lookup(const std::string& job_uid, const ObjectRef& ref) const {
  const Informer* informer = InformerFor(ref.plural);
  if (informer == nullptr) return Cached::kUntracked;
  for (const ObjectPtr& o : informer->ByIndex(job_uid)) {
    const auto& meta = (*o)["metadata"];
    if (meta.value("uid", "") != ref.uid) continue;
    return meta.contains("deletionTimestamp") ? Cached::kDeleting : Cached::kPresent;
  }
  return Cached::kAbsent;
}

ControllerStats Controller::stats() const {
  ControllerStats s;
  s.reconciles = reconciles_;
  s.errors = errors_;
  s.conflicts = conflicts_;
  s.waits = waits_;
  s.expired = expired_;
  if (poller_ != nullptr) {
    s.progress_polls = poller_->polls();
    s.progress_errors = poller_->errors();
  }
  s.reconcile_seconds = static_cast<double>(reconcile_micros_.load()) / 1e6;
  s.created = created_;
  s.deleted = deleted_;
  s.queue_length = queue_.Length();
  for (const Informer* informer : {jobs_.get(), pods_.get(), services_.get(), config_maps_.get()}) {
    s.informers.emplace_back(informer->resource().plural, informer->stats());
  }
  return s;
}

std::map<std::string, int> Controller::JobsByPhase() const {
  std::map<std::string, int> phases;
  for (const ObjectPtr& job : jobs_->List()) {
    const auto& status = job->value("status", nlohmann::json::object());
    phases[status.is_object() ? status.value("phase", "") : ""] += 1;
  }
  return phases;
}

}  // namespace ringtrain::op
