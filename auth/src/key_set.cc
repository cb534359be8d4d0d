#include "ringtrain/auth/key_set.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>

#include "ringtrain/common/input_file.h"

namespace ringtrain::auth {
namespace {

constexpr std::string_view kServerPrefix = "ps-";
constexpr std::string_view kWorkerPrefix = "worker-";
constexpr std::string_view kSupervisorName = "supervisor";
constexpr uint64_t kMaxFileBytes = 1 << 20;

std::optional<int> ParseIndex(std::string_view digits) {
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  int value = -1;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || p != digits.data() + digits.size() || value < 0) return std::nullopt;
  return value;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

StatusOr<JobKeys> MakeJobKeys(int num_ps, int num_workers,
                              const std::function<StatusOr<KeyPair>(const Identity&)>& pair_of) {
  if (num_ps < 1 || num_workers < 1) {
    return InvalidArgument("a job has at least one server and one worker");
  }
  JobKeys keys;
  std::vector<Identity> all{Identity::Supervisor()};
  for (int i = 0; i < num_ps; ++i) all.push_back(Identity::Server(i));
  for (int i = 0; i < num_workers; ++i) all.push_back(Identity::Worker(i));
  for (const Identity& id : all) {
    RT_ASSIGN_OR_RETURN(KeyPair pair, pair_of(id));
    RT_RETURN_IF_ERROR(keys.public_keys.Add(id, pair.public_key));
    keys.pairs.emplace(id, std::move(pair));
  }
  return keys;
}

}  // namespace

std::string Name(const Identity& identity) {
  switch (identity.kind) {
    case Identity::Kind::kServer:
      return std::string(kServerPrefix) + std::to_string(identity.index);
    case Identity::Kind::kWorker:
      return std::string(kWorkerPrefix) + std::to_string(identity.index);
    case Identity::Kind::kSupervisor:
      return std::string(kSupervisorName);
  }
  return "?";
}

StatusOr<Identity> ParseIdentity(std::string_view name) {
  if (name == kSupervisorName) return Identity::Supervisor();
  for (auto [prefix, kind] : {std::pair{kServerPrefix, Identity::Kind::kServer},
                              std::pair{kWorkerPrefix, Identity::Kind::kWorker}}) {
    if (name.substr(0, prefix.size()) != prefix) continue;
    if (std::optional<int> index = ParseIndex(name.substr(prefix.size()))) {
      return Identity{kind, *index};
    }
  }
  return InvalidArgument(std::string(name) +
                         " is not an identity (ps-<i>, worker-<i> or supervisor)");
}

Status KeySet::Add(const Identity& identity, std::string_view public_key) {
  RT_RETURN_IF_ERROR(CheckKeyText(public_key, Name(identity) + "'s public key"));
  if (keys_.count(identity) > 0) return InvalidArgument(Name(identity) + " has two keys");
  if (auto it = identities_.find(public_key); it != identities_.end()) {
    return InvalidArgument(Name(identity) + " has the key of " + Name(it->second));
  }
  keys_.emplace(identity, std::string(public_key));
  identities_.emplace(std::string(public_key), identity);
  return Status::Ok();
}

std::optional<Identity> KeySet::Find(std::string_view public_key) const {
  if (auto it = identities_.find(public_key); it != identities_.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string> KeySet::KeyOf(const Identity& identity) const {
  if (auto it = keys_.find(identity); it != keys_.end()) return it->second;
  return std::nullopt;
}

Status KeySet::CheckCovers(int num_ps, int num_workers) const {
  if (!KeyOf(Identity::Supervisor())) return InvalidArgument("no key for the supervisor");
  for (int i = 0; i < num_ps; ++i) {
    if (!KeyOf(Identity::Server(i))) return InvalidArgument("no key for ps-" + std::to_string(i));
  }
  for (int i = 0; i < num_workers; ++i) {
    if (!KeyOf(Identity::Worker(i))) {
      return InvalidArgument("no key for worker-" + std::to_string(i));
    }
  }
  for (const auto& [id, key] : keys_) {
    const bool expected = id.kind == Identity::Kind::kSupervisor ||
                          (id.kind == Identity::Kind::kServer && id.index < num_ps) ||
                          (id.kind == Identity::Kind::kWorker && id.index < num_workers);
    if (!expected) {
      return InvalidArgument("a key for " + Name(id) + ", which is not a process of this job (" +
                             std::to_string(num_ps) + " servers, " + std::to_string(num_workers) +
                             " workers)");
    }
  }
  return Status::Ok();
}

std::string FormatKeySet(const KeySet& keys) {
  std::string out = "# ringtrain job public keys (CURVE, Z85): <identity> <key>\n";
  for (const auto& [id, key] : keys.keys()) out += Name(id) + " " + key + "\n";
  return out;
}

StatusOr<KeySet> ParseKeySet(std::string_view text, const std::string& source) {
  KeySet keys;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t end = text.find('\n');
    std::string_view line = Trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty() || line.front() == '#') continue;
    const auto where = [&] { return source + ":" + std::to_string(line_no) + ": "; };
    const size_t space = line.find_first_of(" \t");
    if (space == std::string_view::npos) {
      return InvalidArgument(where() + "expected \"<identity> <public key>\"");
    }
    StatusOr<Identity> id = ParseIdentity(line.substr(0, space));
    if (!id.ok()) return InvalidArgument(where() + id.status().message());
    const std::string_view key = Trim(line.substr(space + 1));
    if (Status s = keys.Add(*id, key); !s.ok()) return InvalidArgument(where() + s.message());
  }
  return keys;
}

StatusOr<KeySet> ReadKeySetFile(const std::string& path) {
  RT_ASSIGN_OR_RETURN(InputFile file, OpenInputFile(path));
  RT_ASSIGN_OR_RETURN(const std::string text, ReadInputFile(file, path, kMaxFileBytes,
                                                            "a public keys file is at most 1 MiB"));
  return ParseKeySet(text, path);
}

StatusOr<JobKeys> NewJobKeys(int num_ps, int num_workers) {
  return MakeJobKeys(num_ps, num_workers, [](const Identity&) { return NewKeyPair(); });
}

StatusOr<JobKeys> DeriveJobKeys(std::string_view master, std::string_view job_id, int num_ps,
                                int num_workers) {
  return MakeJobKeys(num_ps, num_workers,
                     [&](const Identity& id) { return DeriveKeyPair(master, job_id, Name(id)); });
}

}  // namespace ringtrain::auth
