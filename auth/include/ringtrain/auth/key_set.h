// A job's public keys: who may speak in the job, and as whom.
//
// Every process of a job has an identity — "ps-<i>", "worker-<i>" — and the job's supervisor
// (the operator, or `ringtrain run`'s launcher) is "supervisor". A KeySet maps each identity to
// its CURVE public key and back. Servers admit a connection only if its key is in the set (the
// ZAP handler, zap_handler.h), and the identity the key maps to, not a field of any message,
// says who is speaking.
//
// The public keys file (the job's ConfigMap in a cluster, a file beside the secret keys
// locally) is text, one identity per line:
//   # comment
//   supervisor <40 Z85 characters>
//   ps-0 <40 Z85 characters>
//   worker-0 <40 Z85 characters>
// Blank lines and lines starting with '#' are ignored. Errors name the source and line:
// "keys:3: worker-x is not an identity (ps-<i>, worker-<i> or supervisor)".
//
// Thread-safety: a value; const methods are safe to call concurrently.
#ifndef RINGTRAIN_AUTH_KEY_SET_H_
#define RINGTRAIN_AUTH_KEY_SET_H_

#include <compare>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ringtrain/auth/keys.h"
#include "ringtrain/common/status.h"

namespace ringtrain::auth {

// Who a key belongs to.
struct Identity {
  enum class Kind { kServer, kWorker, kSupervisor };
  Kind kind = Kind::kSupervisor;
  int index = 0;  // kServer, kWorker: the process's index; 0 for kSupervisor

  static Identity Server(int i) { return {Kind::kServer, i}; }
  static Identity Worker(int i) { return {Kind::kWorker, i}; }
  static Identity Supervisor() { return {Kind::kSupervisor, 0}; }

  auto operator<=>(const Identity&) const = default;
};

// "ps-3", "worker-0", "supervisor".
std::string Name(const Identity& identity);

// The identity a name gives; InvalidArgument for anything else (indices are decimal, without
// leading zeros or a sign, below 2^31).
StatusOr<Identity> ParseIdentity(std::string_view name);

class KeySet {
 public:
  // Adds `identity`'s key. InvalidArgument if the key is not Z85 key text, or the identity or
  // the key is already in the set (one key per process, one process per key).
  [[nodiscard]] Status Add(const Identity& identity, std::string_view public_key);

  // The identity of `public_key`, or nullopt when the key is not in the set.
  std::optional<Identity> Find(std::string_view public_key) const;
  // The public key of `identity`, or nullopt.
  std::optional<std::string> KeyOf(const Identity& identity) const;

  // OK when the set holds exactly the keys of servers 0..num_ps-1, workers 0..num_workers-1
  // and the supervisor; InvalidArgument naming the first missing or unexpected identity.
  [[nodiscard]] Status CheckCovers(int num_ps, int num_workers) const;

  size_t size() const { return keys_.size(); }
  const std::map<Identity, std::string>& keys() const { return keys_; }

  bool operator==(const KeySet&) const = default;

 private:
  std::map<Identity, std::string> keys_;
  std::map<std::string, Identity, std::less<>> identities_;
};

// The public keys file of `keys` (see the top), in identity order.
std::string FormatKeySet(const KeySet& keys);

// Parses a public keys file; `source` names it in errors. FormatKeySet's output parses back to
// the same set.
StatusOr<KeySet> ParseKeySet(std::string_view text, const std::string& source);

// Reads and parses a public keys file (at most 1 MiB).
StatusOr<KeySet> ReadKeySetFile(const std::string& path);

// The key pairs of every process of a job (servers 0..num_ps-1, workers 0..num_workers-1) and
// of its supervisor.
struct JobKeys {
  KeySet public_keys;
  std::map<Identity, KeyPair> pairs;
};

// Random keys (`ringtrain run`).
StatusOr<JobKeys> NewJobKeys(int num_ps, int num_workers);

// Keys derived from `master` for job `job_id` (the operator; see DeriveKeyPair).
StatusOr<JobKeys> DeriveJobKeys(std::string_view master, std::string_view job_id, int num_ps,
                                int num_workers);

}  // namespace ringtrain::auth

#endif  // RINGTRAIN_AUTH_KEY_SET_H_
