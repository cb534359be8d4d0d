#include "ringtrain/launch/key_directory.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <utility>

#include "ringtrain/auth/keys.h"

namespace ringtrain::launch {

StatusOr<KeyDirectory> KeyDirectory::Create(const auth::JobKeys& keys, const std::string& parent) {
  std::string pattern = parent + "/ringtrain-keys-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Unavailable("cannot create a directory for the job's keys from " + pattern);
  }
  KeyDirectory dir(pattern);
  for (const auto& [id, pair] : keys.pairs) {
    if (id.kind == auth::Identity::Kind::kSupervisor) continue;  // the launcher keeps its own
    RT_RETURN_IF_ERROR(
        auth::WriteSecretKeyFile(dir.path_ + "/" + auth::Name(id) + ".key", pair.secret_key));
  }
  std::ofstream out(dir.public_keys_path());
  out << auth::FormatKeySet(keys.public_keys);
  out.close();
  if (!out) return Unavailable("cannot write " + dir.public_keys_path());
  return dir;
}

KeyDirectory::KeyDirectory(KeyDirectory&& other) noexcept
    : path_(std::exchange(other.path_, std::string())) {}

KeyDirectory& KeyDirectory::operator=(KeyDirectory&& other) noexcept {
  if (this != &other) {
    KeyDirectory old(std::move(*this));
    path_ = std::exchange(other.path_, std::string());
  }
  return *this;
}

KeyDirectory::~KeyDirectory() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // best effort
}

}  // namespace ringtrain::launch
