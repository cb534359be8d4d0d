// KeyDirectory: where `ringtrain run` keeps a job's CURVE keys while it runs.
//
// A new directory (mkdtemp, mode 0700: only this user can enter it) holding each process's
// secret key as "<process>.key" (mode 0600; job::SecretKeyFileName) and the job's public keys
// as "public-keys" — the files a pod gets from its Secret and ConfigMap. The directory and its
// files are removed when the KeyDirectory goes away (a launcher killed with SIGKILL leaves it
// behind, still readable by this user only).
//
// Thread-safety: a move-only owner; use from one thread.
#ifndef RINGTRAIN_LAUNCH_KEY_DIRECTORY_H_
#define RINGTRAIN_LAUNCH_KEY_DIRECTORY_H_

#include <string>

#include "ringtrain/auth/key_set.h"
#include "ringtrain/common/status.h"

namespace ringtrain::launch {

class KeyDirectory {
 public:
  // Writes `keys` into a new directory under `parent` (e.g. $TMPDIR).
  static StatusOr<KeyDirectory> Create(const auth::JobKeys& keys, const std::string& parent);
  KeyDirectory(KeyDirectory&& other) noexcept;
  KeyDirectory& operator=(KeyDirectory&& other) noexcept;
  KeyDirectory(const KeyDirectory&) = delete;
  KeyDirectory& operator=(const KeyDirectory&) = delete;
  ~KeyDirectory();

  const std::string& path() const { return path_; }
  std::string public_keys_path() const { return path_ + "/public-keys"; }

 private:
  explicit KeyDirectory(std::string path) : path_(std::move(path)) {}
  std::string path_;  // empty once moved from
};

}  // namespace ringtrain::launch

#endif  // RINGTRAIN_LAUNCH_KEY_DIRECTORY_H_
