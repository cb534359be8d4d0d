#include "ringtrain/operator/informer.h"

#include <utility>

#include "ringtrain/common/check.h"

namespace ringtrain::op {

namespace {

std::string ResourceVersionOf(const nlohmann::json& object) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  const auto rv = meta->find("resourceVersion");
  return rv != meta->end() && rv->is_string() ? rv->get<std::string>() : "";
}

}  // namespace

std::string ObjectKey(const nlohmann::json& object) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  const std::string name = meta->value("name", "");
  const std::string ns = meta->value("namespace", "");
  return ns.empty() ? name : ns + "/" + name;
}

std::string ControllerUid(const nlohmann::json& object) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  const auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return "";
  for (const auto& ref : *refs) {
    if (ref.is_object() && ref.value("controller", false)) return ref.value("uid", "");
  }
  return "";
}

Informer::Informer(kube::KubeClient& client, InformerOptions options, Handler handler)
    : client_(client), options_(std::move(options)), handler_(std::move(handler)) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  RT_CHECK(!thread_.joinable());
  thread_ = std::thread([this] { Loop(); });
}

void Informer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return synced_; });
}

ObjectPtr Informer::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, object] : items_) out.push_back(object);
  return out;
}

std::vector<ObjectPtr> Informer::ByIndex(const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  auto it = index_.find(value);
  if (it == index_.end()) return out;
  for (const std::string& key : it->second) out.push_back(items_.at(key));
  return out;
}

InformerStats Informer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  InformerStats s = stats_;
  s.objects = items_.size();
  return s;
}

void Informer::PutLocked(const std::string& key, ObjectPtr object) {
  EraseLocked(key);
  if (options_.index) {
    std::vector<std::string> values = options_.index(*object);
    for (const std::string& v : values) index_[v].insert(key);
    filed_[key] = std::move(values);
  }
  items_[key] = std::move(object);
}

void Informer::EraseLocked(const std::string& key) {
  items_.erase(key);
  auto it = filed_.find(key);
  if (it == filed_.end()) return;
  for (const std::string& v : it->second) {
    auto idx = index_.find(v);
    if (idx == index_.end()) continue;
    idx->second.erase(key);
    if (idx->second.empty()) index_.erase(idx);
  }
  filed_.erase(it);
}

bool Informer::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

Status Informer::Relist(std::string& resource_version) {
  kube::ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  StatusOr<nlohmann::json> list = client_.List(options_.resource, options_.ns, list_options);
  if (!list.ok()) return list.status();
  std::map<std::string, ObjectPtr> fresh;
  if (auto items = list->find("items"); items != list->end() && items->is_array()) {
    for (auto& item : *items) {
      auto object = std::make_shared<const nlohmann::json>(std::move(item));
      fresh[ObjectKey(*object)] = std::move(object);
    }
  }
  resource_version = list->value("metadata", nlohmann::json::object()).value("resourceVersion", "");
  // What changed since the cache was last true, reported after the swap.
  std::vector<std::pair<std::string, ObjectPtr>> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, object] : items_) {
      if (fresh.count(key) == 0) changes.emplace_back("DELETED", object);
    }
    for (const auto& [key, object] : fresh) {
      auto old = items_.find(key);
      if (old == items_.end()) {
        changes.emplace_back("ADDED", object);
      } else if (ResourceVersionOf(*old->second) != ResourceVersionOf(*object)) {
        changes.emplace_back("MODIFIED", object);
      }
    }
    for (const auto& change : changes) {
      if (change.first == "DELETED") EraseLocked(ObjectKey(*change.second));
    }
    for (auto& [key, object] : fresh) PutLocked(key, std::move(object));
    ++stats_.lists;
    stats_.events += changes.size();
    synced_ = true;
  }
  cv_.notify_all();
  for (const auto& [type, object] : changes) handler_(type, object);
  return Status::Ok();
}

void Informer::Apply(const std::string& type, ObjectPtr object) {
  const std::string key = ObjectKey(*object);
  ObjectPtr reported = object;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (type == "DELETED") {
      auto it = items_.find(key);
      if (it == items_.end()) return;  // never seen (or already relisted away)
      EraseLocked(key);
    } else {
      PutLocked(key, std::move(object));
    }
    ++stats_.events;
  }
  handler_(type, reported);
}

Status Informer::WatchFrom(std::string& resource_version) {
  kube::WatchOptions watch_options;
  watch_options.resource_version = resource_version;
  watch_options.label_selector = options_.label_selector;
  watch_options.server_timeout = options_.watch_timeout;
  watch_options.allow_bookmarks = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.watches;
  }
  return client_.Watch(
      options_.resource, options_.ns, watch_options,
      [&](const kube::WatchEvent& event) {
        const std::string rv = ResourceVersionOf(event.object);
        if (!rv.empty()) resource_version = rv;
        if (event.type != "BOOKMARK") {
          Apply(event.type, std::make_shared<const nlohmann::json>(event.object));
        }
        return !stop_.load();
      },
      stop_);
}

void Informer::Loop() {
  int failures = 0;
  std::string resource_version;
  bool need_list = true;
  while (!stop_) {
    const bool watching = !need_list;
    const auto started = std::chrono::steady_clock::now();
    const Status s = need_list ? Relist(resource_version) : WatchFrom(resource_version);
    if (stop_) break;
    if (s.ok()) {
      failures = 0;
      need_list = false;  // listed: watch; the server ended a watch: watch again from there
      // A watch ended at once (a proxy closing every stream) must not become a hot loop.
      if (watching && std::chrono::steady_clock::now() - started < std::chrono::seconds(1) &&
          !SleepFor(std::chrono::seconds(1))) {
        break;
      }
      continue;
    }
    if (s.code() == StatusCode::kOutOfRange) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.gone;  // 410 Gone: the resume point was compacted away; relist at once
      need_list = true;
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.errors;
    }
    // A watch that cannot resume keeps its resourceVersion (a relist follows if it is gone);
    // a failed list is retried as a list.
    if (resource_version.empty()) need_list = true;
    if (!SleepFor(BackoffDelay(options_.backoff, failures++))) break;
  }
}

}  // namespace ringtrain::op
