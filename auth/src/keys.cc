#include "ringtrain/auth/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "ringtrain/common/input_file.h"

namespace ringtrain::auth {
namespace {

constexpr size_t kKeyBytes = 32;
// Domain separation of DeriveKeyPair's hash: another use of the same master never gives these.
constexpr std::string_view kDerivationContext = "ringtrain CURVE key v1";

Status Init() {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  return Status::Ok();
}

StatusOr<std::string> Encode(const std::array<uint8_t, kKeyBytes>& bytes) {
  std::array<char, kKeyTextLength + 1> text{};
  if (zmq_z85_encode(text.data(), bytes.data(), bytes.size()) == nullptr) {
    return Internal("Z85 encoding failed");
  }
  return std::string(text.data(), kKeyTextLength);
}

StatusOr<std::array<uint8_t, kKeyBytes>> Decode(std::string_view text, std::string_view what) {
  RT_RETURN_IF_ERROR(CheckKeyText(text, what));
  const std::string terminated(text);
  std::array<uint8_t, kKeyBytes> bytes{};
  if (zmq_z85_decode(bytes.data(), terminated.c_str()) == nullptr) {
    return InvalidArgument(std::string(what) + ": not valid Z85 text");
  }
  return bytes;
}

StatusOr<KeyPair> PairFromSecretBytes(std::array<uint8_t, kKeyBytes> secret) {
  std::array<uint8_t, kKeyBytes> pub{};
  if (crypto_scalarmult_base(pub.data(), secret.data()) != 0) {
    sodium_memzero(secret.data(), secret.size());
    return Internal("computing a public key failed");
  }
  KeyPair pair;
  StatusOr<std::string> s = Encode(secret);
  sodium_memzero(secret.data(), secret.size());
  RT_RETURN_IF_ERROR(s.status());
  RT_ASSIGN_OR_RETURN(pair.public_key, Encode(pub));
  pair.secret_key = std::move(s).value();
  return pair;
}

}  // namespace

Status CheckKeyText(std::string_view text, std::string_view what) {
  if (text.size() != kKeyTextLength) {
    return InvalidArgument(std::string(what) + ": a key is " + std::to_string(kKeyTextLength) +
                           " Z85 characters, got " + std::to_string(text.size()) + " bytes");
  }
  static constexpr std::string_view kZ85 =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  for (size_t i = 0; i < text.size(); ++i) {
    if (kZ85.find(text[i]) == std::string_view::npos) {
      return InvalidArgument(std::string(what) + ": character " + std::to_string(i + 1) +
                             " is not a Z85 character");
    }
  }
  // Each group of 5 characters encodes 4 bytes: its value must fit in 32 bits.
  for (size_t g = 0; g < text.size(); g += 5) {
    uint64_t value = 0;
    for (size_t i = g; i < g + 5; ++i) value = value * 85 + kZ85.find(text[i]);
    if (value > 0xffffffffULL) {
      return InvalidArgument(std::string(what) + ": characters " + std::to_string(g + 1) + "-" +
                             std::to_string(g + 5) + " are not valid Z85 (value above 2^32)");
    }
  }
  return Status::Ok();
}

StatusOr<KeyPair> NewKeyPair() {
  RT_RETURN_IF_ERROR(Init());
  std::array<uint8_t, kKeyBytes> secret{};
  randombytes_buf(secret.data(), secret.size());
  return PairFromSecretBytes(secret);
}

StatusOr<KeyPair> KeyPairFromSecret(std::string_view secret_z85) {
  RT_RETURN_IF_ERROR(Init());
  RT_ASSIGN_OR_RETURN(auto secret, Decode(secret_z85, "secret key"));
  return PairFromSecretBytes(secret);
}

StatusOr<KeyPair> DeriveKeyPair(std::string_view master, std::string_view job_id,
                                std::string_view identity) {
  RT_RETURN_IF_ERROR(Init());
  if (master.size() < kKeyBytes) {
    return InvalidArgument("the master secret must be at least 32 bytes, got " +
                           std::to_string(master.size()));
  }
  if (master.size() > crypto_generichash_KEYBYTES_MAX) {
    return InvalidArgument("the master secret must be at most " +
                           std::to_string(crypto_generichash_KEYBYTES_MAX) + " bytes, got " +
                           std::to_string(master.size()));
  }
  if (job_id.empty()) return InvalidArgument("deriving a key needs the job's id");
  // context NUL job NUL identity: no two (job, identity) pairs give the same input.
  std::string input(kDerivationContext);
  input.push_back('\0');
  input.append(job_id);
  input.push_back('\0');
  input.append(identity);
  std::array<uint8_t, kKeyBytes> secret{};
  crypto_generichash_state state;
  if (crypto_generichash_init(&state, reinterpret_cast<const unsigned char*>(master.data()),
                              master.size(), secret.size()) != 0 ||
      crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size()) != 0 ||
      crypto_generichash_final(&state, secret.data(), secret.size()) != 0) {
    return Internal("deriving a key failed");
  }
  return PairFromSecretBytes(secret);
}

StatusOr<std::string> NewMasterSecret() {
  RT_ASSIGN_OR_RETURN(KeyPair pair, NewKeyPair());
  return pair.secret_key;
}

namespace {

// The bytes of a small private file (at most `max` bytes, `what` says of what; no permission
// for others).
StatusOr<std::string> ReadPrivateFile(const std::string& path, size_t max,
                                      const std::string& what) {
  RT_ASSIGN_OR_RETURN(InputFile file, OpenInputFile(path));
  struct stat st {};
  if (fstat(file.fd(), &st) != 0) {
    return FailedPrecondition(path + ": cannot stat: " + std::strerror(errno));
  }
  if ((st.st_mode & 007) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return FailedPrecondition(path +
                              ": a secret's file must give others no permission (e.g. "
                              "mode 0600, 0440 or 0400), it is " +
                              mode);
  }
  return ReadInputFile(file, path, max, what);
}

}  // namespace

StatusOr<std::string> ReadMasterSecretFile(const std::string& path) {
  constexpr size_t kMax = 64;
  RT_ASSIGN_OR_RETURN(std::string text,
                      ReadPrivateFile(path, kMax + 2, "a master secret is 32 to 64 bytes"));
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.size() < kKeyBytes || text.size() > kMax) {
    return InvalidArgument(path + ": a master secret is 32 to 64 bytes, got " +
                           std::to_string(text.size()));
  }
  return text;
}

StatusOr<KeyPair> ReadSecretKeyFile(const std::string& path) {
  constexpr size_t kMax = kKeyTextLength + 1;
  RT_ASSIGN_OR_RETURN(std::string text,
                      ReadPrivateFile(path, kMax,
                                      "a secret key file holds " + std::to_string(kKeyTextLength) +
                                          " Z85 characters and a newline at most"));
  if (!text.empty() && text.back() == '\n') text.pop_back();
  StatusOr<KeyPair> pair = KeyPairFromSecret(text);
  sodium_memzero(text.data(), text.size());
  if (!pair.ok()) return InvalidArgument(path + ": " + pair.status().message());
  return pair;
}

Status WriteSecretKeyFile(const std::string& path, std::string_view secret_z85) {
  RT_RETURN_IF_ERROR(CheckKeyText(secret_z85, path));
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExists(path + ": exists");
    return FailedPrecondition(path + ": cannot create: " + std::strerror(errno));
  }
  std::string text(secret_z85);
  text.push_back('\n');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return FailedPrecondition(path + ": cannot write: " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  sodium_memzero(text.data(), text.size());
  if (close(fd) != 0) return FailedPrecondition(path + ": cannot write: " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace ringtrain::auth
