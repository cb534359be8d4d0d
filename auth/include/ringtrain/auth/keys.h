// CURVE key pairs: what each process of a job proves itself with.
//
// A key pair is Curve25519, as ZeroMQ's CURVE mechanism uses it; both halves are kept as Z85
// text (40 characters for 32 bytes), the form libzmq's socket options and our files take.
//
// Keys come from one of two places:
//   - NewKeyPair(): random (libsodium), for a job started by `ringtrain run`;
//   - DeriveKeyPair(master, job, identity): a pure function of a master secret, the job's
//     unique id and the process's identity (keyed BLAKE2b, libsodium's crypto_generichash), for
//     the operator: it can compute a job's keys again after a restart without ever reading the
//     Secret it stored them in (it may create Secrets, never get them).
//
// Secret key files hold the 40 Z85 characters, optionally followed by one newline; nothing
// else is accepted. ReadSecretKeyFile refuses a file that users other than its owner and group
// may access (any "other" permission bit: the operator mounts a pod's key with mode 0400, a
// pod with an fsGroup makes it 0440; `ringtrain run` writes 0600).
//
// Errors: InvalidArgument naming what is wrong ("<path>: a secret key is 40 Z85 characters,
// got 12 bytes"); files as common/input_file.h.
//
// Thread-safety: pure functions; libsodium is initialised on first use (sodium_init is
// thread-safe).
#ifndef RINGTRAIN_AUTH_KEYS_H_
#define RINGTRAIN_AUTH_KEYS_H_

#include <string>
#include <string_view>

#include "ringtrain/common/status.h"

namespace ringtrain::auth {

// Characters of a Z85-encoded 32-byte key.
inline constexpr size_t kKeyTextLength = 40;

struct KeyPair {
  std::string public_key;  // Z85, kKeyTextLength characters
  std::string secret_key;  // Z85, kKeyTextLength characters

  bool operator==(const KeyPair&) const = default;
};

// OK when `text` is a Z85-encoded 32-byte key; InvalidArgument naming `what` otherwise.
[[nodiscard]] Status CheckKeyText(std::string_view text, std::string_view what);

// A fresh random key pair.
StatusOr<KeyPair> NewKeyPair();

// The pair whose secret half is `secret_z85`.
StatusOr<KeyPair> KeyPairFromSecret(std::string_view secret_z85);

// The pair of `identity` in job `job_id`, derived from `master` (at least 32 bytes of secret):
// the same arguments always give the same pair, and different jobs or identities unrelated
// ones. InvalidArgument for a master shorter than 32 bytes or an empty job id.
StatusOr<KeyPair> DeriveKeyPair(std::string_view master, std::string_view job_id,
                                std::string_view identity);

// A fresh random master secret for DeriveKeyPair, as 40 Z85 characters.
StatusOr<std::string> NewMasterSecret();

// Reads a secret key file (see the top) and returns its pair.
StatusOr<KeyPair> ReadSecretKeyFile(const std::string& path);

// Reads a master secret for DeriveKeyPair: the file's bytes without trailing whitespace, 32 to
// 64 of them (40 Z85 characters from NewMasterSecret, or any random text); the file must give
// others no permission, as a secret key file.
StatusOr<std::string> ReadMasterSecretFile(const std::string& path);

// Writes `secret_z85` to a new file `path` (mode 0600; AlreadyExists if it exists).
[[nodiscard]] Status WriteSecretKeyFile(const std::string& path, std::string_view secret_z85);

}  // namespace ringtrain::auth

#endif  // RINGTRAIN_AUTH_KEYS_H_
